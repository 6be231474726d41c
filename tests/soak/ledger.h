// The soak's ledger of what was attempted and acknowledged, and its counters:
// one file mapped MAP_SHARED by the soak and by every writer process it
// spawns, so a SIGKILLed writer's last entries survive it (they live in the
// page cache, not in the dead process) and the final check sees every
// process's writes.
//
// Element values of the shared datasets encode (sequence number, element):
// encode(seq, flat) = seq << 20 | (flat + 1); 0 is the fill value ("never
// written"). Every box has one owner, and its owner gives each write of the
// box the next sequence number of that box, so the value an element must
// hold is determined by its box's slot: `acked` = the last sequence number
// whose write returned, `attempted` = the last one started. A write that
// failed (or was killed) may or may not have landed, so an element is right
// iff it holds a value of its own element with acked <= seq <= attempted
// (seq = 0, the fill, only while acked = 0).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

namespace dosna::soak {

inline constexpr int kMaxStores = 4;  // ram, hdf5, ceph, s3 (index = position in kStoreKinds)
inline constexpr const char* kStoreKinds[kMaxStores] = {"ram", "hdf5", "ceph", "s3"};
inline constexpr std::size_t kMaxBoxes = 16384;
inline constexpr int kMaxChildren = 16;
inline constexpr int kFlatBits = 20;
inline constexpr int kIoCodes = 1024;  // IoError codes >= this share the last bucket

inline std::int64_t encode(std::uint64_t seq, std::int64_t flat) {
  return static_cast<std::int64_t>(seq << kFlatBits) | (flat + 1);
}
inline std::uint64_t seq_of(std::int64_t v) { return static_cast<std::uint64_t>(v) >> kFlatBits; }
inline std::int64_t flat_of(std::int64_t v) { return (v & ((std::int64_t{1} << kFlatBits) - 1)) - 1; }

// Operation kinds, counted per store.
// kOpen: connect + get_dataset of a worker (again after a failure).
enum Op : int { kWrite, kRead, kCreate, kDelete, kCopy, kList, kOpen, kProbe, kOpCount };
const char* op_name(int op);

// Failure kinds: the dosna error tree (errors.h), most derived first, then
// kUntyped for anything that is not a dosna::Error (a defect of the library).
enum ErrorKind : int {
  kDatasetNotFound,
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kIndexOutOfRange,
  kNotBuilt,
  kNotSupported,
  kConnectionError,
  kPermissionDenied,
  kIoError,
  kOtherDosna,
  kUntyped,
  kErrorKindCount
};
const char* error_kind_name(int kind);

struct BoxSlot {
  std::atomic<std::uint64_t> attempted{0};
  std::atomic<std::uint64_t> acked{0};
};

struct StoreCounters {
  std::atomic<std::uint64_t> ok[kOpCount];
  std::atomic<std::uint64_t> failed[kOpCount];
  std::atomic<std::uint64_t> errors[kErrorKindCount];
  std::atomic<std::uint64_t> io_codes[kIoCodes];  // IoError::code() histogram
  std::atomic<std::uint64_t> violations;          // wrong data seen while running
  std::atomic<int> sample_taken[kErrorKindCount];
  char sample[kErrorKindCount][240];              // first message of each kind
  std::atomic<int> io_sample_code[8];             // IoError code + 1 of each io_sample
  char io_sample[8][240];                         // first message of the first 8 codes
  std::atomic<int> violation_taken;
  char violation[480];                            // first violation
};

// One writer process slot (the parent fills pid; the child counts its acks).
struct ChildSlot {
  std::atomic<std::uint64_t> acked_writes{0};
  std::atomic<std::uint64_t> failed_writes{0};
};

struct Shared {
  std::uint64_t magic;
  BoxSlot boxes[kMaxStores][kMaxBoxes];
  StoreCounters stores[kMaxStores];
  ChildSlot children[kMaxChildren];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the ledger needs lock-free 64-bit atomics to be shared between processes");

// The mapped ledger file. create() makes a zeroed one; open() maps an
// existing one (writer processes). Throws std::runtime_error on failure.
class Ledger {
 public:
  static Ledger create(const std::string& path);
  static Ledger open(const std::string& path);
  Ledger(Ledger&& other) noexcept : shared_(other.shared_) { other.shared_ = nullptr; }
  Ledger& operator=(Ledger&&) = delete;
  ~Ledger();
  Shared& operator*() const { return *shared_; }
  Shared* operator->() const { return shared_; }

 private:
  explicit Ledger(Shared* s) : shared_(s) {}
  Shared* shared_;
};

// Counts a failed `op` on a store by the type of `error` and keeps the first
// message of each type. Returns the kind.
ErrorKind record_failure(StoreCounters& c, int op, std::exception_ptr error);
// The kind of an exception (kUntyped for anything outside the dosna tree).
ErrorKind classify(std::exception_ptr error, int* io_code = nullptr);
// Counts wrong data seen on a store and keeps the first description.
void record_violation(StoreCounters& c, const std::string& what);

}  // namespace dosna::soak
