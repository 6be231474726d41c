// Local file failures as DosNa's typed errors (so they get the CLI's exit
// codes): ENOENT -> NotFound, EACCES/EPERM -> PermissionDenied, else IoError.
#pragma once

#include <string>

namespace dosna::cli {

// Throws the error for `err` (an errno value); `what` names the file.
[[noreturn]] void throw_errno(int err, const std::string& what);

}  // namespace dosna::cli
