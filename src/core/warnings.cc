#include "dosna/warnings.h"

#include <cstdio>
#include <mutex>

namespace dosna {
namespace {

std::mutex& mutex() {
  static std::mutex m;
  return m;
}

WarningHandler& current() {
  static WarningHandler h;
  return h;
}

}  // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  std::lock_guard lock(mutex());
  WarningHandler old = std::move(current());
  current() = std::move(handler);
  return old;
}

void warn(const std::string& message) {
  std::lock_guard lock(mutex());
  if (current()) {
    current()(message);
  } else {
    std::fprintf(stderr, "dosna: warning: %s\n", message.c_str());
  }
}

}  // namespace dosna
