// Exit codes of `dosna`, one per kind of failure (the numbers live in the
// error-kind table, dosna/error_kinds.h).
#pragma once

#include <exception>

#include "dosna/error_kinds.h"

namespace dosna::cli {

using dosna::kExitIo;
using dosna::kExitNotFound;
using dosna::kExitOther;
using dosna::kExitPermission;
using dosna::kExitUsage;

// The exit code for an exception thrown by a command: its error kind's, and
// kExitOther for anything that is not a dosna::Error.
int exit_code_for(const std::exception& e);

}  // namespace dosna::cli
