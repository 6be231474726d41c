#include "soak/ledger.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include "dosna/errors.h"

namespace dosna::soak {
namespace {

constexpr std::uint64_t kMagic = 0x646f736e61736f6bULL;  // "dosnasok"

Shared* map_file(const std::string& path, bool create) {
  const int fd = ::open(path.c_str(), create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
  if (fd < 0) throw std::runtime_error("ledger " + path + ": " + std::strerror(errno));
  if (create && ::ftruncate(fd, sizeof(Shared)) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error("ledger " + path + ": ftruncate: " + std::strerror(e));
  }
  void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) throw std::runtime_error("ledger " + path + ": mmap: " + std::strerror(e));
  Shared* s = create ? new (p) Shared() : static_cast<Shared*>(p);
  if (create) {
    s->magic = kMagic;
  } else if (s->magic != kMagic) {
    ::munmap(p, sizeof(Shared));
    throw std::runtime_error("ledger " + path + ": not a soak ledger");
  }
  return s;
}

void take_sample(std::atomic<int>& taken, char* dst, std::size_t cap, const std::string& text) {
  int expected = 0;
  if (!taken.compare_exchange_strong(expected, 1)) return;
  const std::size_t n = std::min(cap - 1, text.size());
  std::memcpy(dst, text.data(), n);
  dst[n] = '\0';
}

}  // namespace

const char* op_name(int op) {
  static const char* const names[kOpCount] = {"write", "read", "create", "delete",
                                              "copy",  "list", "open",   "probe"};
  return names[op];
}

const char* error_kind_name(int kind) {
  static const char* const names[kErrorKindCount] = {
      "DatasetNotFound", "NotFound",         "AlreadyExists", "InvalidArgument",
      "IndexOutOfRange", "NotBuilt",         "NotSupported",  "ConnectionError",
      "PermissionDenied", "IoError",         "dosna::Error",  "UNTYPED"};
  return names[kind];
}

Ledger Ledger::create(const std::string& path) { return Ledger(map_file(path, true)); }
Ledger Ledger::open(const std::string& path) { return Ledger(map_file(path, false)); }
Ledger::~Ledger() {
  if (shared_) ::munmap(shared_, sizeof(Shared));
}

ErrorKind classify(std::exception_ptr error, int* io_code) {
  try {
    std::rethrow_exception(error);
  } catch (const DatasetNotFound&) {
    return kDatasetNotFound;
  } catch (const NotFound&) {
    return kNotFound;
  } catch (const AlreadyExists&) {
    return kAlreadyExists;
  } catch (const InvalidArgument&) {
    return kInvalidArgument;
  } catch (const IndexOutOfRange&) {
    return kIndexOutOfRange;
  } catch (const NotBuilt&) {
    return kNotBuilt;
  } catch (const NotSupported&) {
    return kNotSupported;
  } catch (const ConnectionError&) {
    return kConnectionError;
  } catch (const PermissionDenied&) {
    return kPermissionDenied;
  } catch (const IoError& e) {
    if (io_code) *io_code = e.code();
    return kIoError;
  } catch (const Error&) {
    return kOtherDosna;
  } catch (...) {
    return kUntyped;
  }
}

ErrorKind record_failure(StoreCounters& c, int op, std::exception_ptr error) {
  int code = 0;
  const ErrorKind kind = classify(error, &code);
  c.failed[op].fetch_add(1);
  c.errors[kind].fetch_add(1);
  if (kind == kIoError) c.io_codes[std::clamp(code, 0, kIoCodes - 1)].fetch_add(1);
  std::string what;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "(not a std::exception)";
  }
  const std::string text = std::string(op_name(op)) + ": " + what;
  take_sample(c.sample_taken[kind], c.sample[kind], sizeof c.sample[kind], text);
  if (kind == kIoError) {
    for (int i = 0; i < 8; ++i) {
      int seen = 0;
      if (c.io_sample_code[i].compare_exchange_strong(seen, code + 1)) {
        std::atomic<int> taken{0};
        take_sample(taken, c.io_sample[i], sizeof c.io_sample[i], text);
        break;
      }
      if (seen == code + 1) break;
    }
  }
  return kind;
}

void record_violation(StoreCounters& c, const std::string& what) {
  c.violations.fetch_add(1);
  take_sample(c.violation_taken, c.violation, sizeof c.violation, what);
}

}  // namespace dosna::soak
