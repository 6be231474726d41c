// Exit codes of `dosna`, one per kind of failure.
#pragma once

#include <exception>

namespace dosna::cli {

inline constexpr int kExitOther = 1;  // anything else (e.g. AlreadyExists)
inline constexpr int kExitUsage = 2;  // bad usage, InvalidArgument, IndexOutOfRange, NotSupported
inline constexpr int kExitNotFound = 3;    // NotFound, DatasetNotFound (files too)
inline constexpr int kExitPermission = 4;  // PermissionDenied
inline constexpr int kExitIo = 5;          // IoError, ConnectionError

// The exit code for an exception thrown by a command.
int exit_code_for(const std::exception& e);

}  // namespace dosna::cli
