// The one table of error kinds: for each class of the error tree
// (dosna/errors.h) its name, its Python exception, its CLI exit code, its
// HTTP status in `dosna serve`, and how to throw it again from a message.
// Python's exception translation, the CLI, the viewer server and the MPI
// engine's error transport all read this table; none lists the kinds itself.
#pragma once

#include <exception>
#include <span>
#include <string>
#include <string_view>

#include "dosna/errors.h"

namespace dosna {

// Exit codes of the `dosna` CLI, one per kind of failure.
inline constexpr int kExitOther = 1;       // anything else (e.g. AlreadyExists)
inline constexpr int kExitUsage = 2;       // bad usage, InvalidArgument, IndexOutOfRange, NotSupported
inline constexpr int kExitNotFound = 3;    // NotFound, DatasetNotFound (files too)
inline constexpr int kExitPermission = 4;  // PermissionDenied
inline constexpr int kExitIo = 5;          // IoError, ConnectionError

struct ErrorKindInfo {
  ErrorKind kind;
  std::string_view name;          // the C++ class, e.g. "InvalidArgument"
  ErrorKind parent;               // the class it derives from (kError for the base itself)
  std::string_view python_class;  // e.g. "InvalidArgumentError" in module dosna
  std::string_view python_base;   // the Python builtin it also derives from ("" for none)
  std::string_view doc;           // the Python class's docstring
  int exit_code;                  // what `dosna` exits with
  int http_status;                // what `dosna serve` answers with
  // Throws an error of this kind carrying `message` (`io_code` only for
  // IoError); never returns. Prefer throw_error below.
  void (*raise)(const std::string& message, int io_code);
};

// Every kind, in ErrorKind order (a parent comes before its children).
std::span<const ErrorKindInfo> error_kinds();

// The row of `kind`. A value outside the enumeration gets the kError row.
const ErrorKindInfo& error_kind_info(ErrorKind kind);

// The row for an exception: its kind's for a dosna::Error, kError's row for
// anything else (non-DosNa exceptions are reported as plain DosNa errors).
const ErrorKindInfo& error_kind_info(const std::exception& e);

// Throws the error of `kind` with `message` (`io_code` for IoError): how an
// error received as (kind, message), say from another MPI rank, is re-raised
// as the same type.
[[noreturn]] void throw_error(ErrorKind kind, const std::string& message, int io_code = 0);

}  // namespace dosna
