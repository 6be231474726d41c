// One value of any DosNa dtype: fill values and scalar writes.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "dosna/dtype.h"

namespace dosna {

// A number remembered exactly as given (bool, signed, unsigned, double or
// complex) and converted to a dtype only when stored, with numpy's casting
// rules (a float stored into an int truncates; NaN survives in floats).
class Scalar {
 public:
  Scalar() : value_(std::int64_t{0}) {}
  template <class T>
    requires std::is_arithmetic_v<T>
  Scalar(T v) {  // NOLINT(google-explicit-constructor): scalars read like numbers
    if constexpr (std::is_same_v<T, bool>) value_ = v;
    else if constexpr (std::is_floating_point_v<T>) value_ = static_cast<double>(v);
    else if constexpr (std::is_signed_v<T>) value_ = static_cast<std::int64_t>(v);
    else value_ = static_cast<std::uint64_t>(v);
  }
  template <class T>
  Scalar(std::complex<T> v) : value_(std::complex<double>(v)) {}  // NOLINT

  // Parses Python's repr() of a number, as the original stores fill values:
  // "0", "-1", "0.5", "nan", "inf", "-inf", "True", "False", "(1+2j)", "1e-05".
  // Throws InvalidArgument naming the text.
  static Scalar parse(std::string_view repr);
  // Reads one element of `dtype` from `src`.
  static Scalar load(DType dtype, const std::byte* src);

  // Python's repr() of this value after conversion to `dtype` ("0", "0.5",
  // "nan", "True", "(1+2j)"), the form stored on Ceph and S3.
  std::string repr(DType dtype) const;
  // The text stored on Ceph and S3 (FORMAT.md): a value that is integral
  // after conversion to `dtype` in integer form ("0", "-1", "1" for True, also
  // on float and complex dtypes), because the original reads it back with
  // int(); any other value (0.5, nan, inf, -0.0, (1+2j)) as repr(). parse()
  // of either form gives back the same stored value.
  std::string stored_form(DType dtype) const;
  // Writes this value converted to `dtype` into `dst` (itemsize bytes).
  void store(DType dtype, std::byte* dst) const;
  // Python's repr() of the value as given ("1000", "nan", "(1+2j)").
  std::string repr() const;
  // "" if `dtype` can hold this value, else why not, as a phrase to follow
  // the value ("is out of the range of int8 (-128 to 127)"). Integer dtypes
  // hold integers in their range (and floats equal to one); bool holds
  // True, False, 0 and 1; floats hold any real number whose magnitude fits
  // (rounded to the nearest; NaN and inf too); complex dtypes hold every
  // value whose parts fit; only complex dtypes hold a nonzero imaginary part.
  std::string unfit_reason(DType dtype) const;

  double as_double() const;
  std::complex<double> as_complex() const;
  bool is_integer() const;  // bool, signed or unsigned
  friend bool operator==(const Scalar&, const Scalar&) = default;

 private:
  std::variant<bool, std::int64_t, std::uint64_t, double, std::complex<double>> value_;
};

}  // namespace dosna
