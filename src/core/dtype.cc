#include "dosna/dtype.h"

#include <array>
#include <cctype>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

struct Named {
  const char* name;
  DType type;
};

constexpr std::array<Named, 11> kNames{{
    {"bool", {DTypeKind::kBool, 1}},
    {"int8", {DTypeKind::kInt, 1}},
    {"int16", {DTypeKind::kInt, 2}},
    {"int32", {DTypeKind::kInt, 4}},
    {"int64", {DTypeKind::kInt, 8}},
    {"uint8", {DTypeKind::kUInt, 1}},
    {"uint16", {DTypeKind::kUInt, 2}},
    {"uint32", {DTypeKind::kUInt, 4}},
    {"uint64", {DTypeKind::kUInt, 8}},
    {"float32", {DTypeKind::kFloat, 4}},
    {"float64", {DTypeKind::kFloat, 8}},
}};

bool valid(DTypeKind kind, std::size_t size) {
  switch (kind) {
    case DTypeKind::kBool: return size == 1;
    case DTypeKind::kInt:
    case DTypeKind::kUInt: return size == 1 || size == 2 || size == 4 || size == 8;
    case DTypeKind::kFloat: return size == 4 || size == 8;
    case DTypeKind::kComplex: return size == 8 || size == 16;
  }
  return false;
}

char kind_char(DTypeKind kind) {
  switch (kind) {
    case DTypeKind::kBool: return 'b';
    case DTypeKind::kInt: return 'i';
    case DTypeKind::kUInt: return 'u';
    case DTypeKind::kFloat: return 'f';
    case DTypeKind::kComplex: return 'c';
  }
  return '?';
}

}  // namespace

DType DType::parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid dtype " + quote(text) + ": " + why);
  };
  for (const auto& n : kNames)
    if (text == n.name) return n.type;
  if (text == "complex64") return {DTypeKind::kComplex, 8};
  if (text == "complex128") return {DTypeKind::kComplex, 16};
  if (text == "float" || text == "double") return {DTypeKind::kFloat, 8};

  std::string_view body = text;
  if (!body.empty() && (body[0] == '<' || body[0] == '|' || body[0] == '=')) body.remove_prefix(1);
  else if (!body.empty() && body[0] == '>')
    throw bad("big-endian types are not supported");
  if (body.size() < 2) throw bad("expected a numpy type such as '<f4', '|u1' or 'float32'");
  DTypeKind kind;
  switch (body[0]) {
    case 'b': kind = DTypeKind::kBool; break;
    case 'i': kind = DTypeKind::kInt; break;
    case 'u': kind = DTypeKind::kUInt; break;
    case 'f': kind = DTypeKind::kFloat; break;
    case 'c': kind = DTypeKind::kComplex; break;
    default: throw bad("unsupported kind " + quote(body.substr(0, 1)));
  }
  std::size_t size = 0;
  for (char c : body.substr(1)) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || size > 1000)
      throw bad("expected an item size in bytes");
    size = size * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!valid(kind, size)) throw bad("unsupported item size " + std::to_string(size));
  return {kind, size};
}

std::string DType::str() const {
  const char order = itemsize_ == 1 ? '|' : '<';
  return std::string(1, order) + kind_char(kind_) + std::to_string(itemsize_);
}

std::string DType::name() const {
  switch (kind_) {
    case DTypeKind::kBool: return "bool";
    case DTypeKind::kInt: return "int" + std::to_string(itemsize_ * 8);
    case DTypeKind::kUInt: return "uint" + std::to_string(itemsize_ * 8);
    case DTypeKind::kFloat: return "float" + std::to_string(itemsize_ * 8);
    case DTypeKind::kComplex: return "complex" + std::to_string(itemsize_ * 8);
  }
  return "?";
}

}  // namespace dosna
