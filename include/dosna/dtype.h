// Element types, named as numpy names them ("<f4", "|b1", "float32").
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace dosna {

enum class DTypeKind : std::uint8_t { kBool, kInt, kUInt, kFloat, kComplex };

// A little-endian numeric element type: bool, int8..int64, uint8..uint64,
// float32, float64, complex64, complex128.
class DType {
 public:
  constexpr DType() = default;  // float32, DosNa's default
  constexpr DType(DTypeKind kind, std::size_t itemsize) : kind_(kind), itemsize_(itemsize) {}

  // Accepts numpy's dtype.str ("<f4", "|u1", "=i8"), type characters ("f4")
  // and names ("float32", "bool", "complex64"). Throws InvalidArgument naming
  // the text for anything else (big-endian, strings, structured types).
  static DType parse(std::string_view text);

  // numpy's dtype.str: "<f4", "|b1", "|i1", "<c16" (the on-store form).
  std::string str() const;
  // numpy's dtype.name: "float32", "bool", "complex128".
  std::string name() const;

  constexpr DTypeKind kind() const { return kind_; }
  constexpr std::size_t itemsize() const { return itemsize_; }
  friend constexpr bool operator==(DType a, DType b) {
    return a.kind_ == b.kind_ && a.itemsize_ == b.itemsize_;
  }

  // The dtype of a C++ element type: DType::of<float>() == "<f4".
  template <class T>
  static constexpr DType of();

 private:
  DTypeKind kind_ = DTypeKind::kFloat;
  std::size_t itemsize_ = 4;
};

template <class T>
constexpr DType DType::of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return {DTypeKind::kBool, 1};
  else if constexpr (std::is_same_v<U, std::complex<float>>) return {DTypeKind::kComplex, 8};
  else if constexpr (std::is_same_v<U, std::complex<double>>) return {DTypeKind::kComplex, 16};
  else if constexpr (std::is_floating_point_v<U>) return {DTypeKind::kFloat, sizeof(U)};
  else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) return {DTypeKind::kInt, sizeof(U)};
  else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U>) return {DTypeKind::kUInt, sizeof(U)};
  else static_assert(sizeof(U) == 0, "not a DosNa element type");
}

// Calls f(T{}) with the C++ element type of `dtype` (bool, std::int8_t ..
// std::uint64_t, float, double, std::complex<float|double>) and returns what
// it returns: the one place a dtype becomes a C++ type.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  const std::size_t n = dtype.itemsize();
  switch (dtype.kind()) {
    case DTypeKind::kBool:
      return f(bool{});
    case DTypeKind::kInt:
      if (n == 1) return f(std::int8_t{});
      if (n == 2) return f(std::int16_t{});
      if (n == 4) return f(std::int32_t{});
      return f(std::int64_t{});
    case DTypeKind::kUInt:
      if (n == 1) return f(std::uint8_t{});
      if (n == 2) return f(std::uint16_t{});
      if (n == 4) return f(std::uint32_t{});
      return f(std::uint64_t{});
    case DTypeKind::kFloat:
      if (n == 4) return f(float{});
      return f(double{});
    case DTypeKind::kComplex:
      break;
  }
  if (n == 8) return f(std::complex<float>{});
  return f(std::complex<double>{});
}

}  // namespace dosna
