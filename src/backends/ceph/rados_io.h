// The librados transport shared by the ceph backend (ceph_backend.cc) and the
// ceph byte-key store (ceph_kvstore.cc): options, the cluster handle and its
// sessions, aio completions and compound reads, a window of operations in
// flight, pool listing and the errno -> error tree mapping.
#pragma once

#include <rados/librados.h>

#include <ctime>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dosna/backend.h"

namespace dosna::ceph {

constexpr std::size_t kMaxInFlight = 64;

// "No such file or directory (errno 2)" for a negative or positive errno.
std::string errno_text(int rc);

// Maps a negative librados return code to the typed error tree: EACCES/EPERM
// -> PermissionDenied, ENOTCONN/ESHUTDOWN -> ConnectionError, else IoError;
// the message is "<who>: <what>: <errno text>".
[[noreturn]] void throw_rados(int rc, const std::string& what, std::string_view who = "ceph backend");

// The options of a ceph connection (docs: conffile, timeout, client_id,
// op_timeout, conditional_update), parsed for `who` ("ceph backend").
struct CephOptions {
  std::string conffile;
  double timeout = 5;
  std::string client_name = "client.admin";
  double op_timeout = 30;
  // false: partial-chunk writes are a plain read + write_full, safe only
  // between threads of one process (for measuring what the guard costs).
  bool conditional_update = true;
};
CephOptions parse_options(const Options& options, const std::string& who = "ceph backend");

// An open cluster handle and pool context. Closed when the last holder lets
// go: the owner while connected, and every operation in flight.
struct Handles {
  rados_t rados = nullptr;
  rados_ioctx_t io = nullptr;

  Handles() = default;
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  ~Handles();
};

// Connects to the cluster of `options` and opens `pool`. Throws NotFound
// (conffile or pool missing), PermissionDenied, ConnectionError,
// InvalidArgument; messages start with `who`.
std::shared_ptr<Handles> open_pool(const CephOptions& options, const std::string& pool,
                                   const std::string& who = "ceph backend");

// What an owner and its operations share. Dropping `open` (disconnect) never
// waits for operations of other threads: they keep theirs until they end.
struct Cluster {
  mutable std::mutex mutex;  // guards `open` (never held during I/O)
  std::shared_ptr<Handles> open;
  std::string pool;
  std::string who = "ceph backend";
  bool conditional_update = true;

  std::shared_ptr<Handles> current() const {
    std::lock_guard lock(mutex);
    return open;
  }
};

// The handles for one operation; throws ConnectionError once disconnected.
class Session {
 public:
  explicit Session(const Cluster& c);
  rados_ioctx_t io() const { return handles_->io; }

 private:
  std::shared_ptr<Handles> handles_;
};

class Completion {
 public:
  Completion();
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;
  rados_completion_t get() const { return c_; }
  // Waits; the operation's return code.
  int wait();
  // The object version the finished operation saw or made.
  std::uint64_t version() const { return rados_aio_get_version(c_); }

 private:
  rados_completion_t c_ = nullptr;
};

// Calls `fn(name)` for every object of the pool in the default namespace.
void for_each_object(rados_ioctx_t io, const std::string& pool,
                     const std::function<void(std::string_view)>& fn,
                     std::string_view who = "ceph backend");

// One read in flight: stat + read of byte ranges, concatenated into one
// buffer, in a single compound op; optionally asserting the object version.
struct ReadOp {
  Completion completion;
  rados_read_op_t op = rados_create_read_op();
  std::shared_ptr<Buffer> buffer;
  std::uint64_t size = 0;
  std::time_t mtime = 0;
  int stat_rval = 0;
  std::vector<ByteRange> ranges;
  std::unique_ptr<std::size_t[]> bytes_read;
  std::unique_ptr<int[]> read_rval;

  ReadOp() = default;
  ReadOp(const ReadOp&) = delete;
  ReadOp& operator=(const ReadOp&) = delete;
  ~ReadOp() { rados_release_read_op(op); }

  // `assert_version` > 0: the op fails with -ERANGE/-EOVERFLOW unless the
  // object has that version.
  void submit(rados_ioctx_t io, const std::string& oid, std::vector<ByteRange> wanted,
              std::uint64_t assert_version = 0);

  // The bytes, nullptr if the object is absent. The whole object must hold
  // `expected_size` bytes and every range must have been read in full.
  ChunkData finish(const std::string& oid, std::uint64_t expected_size);
};

// Runs `n` asynchronous operations with at most kMaxInFlight outstanding.
// `submit(i)` starts operation i and returns a handle; `finish(i, handle)`
// waits for it. The first failure is rethrown after every started operation
// has completed (buffers handed to librados must outlive it).
template <class Handle, class Submit, class Finish>
void run_windowed(std::size_t n, Submit&& submit, Finish&& finish) {
  std::deque<std::pair<std::size_t, std::unique_ptr<Handle>>> in_flight;
  std::exception_ptr first;
  auto drain_one = [&] {
    auto [i, handle] = std::move(in_flight.front());
    in_flight.pop_front();
    try {
      finish(i, *handle);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  };
  for (std::size_t i = 0; i < n && !first; ++i) {
    if (in_flight.size() >= kMaxInFlight) drain_one();
    if (first) break;
    try {
      in_flight.emplace_back(i, submit(i));
    } catch (...) {
      first = std::current_exception();
    }
  }
  while (!in_flight.empty()) drain_one();
  if (first) std::rethrow_exception(first);
}

}  // namespace dosna::ceph
