// Text from stores (dataset names, error messages quoting them) on a
// terminal: other writers may put escape sequences, newlines or bytes that
// are not UTF-8 there, and non-ASCII names take more or fewer columns than
// bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dosna::cli {

// `text` with everything a terminal would act on or could not show written
// as an escape: \n \r \t, other control characters (C0, DEL, C1) and bytes
// that are not valid UTF-8 as \xNN (C1 as \u0080..\u009f), code points the C
// library calls unprintable as \uXXXX, and a backslash as \\, so the result
// is one line and names that differ print differently. Printable UTF-8
// (accents, CJK, emoji) is kept. Backslash::kKeep leaves backslashes as they
// are: for messages of the library, which already show names escaped
// (dosna::quote), so their escapes are not escaped a second time.
enum class Backslash { kEscape, kKeep };
std::string printable(std::string_view text, Backslash backslash = Backslash::kEscape);

// Terminal columns that printable(text)'s result takes (wcwidth per code
// point: wide characters count 2, combining marks 0). `text` must be the
// output of printable().
std::size_t display_width(std::string_view text);

// `text` (printable()'s output) followed by spaces up to `width` columns.
std::string pad_right(const std::string& text, std::size_t width);

}  // namespace dosna::cli
