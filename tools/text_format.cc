#include "text_format.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <vector>

namespace dosna::cli {
namespace {

constexpr std::int64_t kThreshold = 1000;  // numpy's print threshold
constexpr std::int64_t kEdge = 3;          // numpy's edgeitems
constexpr int kMaxPrecision = 8;           // numpy's default precision

// Positions shown along an axis of `n` (-1 marks the "..." gap).
std::vector<std::int64_t> shown(std::int64_t n, bool summarize) {
  std::vector<std::int64_t> out;
  if (summarize && n > 2 * kEdge) {
    for (std::int64_t i = 0; i < kEdge; ++i) out.push_back(i);
    out.push_back(-1);
    for (std::int64_t i = n - kEdge; i < n; ++i) out.push_back(i);
  } else {
    for (std::int64_t i = 0; i < n; ++i) out.push_back(i);
  }
  return out;
}

// Formats the floats of one array the same way (shared precision and
// notation) so columns align like numpy's.
class FloatFormat {
 public:
  explicit FloatFormat(const std::vector<double>& values) {
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
    }
    // numpy's rule (suppress=False) for switching to scientific notation.
    sci_ = max_abs >= 1e8 ||
           (min_abs != INFINITY && (min_abs < 1e-4 || max_abs / min_abs > 1e3));
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      precision_ = std::max(precision_, needed(v));
    }
  }

  std::string operator()(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, sci_ ? "%.*e" : "%.*f", precision_, v);
    std::string s = buf;
    std::string exp;
    if (sci_) {
      const auto e = s.find('e');
      exp = s.substr(e);
      s.resize(e);
    }
    if (s.find('.') == std::string::npos) s += ".";
    return s + exp;
  }

  bool sci() const { return sci_; }

 private:
  // Digits after the point that print `v` exactly at <= kMaxPrecision.
  int needed(double v) const {
    char buf[64];
    for (int p = 0; p < kMaxPrecision; ++p) {
      std::snprintf(buf, sizeof buf, sci_ ? "%.*e" : "%.*f", p, v);
      if (std::strtod(buf, nullptr) == v) return p;
      char buf8[64];
      std::snprintf(buf8, sizeof buf8, sci_ ? "%.*e" : "%.*f", kMaxPrecision, v);
      if (std::strtod(buf, nullptr) == std::strtod(buf8, nullptr)) return p;
    }
    return kMaxPrecision;
  }

  bool sci_ = false;
  int precision_ = 0;
};

// Numpy trims trailing zeros of fractional parts and pads on the right so
// points align; applied to already-formatted float strings.
void trim_and_pad(std::vector<std::string>& items, bool sci) {
  std::size_t left = 0, right = 0;
  auto split = [](const std::string& s) {
    const auto dot = s.find('.');
    return dot == std::string::npos ? s.size() : dot;
  };
  for (auto& s : items) {
    if (!sci) {
      const auto dot = s.find('.');
      if (dot != std::string::npos) {
        while (s.size() > dot + 1 && s.back() == '0') s.pop_back();
      }
    }
    left = std::max(left, split(s));
    right = std::max(right, s.size() - split(s));
  }
  for (auto& s : items) {
    const std::size_t l = split(s), r = s.size() - l;
    s = std::string(left - l, ' ') + s + std::string(right - r, ' ');
  }
}

}  // namespace

std::string format_array(const NdArray& array) {
  const auto& shape = array.shape();
  const std::size_t nd = shape.size();
  const bool summarize = array.size() > kThreshold;
  const DType dt = array.dtype();
  const std::size_t isz = dt.itemsize();

  std::vector<std::vector<std::int64_t>> axes;
  for (auto n : shape) axes.push_back(shown(n, summarize));

  // Flat offsets of every shown element, in print order.
  std::vector<std::int64_t> flat;
  std::vector<std::int64_t> pos(nd, 0);
  std::vector<std::int64_t> strides(nd, 1);
  for (std::size_t d = nd; d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  auto collect = [&](auto&& self, std::size_t d, std::int64_t off) -> void {
    if (d == nd) {
      flat.push_back(off);
      return;
    }
    for (auto i : axes[d])
      if (i >= 0) self(self, d + 1, off + i * strides[d]);
  };
  if (array.size() > 0) collect(collect, 0, 0);

  std::vector<std::string> items;
  items.reserve(flat.size());
  auto load = [&](std::int64_t i) { return Scalar::load(dt, array.bytes() + i * static_cast<std::int64_t>(isz)); };
  if (dt.kind() == DTypeKind::kFloat) {
    std::vector<double> vals;
    for (auto i : flat) vals.push_back(load(i).as_double());
    FloatFormat f(vals);
    for (double v : vals) items.push_back(f(v));
    trim_and_pad(items, f.sci());
  } else if (dt.kind() == DTypeKind::kComplex) {
    std::vector<double> re, im;
    for (auto i : flat) {
      const auto c = load(i).as_complex();
      re.push_back(c.real());
      im.push_back(c.imag());
    }
    FloatFormat fr(re), fi(im);
    std::vector<std::string> rs, is;
    for (double v : re) rs.push_back(fr(v));
    for (double v : im) is.push_back(fi(std::fabs(v)));
    trim_and_pad(rs, fr.sci());
    trim_and_pad(is, fi.sci());
    for (std::size_t k = 0; k < re.size(); ++k)
      items.push_back(rs[k] + (std::signbit(im[k]) ? "-" : "+") + is[k] + "j");
  } else {
    for (auto i : flat) {
      const Scalar s = load(i);
      items.push_back(s.repr(dt));
    }
    std::size_t w = 0;
    for (auto& s : items) w = std::max(w, s.size());
    for (auto& s : items) s = std::string(w - s.size(), ' ') + s;
  }
  if (nd == 0) return items.empty() ? "" : items[0];

  std::string out;
  std::size_t next = 0;
  auto emit = [&](auto&& self, std::size_t d) -> void {
    out += '[';
    bool first = true;
    for (auto i : axes[d]) {
      if (!first) {
        if (d + 1 == nd) {
          out += ' ';
        } else {
          out += std::string(nd - d - 1, '\n');
          out += std::string(d + 1, ' ');
        }
      }
      first = false;
      if (i < 0) {
        out += "...";
        continue;
      }
      if (d + 1 == nd) out += items[next++];
      else self(self, d + 1);
    }
    out += ']';
  };
  emit(emit, 0);
  return out;
}

}  // namespace dosna::cli
