#include "dosna/names.h"

#include <cstdint>
#include <cstdio>

#include "dosna/errors.h"

namespace dosna {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes the UTF-8 character at text[pos]; sets `len` to its byte length
// (1 for an invalid byte) and returns kInvalid for an invalid sequence
// (truncated, overlong, a surrogate or beyond U+10FFFF).
char32_t decode(std::string_view text, std::size_t pos, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  len = 1;
  if (b0 < 0x80) return b0;
  std::size_t n;
  char32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return kInvalid;
  }
  if (pos + n > text.size()) return kInvalid;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalid;
  len = n;
  return cp;
}

// Characters that move the cursor, end a line or reorder text on display.
bool is_control(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string hex(unsigned value, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*X", digits, value);
  return buf;
}

}  // namespace

std::string dataset_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxNameBytes)
    return "is " + std::to_string(name.size()) + " bytes long (at most " +
           std::to_string(kMaxNameBytes) + ")";
  if (name == "." || name == "..") return "is a relative directory reference";
  for (std::size_t pos = 0, len = 0; pos < name.size(); pos += len) {
    const char32_t cp = decode(name, pos, len);
    const std::string at = " at byte " + std::to_string(pos);
    if (cp == kInvalid)
      return "is not valid UTF-8 (byte 0x" + hex(static_cast<unsigned char>(name[pos]), 2) + at +
             ")";
    if (cp == 0) return "contains a NUL byte" + at;
    if (cp == '/') return "contains '/'" + at;
    if (cp == '\\') return "contains '\\'" + at;
    if (is_control(cp)) return "contains the control character U+" + hex(cp, 4) + at;
  }
  return {};
}

void check_dataset_name(std::string_view name, std::string_view context) {
  const std::string problem = dataset_name_problem(name);
  if (problem.empty()) return;
  throw InvalidArgument(std::string(context) + (context.empty() ? "" : ": ") + "dataset name " +
                        quote(name) + " " + problem);
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    const char32_t cp = decode(text, pos, len);
    if (cp == kInvalid) {
      out += "\\x" + hex(static_cast<unsigned char>(text[pos]), 2);
    } else if (cp == '\\' || cp == '\'') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x" + hex(cp, 2);
    } else if (is_control(cp)) {
      out += "\\u" + hex(cp, 4);
    } else {
      out.append(text.substr(pos, len));
    }
  }
  return out;
}

std::string quote(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return "'" + escape(text) + "'";
  std::size_t cut = max_bytes;
  // Back up to the start of a character (at most 3 continuation bytes).
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i)
    --cut;
  return "'" + escape(text.substr(0, cut)) + "...' (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace dosna
