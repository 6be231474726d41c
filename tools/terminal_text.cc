#include "terminal_text.h"

#include <cstdint>
#include <cstdio>
#include <cwchar>
#include <locale.h>

namespace dosna::cli {
namespace {

// The code point of the UTF-8 sequence at text[i], with its length in `len`;
// -1 (len 1) for a byte that does not start a valid sequence (overlong
// forms, surrogates and values past U+10FFFF are invalid).
std::int32_t decode(std::string_view text, std::size_t i, std::size_t& len) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  len = 1;
  const unsigned char c = b(0);
  if (c < 0x80) return c;
  std::size_t n = 0;
  std::int32_t cp = 0, min = 0;
  if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
  else return -1;
  if (i + n > text.size()) return -1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  len = n;
  return cp;
}

// wcwidth() of `cp` under a UTF-8 locale, whatever the process's locale.
int columns(std::int32_t cp) {
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  if (utf8 == nullptr) return cp < 0x7F ? 1 : -1;  // no UTF-8 locale: escape all non-ASCII
  const locale_t old = uselocale(utf8);
  const int w = ::wcwidth(static_cast<wchar_t>(cp));
  uselocale(old);
  return w;
}

std::string hex_escape(const char* format, unsigned value) {
  char buf[12];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace

std::string printable(std::string_view text, Backslash backslash) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    const std::int32_t cp = decode(text, i, len);
    if (cp == '\\') out += backslash == Backslash::kEscape ? "\\\\" : "\\";
    else if (cp == '\n') out += "\\n";
    else if (cp == '\r') out += "\\r";
    else if (cp == '\t') out += "\\t";
    else if (cp < 0x20 || cp == 0x7F)  // also cp < 0: a byte that is not UTF-8
      out += hex_escape("\\x%02x", static_cast<unsigned char>(text[i]));
    else if (cp >= 0x80 && (cp <= 0x9F || columns(cp) < 0))
      out += hex_escape(cp > 0xFFFF ? "\\U%08x" : "\\u%04x", static_cast<unsigned>(cp));
    else
      out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    const std::int32_t cp = decode(text, i, len);
    const int w = cp < 0x80 ? 1 : columns(cp);
    width += static_cast<std::size_t>(w > 0 ? w : 0);
    i += len;
  }
  return width;
}

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t have = display_width(text);
  return have >= width ? text : text + std::string(width - have, ' ');
}

}  // namespace dosna::cli
