#include "dosna/scalar.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

// Python's float repr: shortest round-trip digits; positional notation for
// exponents in [-4, 16), scientific otherwise; always shows it is a float.
std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const auto epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  const int exp = std::stoi(sci.substr(epos + 1));
  const bool negative = mant[0] == '-';
  if (negative) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exp + 1) {
      out = digits + std::string(static_cast<std::size_t>(exp + 1) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<std::size_t>(exp + 1)) + "." +
            digits.substr(static_cast<std::size_t>(exp + 1));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += e;
  }
  return negative ? "-" + out : out;
}

// Python's repr of a complex component inside "(a+bj)": integral values drop
// the ".0" ("(1+2j)"), others as float repr.
std::string python_complex_part(double v) {
  std::string s = python_float_repr(v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

template <class T>
T convert_real(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    // numpy's unsafe cast: NaN/out of range are implementation-defined; keep it
    // defined here by saturating.
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

template <class T, class V>
T convert(const V& v) {
  if constexpr (std::is_same_v<V, std::complex<double>>) {
    return convert_real<T>(v.real());
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != V{};
  } else if constexpr (std::is_floating_point_v<V> && std::is_integral_v<T>) {
    return convert_real<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

template <class T>
void store_as(const auto& v, std::byte* dst) {
  T t = convert<T>(v);
  std::memcpy(dst, &t, sizeof t);
}

}  // namespace

Scalar Scalar::parse(std::string_view text) {
  std::string s(text);
  auto bad = [&] { return InvalidArgument("invalid fill value " + quote(s)); };
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  if (s.empty()) throw bad();
  if (s == "True") return Scalar(true);
  if (s == "False") return Scalar(false);
  auto parse_double = [&](std::string t) -> double {
    if (t == "nan" || t == "+nan" || t == "-nan") return std::numeric_limits<double>::quiet_NaN();
    if (t == "inf" || t == "+inf") return std::numeric_limits<double>::infinity();
    if (t == "-inf") return -std::numeric_limits<double>::infinity();
    double d = 0;
    const char* first = t.data() + (t[0] == '+' ? 1 : 0);
    auto r = std::from_chars(first, t.data() + t.size(), d);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) throw bad();
    return d;
  };
  if (s.back() == 'j' || (s.front() == '(' && s.back() == ')')) {  // "(1+2j)", "2j"
    std::string body = s;
    if (body.front() == '(') {
      if (body.back() != ')') throw bad();
      body = body.substr(1, body.size() - 2);
    }
    if (body.empty() || body.back() != 'j') throw bad();
    body.pop_back();
    // split at the sign that starts the imaginary part (not an exponent sign)
    std::size_t split = std::string::npos;
    for (std::size_t i = body.size(); i-- > 1;) {
      if ((body[i] == '+' || body[i] == '-') && body[i - 1] != 'e' && body[i - 1] != 'E') {
        split = i;
        break;
      }
    }
    if (split == std::string::npos) return Scalar(std::complex<double>(0, parse_double(body)));
    return Scalar(std::complex<double>(parse_double(body.substr(0, split)),
                                       parse_double(body.substr(split))));
  }
  const bool integral = s.find_first_of(".eEn") == std::string::npos &&
                        s.find("inf") == std::string::npos;
  if (integral) {
    if (s[0] == '-') {
      std::int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc::result_out_of_range) return Scalar(parse_double(s));
      if (r.ec != std::errc() || r.ptr != s.data() + s.size()) throw bad();
      return Scalar(v);
    }
    std::uint64_t v = 0;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    auto r = std::from_chars(first, s.data() + s.size(), v);
    // Python ints have no bound: a longer one is taken as a float.
    if (r.ec == std::errc::result_out_of_range) return Scalar(parse_double(s));
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) throw bad();
    if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Scalar(static_cast<std::int64_t>(v));
    return Scalar(v);
  }
  return Scalar(parse_double(s));
}

Scalar Scalar::load(DType dtype, const std::byte* src) {
  auto get = [&]<class T>(T) {
    T t;
    std::memcpy(&t, src, sizeof t);
    return t;
  };
  return visit_dtype(dtype, [&](auto t) { return Scalar(get(t)); });
}

void Scalar::store(DType dtype, std::byte* dst) const {
  std::visit(
      [&](const auto& v) {
        visit_dtype(dtype, [&]<class T>(T) {
          if constexpr (std::is_same_v<T, std::complex<float>> ||
                        std::is_same_v<T, std::complex<double>>) {
            std::complex<double> c;
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::complex<double>>) c = v;
            else c = std::complex<double>(static_cast<double>(v), 0.0);
            const T typed(static_cast<typename T::value_type>(c.real()),
                          static_cast<typename T::value_type>(c.imag()));
            std::memcpy(dst, &typed, sizeof typed);
          } else {
            store_as<T>(v, dst);
          }
        });
      },
      value_);
}

std::string Scalar::repr(DType dtype) const {
  std::byte buf[16];
  store(dtype, buf);
  const Scalar typed = load(dtype, buf);
  return std::visit(
      [&](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) return v ? "True" : "False";
        else if constexpr (std::is_same_v<V, double>) {
          if (dtype.itemsize() == 4) {
            // float32 values print with float32's shortest digits, as numpy does
            char b[64];
            auto r = std::to_chars(b, b + sizeof b, static_cast<float>(v));
            const double shortest = std::strtod(std::string(b, r.ptr).c_str(), nullptr);
            return python_float_repr(shortest);
          }
          return python_float_repr(v);
        } else if constexpr (std::is_same_v<V, std::complex<double>>) {
          std::string re = python_complex_part(v.real());
          std::string im = python_complex_part(v.imag());
          if (im[0] != '-') im = "+" + im;
          if (v.real() == 0 && !std::signbit(v.real())) return im.substr(im[0] == '+' ? 1 : 0) + "j";
          return "(" + re + im + "j)";
        } else {
          return std::to_string(v);
        }
      },
      typed.value_);
}

std::string Scalar::stored_form(DType dtype) const {
  std::byte buf[16];
  store(dtype, buf);
  const Scalar typed = load(dtype, buf);
  if (const bool* b = std::get_if<bool>(&typed.value_)) return *b ? "1" : "0";
  if (typed.is_integer()) return typed.repr(dtype);
  const std::complex<double> c = typed.as_complex();
  const double re = c.real();
  const bool integral = c.imag() == 0 && !std::signbit(c.imag()) && std::isfinite(re) &&
                        re == std::trunc(re) && !(re == 0 && std::signbit(re));
  if (!integral) return typed.repr(dtype);
  // Shortest digits that round-trip in the dtype's precision, in positional form.
  const bool single = dtype.itemsize() == (dtype.kind() == DTypeKind::kComplex ? 8u : 4u);
  char out[400];
  auto r = single ? std::to_chars(out, out + sizeof out, static_cast<float>(re), std::chars_format::fixed)
                  : std::to_chars(out, out + sizeof out, re, std::chars_format::fixed);
  return std::string(out, r.ptr);
}

std::string Scalar::repr() const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) return v ? "True" : "False";
        else if constexpr (std::is_same_v<V, double>) return python_float_repr(v);
        else if constexpr (std::is_same_v<V, std::complex<double>>)
          return repr(DType(DTypeKind::kComplex, 16));
        else return std::to_string(v);
      },
      value_);
}

std::string Scalar::unfit_reason(DType dtype) const {
  const std::complex<double> c = as_complex();
  const std::string name = dtype.name();
  const bool complex = dtype.kind() == DTypeKind::kComplex;
  if (!complex && c.imag() != 0) return "has an imaginary part, which " + name + " cannot hold";
  switch (dtype.kind()) {
    case DTypeKind::kComplex:
    case DTypeKind::kFloat: {
      const bool single = dtype.itemsize() == (complex ? 8 : 4);
      for (double part : {c.real(), c.imag()})
        if (single && std::isfinite(part) && std::isinf(static_cast<float>(part)))
          return "is out of the range of " + name;
      return "";
    }
    case DTypeKind::kBool: {
      const bool zero_or_one =
          std::holds_alternative<bool>(value_) ||
          (std::holds_alternative<std::uint64_t>(value_) ? std::get<std::uint64_t>(value_) <= 1
                                                        : c.real() == 0 || c.real() == 1);
      return zero_or_one ? "" : "is not True, False, 0 or 1, which " + name + " holds";
    }
    case DTypeKind::kInt:
    case DTypeKind::kUInt: {
      // long double holds every int64 and uint64 exactly (x86-64: 64-bit mantissa).
      const int bits = static_cast<int>(dtype.itemsize() * 8);
      const bool is_signed = dtype.kind() == DTypeKind::kInt;
      const long double lo = is_signed ? -std::ldexp(1.0L, bits - 1) : 0.0L;
      const long double end = std::ldexp(1.0L, is_signed ? bits - 1 : bits);
      long double v = 0;
      if (std::holds_alternative<bool>(value_)) return "";
      if (std::holds_alternative<std::int64_t>(value_)) {
        v = static_cast<long double>(std::get<std::int64_t>(value_));
      } else if (std::holds_alternative<std::uint64_t>(value_)) {
        v = static_cast<long double>(std::get<std::uint64_t>(value_));
      } else {
        const double d = c.real();
        if (std::isnan(d)) return "is not a number, which " + name + " cannot hold";
        if (std::isinf(d)) return "is infinite, which " + name + " cannot hold";
        if (d != std::trunc(d)) return "has a fractional part, which " + name + " cannot hold";
        v = d;
      }
      if (v >= lo && v < end) return "";
      char bounds[96];
      std::snprintf(bounds, sizeof bounds, " (%.0Lf to %.0Lf)", lo, end - 1);
      return "is out of the range of " + name + bounds;
    }
  }
  return "";
}

double Scalar::as_double() const {
  return std::visit(
      [](const auto& v) -> double {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::complex<double>>) return v.real();
        else return static_cast<double>(v);
      },
      value_);
}

std::complex<double> Scalar::as_complex() const {
  return std::visit(
      [](const auto& v) -> std::complex<double> {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::complex<double>>) return v;
        else return {static_cast<double>(v), 0.0};
      },
      value_);
}

bool Scalar::is_integer() const { return value_.index() <= 2; }

}  // namespace dosna
