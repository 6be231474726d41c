// Dataset names: the one rule every store applies (the core checks it before
// any backend sees a name), and how DosNa shows names and stored values in
// messages so that no terminal escape, newline or megabyte of garbage from a
// store reaches the user's screen raw.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dosna {

// Longest dataset name, in bytes of UTF-8 (a file name on Linux file systems).
inline constexpr std::size_t kMaxNameBytes = 255;

// Why `name` cannot name a dataset, or "" if it can. A name is 1 to
// kMaxNameBytes bytes of valid UTF-8, not "." or "..", without '/', '\',
// NUL or other control characters (C0, DEL, C1, U+2028/U+2029 and the
// bidirectional overrides U+202A-U+202E, U+2066-U+2069). Backends may refuse
// more (an S3 bucket name is stricter).
std::string dataset_name_problem(std::string_view name);

// Throws InvalidArgument "<context>: dataset name '<quoted>' <problem>" if
// `name` is not a valid dataset name (context may be empty).
void check_dataset_name(std::string_view name, std::string_view context = {});

// `text` printable on one line: printable ASCII and valid UTF-8 characters as
// they are; '\' and '\'' backslash-escaped; \n \r \t; other control bytes and
// invalid UTF-8 bytes as \xNN; C1 controls, line separators and bidi
// overrides as \uNNNN. escape() of different texts differs.
std::string escape(std::string_view text);

// escape(text) in single quotes, cut after `max_bytes` bytes of `text` (at a
// character boundary) with "...' (<size> bytes)" appended when longer: the
// form in which messages echo names and stored values.
std::string quote(std::string_view text, std::size_t max_bytes = 80);

}  // namespace dosna
