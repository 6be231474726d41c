// Warnings: conditions that are no error but that the user must hear of
// (TLS verification switched off, objects left in place because they are not
// DosNa's). The library never prints by itself except through the handler.
#pragma once

#include <functional>
#include <string>

namespace dosna {

using WarningHandler = std::function<void(const std::string& message)>;

// Installs `handler` for every later warning and returns the previous one.
// An empty handler restores the default, which writes "dosna: warning:
// MESSAGE" as one line to stderr. The handler may be called from several
// threads at once (each on the warning's own thread); it must not throw nor
// call set_warning_handler. Returns once no call of the previous handler is
// still running. The Python module installs one that issues a Python warning
// (dosna.DosnaWarning).
WarningHandler set_warning_handler(WarningHandler handler);

// Passes `message` (no secret, no trailing newline) to the handler.
void warn(const std::string& message);

}  // namespace dosna
