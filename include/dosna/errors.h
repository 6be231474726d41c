// The typed error tree every DosNa entry point throws (C++, Python, CLI).
//
// Each class carries its ErrorKind; the one table in dosna/error_kinds.h maps
// a kind to its Python exception, CLI exit code, HTTP status and how to throw
// it again (the MPI engine re-raises a remote rank's error that way). Messages
// name the dataset, the backend and the offending value; they never contain
// credentials or signatures.
#pragma once

#include <stdexcept>
#include <string>

namespace dosna {

// Which class of the tree an error is: one enumerator per class below.
// Adding a class means adding its kind here and its row in error_kinds.cc.
enum class ErrorKind : int {
  kError = 0,
  kInvalidArgument,
  kIndexOutOfRange,
  kNotFound,
  kDatasetNotFound,
  kAlreadyExists,
  kNotSupported,
  kNotBuilt,
  kConnectionError,
  kPermissionDenied,
  kOutOfMemory,
  kIoError,
};

// Base of every DosNa error. kind() names the most derived class.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : Error(ErrorKind::kError, what) {}
  ErrorKind kind() const noexcept { return kind_; }

 protected:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}

 private:
  ErrorKind kind_;
};

// A caller passed a value that can never be valid (bad shape, dtype string,
// chunk size, option, name, value array of the wrong shape). Python ValueError.
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& what) : Error(ErrorKind::kInvalidArgument, what) {}
};

// An integer index outside its axis. Python IndexError.
class IndexOutOfRange : public Error {
 public:
  explicit IndexOutOfRange(const std::string& what) : Error(ErrorKind::kIndexOutOfRange, what) {}
};

// Something named does not exist (dataset, chunk, pool, bucket, directory).
// Python KeyError.
class NotFound : public Error {
 public:
  explicit NotFound(const std::string& what) : Error(ErrorKind::kNotFound, what) {}

 protected:
  NotFound(ErrorKind kind, const std::string& what) : Error(kind, what) {}
};

// A dataset that does not exist was asked for. Python DatasetNotFoundError.
class DatasetNotFound : public NotFound {
 public:
  explicit DatasetNotFound(const std::string& what) : NotFound(ErrorKind::kDatasetNotFound, what) {}
};

// Creating something that already exists.
class AlreadyExists : public Error {
 public:
  explicit AlreadyExists(const std::string& what) : Error(ErrorKind::kAlreadyExists, what) {}
};

// The operation or combination is not supported (e.g. ram x mpi).
class NotSupported : public Error {
 public:
  explicit NotSupported(const std::string& what) : Error(ErrorKind::kNotSupported, what) {}

 protected:
  NotSupported(ErrorKind kind, const std::string& what) : Error(kind, what) {}
};

// A known backend or engine that this build does not include.
class NotBuilt : public NotSupported {
 public:
  explicit NotBuilt(const std::string& what) : NotSupported(ErrorKind::kNotBuilt, what) {}
};

// The store could not be reached or the connection is closed.
class ConnectionError : public Error {
 public:
  explicit ConnectionError(const std::string& what) : Error(ErrorKind::kConnectionError, what) {}
};

// The store refused the credentials or the operation (HTTP 403, EACCES).
class PermissionDenied : public Error {
 public:
  explicit PermissionDenied(const std::string& what) : Error(ErrorKind::kPermissionDenied, what) {}
};

// Memory for an operation could not be allocated (say, a read of a
// selection larger than the machine's memory). Python OutOfMemoryError, a
// MemoryError.
class OutOfMemory : public Error {
 public:
  explicit OutOfMemory(const std::string& what) : Error(ErrorKind::kOutOfMemory, what) {}
};

// The store failed an operation. `code` is an errno value or an HTTP status
// (0 when neither applies).
class IoError : public Error {
 public:
  explicit IoError(const std::string& what, int code = 0)
      : Error(ErrorKind::kIoError, what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace dosna
