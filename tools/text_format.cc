#include "text_format.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
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

// Formats the floats of one array as numpy does by default: one notation for
// all (scientific when magnitudes are extreme), each value with the fewest
// digits (at most 8) that read back as the same value of its own type.
class FloatFormat {
 public:
  FloatFormat(const std::vector<double>& values, bool single) : single_(single) {
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
    }
    // numpy's rule (suppress=False) for switching to scientific notation.
    sci_ = max_abs >= 1e8 || (min_abs != INFINITY && (min_abs < 1e-4 || max_abs / min_abs > 1e3));
    // In scientific notation numpy gives every mantissa the same digits.
    if (sci_)
      for (double v : values)
        if (std::isfinite(v)) common_ = std::max(common_, digits(v));
  }

  std::string operator()(double v) const {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, sci_ ? "%.*e" : "%.*f", sci_ ? common_ : digits(v), v);
    std::string s = buf;
    std::string exp;
    if (sci_) {
      const auto e = s.find('e');
      exp = s.substr(e);
      s.resize(e);
    }
    if (s.find('.') == std::string::npos) {
      s += ".";
    } else if (!sci_) {
      while (s.back() == '0') s.pop_back();
    }
    return s + exp;
  }

 private:
  // The fewest digits after the point (at most 8) that read back as `v`.
  int digits(double v) const {
    char buf[64];
    for (int p = 0; p < kMaxPrecision; ++p) {
      std::snprintf(buf, sizeof buf, sci_ ? "%.*e" : "%.*f", p, v);
      const double back = std::strtod(buf, nullptr);
      if (single_ ? static_cast<float>(back) == static_cast<float>(v) : back == v) return p;
    }
    return kMaxPrecision;
  }

  bool single_;
  bool sci_ = false;
  int common_ = 0;
};

// Pads formatted floats so their points align (numpy's pad_left/pad_right);
// nan and inf are right-aligned to the full width.
void align_points(std::vector<std::string>& items) {
  std::size_t left = 0, right = 0;
  auto split = [](const std::string& s) {
    const auto dot = s.find('.');
    return dot == std::string::npos ? s.size() : dot;
  };
  for (const auto& s : items) {
    if (s.find('.') == std::string::npos) continue;
    left = std::max(left, split(s));
    right = std::max(right, s.size() - split(s));
  }
  const std::size_t width = std::max(left + right, [&] {
    std::size_t w = 0;
    for (const auto& s : items) w = std::max(w, s.size());
    return w;
  }());
  for (auto& s : items) {
    if (s.find('.') == std::string::npos) {
      s = std::string(width - std::min(width, s.size()), ' ') + s;
      continue;
    }
    const std::size_t l = split(s), r = s.size() - l;
    s = std::string(left - l, ' ') + s + std::string(right - r, ' ');
    if (s.size() < width) s = std::string(width - s.size(), ' ') + s;
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
  auto load = [&](std::int64_t i) {
    return Scalar::load(dt, array.bytes() + i * static_cast<std::int64_t>(isz));
  };
  if (dt.kind() == DTypeKind::kFloat) {
    std::vector<double> vals;
    for (auto i : flat) vals.push_back(load(i).as_double());
    const FloatFormat f(vals, dt.itemsize() == 4);
    for (double v : vals) items.push_back(f(v));
    align_points(items);
  } else if (dt.kind() == DTypeKind::kComplex) {
    std::vector<double> re, im;
    for (auto i : flat) {
      const auto c = load(i).as_complex();
      re.push_back(c.real());
      im.push_back(c.imag());
    }
    const FloatFormat fr(re, dt.itemsize() == 8), fi(im, dt.itemsize() == 8);
    std::vector<std::string> rs, is;
    for (double v : re) rs.push_back(fr(v));
    for (double v : im) is.push_back(fi(std::fabs(v)));
    align_points(rs);
    align_points(is);
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

  // A port of numpy's _formatArray (arrayprint.py): line width 75, hanging
  // indents, wrapping of the innermost axis, blank lines between blocks.
  constexpr std::size_t kLineWidth = 75;
  std::size_t next = 0;
  auto extend = [](std::string& s, std::string& line, const std::string& word, std::size_t width,
                   const std::string& prefix) {
    if (line.size() + word.size() > width && line.size() > prefix.size()) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      s += line + "\n";
      line = prefix;
    }
    line += word;
  };
  auto recurse = [&](auto&& self, std::size_t axis, const std::string& hanging,
                     std::size_t width) -> std::string {
    if (axis == nd) return items[next++];
    const std::string next_hanging = hanging + " ";
    const std::size_t next_width = width - 1;
    const auto& pos = axes[axis];
    std::string s;
    if (axis + 1 == nd) {
      std::string line = hanging;
      for (std::size_t k = 0; k < pos.size(); ++k) {
        const std::string word =
            pos[k] < 0 ? std::string("...") : self(self, axis + 1, next_hanging, next_width);
        extend(s, line, word, width - 1, hanging);  // room for the ']'

        if (k + 1 < pos.size()) line += " ";
      }
      s += line;
    } else {
      const std::string line_sep(nd - axis - 1, '\n');
      for (std::size_t k = 0; k < pos.size(); ++k) {
        s += hanging;
        s += pos[k] < 0 ? std::string("...") : self(self, axis + 1, next_hanging, next_width);
        if (k + 1 < pos.size()) s += line_sep;
      }
    }
    return "[" + s.substr(hanging.size()) + "]";
  };
  return recurse(recurse, 0, " ", kLineWidth);
}

}  // namespace dosna::cli
