// The typed error tree every DosNa entry point throws (C++, Python, CLI).
//
// Each class maps 1:1 to a Python exception and to a CLI exit code. Messages
// name the dataset, the backend and the offending value; they never contain
// credentials or signatures.
#pragma once

#include <stdexcept>
#include <string>

namespace dosna {

// Base of every DosNa error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller passed a value that can never be valid (bad shape, dtype string,
// chunk size, option, name, value array of the wrong shape). Python ValueError.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// An integer index outside its axis. Python IndexError.
class IndexOutOfRange : public Error {
 public:
  using Error::Error;
};

// Something named does not exist (dataset, chunk, pool, bucket, directory).
// Python KeyError.
class NotFound : public Error {
 public:
  using Error::Error;
};

// A dataset that does not exist was asked for. Python DatasetNotFoundError.
class DatasetNotFound : public NotFound {
 public:
  using NotFound::NotFound;
};

// Creating something that already exists.
class AlreadyExists : public Error {
 public:
  using Error::Error;
};

// The operation or combination is not supported (e.g. ram x mpi).
class NotSupported : public Error {
 public:
  using Error::Error;
};

// A known backend or engine that this build does not include.
class NotBuilt : public NotSupported {
 public:
  using NotSupported::NotSupported;
};

// The store could not be reached or the connection is closed.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

// The store refused the credentials or the operation (HTTP 403, EACCES).
class PermissionDenied : public Error {
 public:
  using Error::Error;
};

// Memory for an operation could not be allocated (say, a read of a
// selection larger than the machine's memory). Python OutOfMemoryError, a
// MemoryError.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

// The store failed an operation. `code` is an errno value or an HTTP status
// (0 when neither applies).
class IoError : public Error {
 public:
  IoError(const std::string& what, int code = 0) : Error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace dosna
