// Shared by the libFuzzer targets: every input must either succeed or throw a
// typed dosna::Error; anything else (a crash, a sanitizer report, another
// exception type) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dosna/errors.h"

namespace dosna::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs fn; a dosna::Error is an accepted outcome, any other exception escapes
// (and libFuzzer reports it as a crash).
template <class F>
void typed_errors_only(F&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

}  // namespace dosna::fuzz
