#include "npy.h"

#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "dosna/errors.h"

namespace dosna::cli {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

// The Python literals a header dict holds: strings, booleans, int tuples.
using Value = std::variant<std::string, bool, Shape>;

class DictParser {
 public:
  DictParser(std::string text, std::string path) : s_(std::move(text)), path_(std::move(path)) {}

  std::map<std::string, Value> parse() {
    std::map<std::string, Value> out;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      out[key] = parse_value(key);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidArgument("npy file '" + path_ + "': bad header dict (" + what + " at offset " +
                          std::to_string(pos_) + ")");
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() {
    skip_ws();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a string");
    const auto end = s_.find(q, ++pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  std::int64_t parse_int() {
    skip_ws();
    const std::size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (start == pos_) fail("expected an integer");
    // Python 2 era writers append 'L' to longs.
    const std::string digits = s_.substr(start, pos_ - start);
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
    if (digits.size() > 18) fail("integer too large");
    return std::stoll(digits);
  }
  Value parse_value(const std::string& key) {
    const char c = peek();
    if (c == '\'' || c == '"') return parse_string();
    if (c == '(') {
      ++pos_;
      Shape shape;
      while (peek() != ')') {
        shape.push_back(parse_int());
        if (peek() == ',')
          ++pos_;
        else if (peek() != ')')
          fail("expected ',' or ')'");
      }
      ++pos_;
      return shape;
    }
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::size_t n = std::strlen(word);
      if (s_.compare(pos_, n, word) == 0) {
        pos_ += n;
        return value;
      }
    }
    if (c == '[') {
      throw InvalidArgument("npy file '" + path_ + "': structured dtype in '" + key +
                            "' is not supported (DosNa stores numeric dtypes only)");
    }
    fail("unsupported value for '" + key + "'");
  }

  std::string s_;
  std::string path_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(const std::byte* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

}  // namespace

NpyHeader parse_npy_header(const std::byte* bytes, std::size_t size, const std::string& path) {
  const std::string where = "npy file '" + path + "'";
  if (size < 10 || std::memcmp(bytes, kMagic, kMagicLen) != 0)
    throw InvalidArgument(where + ": not a .npy file (bad magic)");
  const int major = static_cast<int>(bytes[6]);
  const int minor = static_cast<int>(bytes[7]);
  std::size_t len_bytes = 0;
  if (major == 1)
    len_bytes = 2;
  else if (major == 2 || major == 3)
    len_bytes = 4;
  else
    throw InvalidArgument(where + ": unsupported format version " + std::to_string(major) + "." +
                          std::to_string(minor));
  if (size < 8 + len_bytes) throw InvalidArgument(where + ": truncated header");
  const std::size_t header_len = read_le(bytes + 8, len_bytes);
  const std::size_t start = 8 + len_bytes;
  if (size < start + header_len) throw InvalidArgument(where + ": truncated header");
  const std::string dict_text(reinterpret_cast<const char*>(bytes + start), header_len);
  const auto dict = DictParser(dict_text, path).parse();

  NpyHeader h;
  h.data_offset = start + header_len;
  auto field = [&](const char* key) -> const Value& {
    auto it = dict.find(key);
    if (it == dict.end()) throw InvalidArgument(where + ": header lacks '" + key + "'");
    return it->second;
  };
  const auto* descr = std::get_if<std::string>(&field("descr"));
  const auto* fortran = std::get_if<bool>(&field("fortran_order"));
  const auto* shape = std::get_if<Shape>(&field("shape"));
  if (!descr) throw InvalidArgument(where + ": 'descr' is not a string");
  if (!fortran) throw InvalidArgument(where + ": 'fortran_order' is not True/False");
  if (!shape) throw InvalidArgument(where + ": 'shape' is not a tuple");
  if (!descr->empty() && (*descr)[0] == '>' && descr->size() > 2 && descr->substr(1) != "u1" &&
      descr->substr(1) != "i1" && descr->substr(1) != "b1")
    throw InvalidArgument(where + ": big-endian dtype '" + *descr +
                          "' is not supported (DosNa stores little-endian data; convert with "
                          "a.astype(a.dtype.newbyteorder('<')))");
  try {
    h.dtype = DType::parse(*descr);
  } catch (const InvalidArgument&) {
    throw InvalidArgument(where + ": dtype '" + *descr + "' is not one DosNa stores");
  }
  h.fortran_order = *fortran;
  h.shape = *shape;
  const std::size_t need = static_cast<std::size_t>(shape_size(h.shape)) * h.dtype.itemsize();
  if (size - h.data_offset < need)
    throw InvalidArgument(where + ": holds " + std::to_string(size - h.data_offset) +
                          " data bytes but shape " + shape_to_string(h.shape) + " of " +
                          h.dtype.str() + " needs " + std::to_string(need));
  return h;
}

std::string make_npy_header(DType dtype, const Shape& shape) {
  std::string shape_text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) shape_text += ", ";
    shape_text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) shape_text += ",";
  shape_text += ")";
  std::string dict =
      "{'descr': '" + dtype.str() + "', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // Pad with spaces and a final newline so data starts 64-byte aligned.
  std::size_t prefix = 10;
  std::string version("\x01\x00", 2);
  if (dict.size() + 1 + prefix > 65535) {
    prefix = 12;
    version = std::string("\x02\x00", 2);
  }
  const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out += version;
  const std::size_t n = dict.size();
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  if (prefix == 12) {
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    out.push_back(static_cast<char>((n >> 24) & 0xff));
  }
  return out + dict;
}

ArrayView npy_view(const NpyHeader& header, const std::byte* file_bytes) {
  ArrayView view{header.dtype, header.shape, file_bytes + header.data_offset, {}};
  if (header.fortran_order) {
    view.strides.assign(header.shape.size(), 0);
    std::int64_t stride = static_cast<std::int64_t>(header.dtype.itemsize());
    for (std::size_t d = 0; d < header.shape.size(); ++d) {
      view.strides[d] = stride;
      stride *= header.shape[d];
    }
  }
  return view;
}

}  // namespace dosna::cli
