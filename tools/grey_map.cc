#include "grey_map.h"

#include <algorithm>
#include <cmath>

#include "dosna/errors.h"

namespace dosna::cli {
namespace {

template <class T>
void widen(const std::byte* bytes, std::vector<double>& out) {
  const auto* p = reinterpret_cast<const T*>(bytes);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
}

// The array's values as doubles; the common real dtypes without a Scalar
// per element.
void to_doubles(const NdArray& array, std::vector<double>& out) {
  const DType t = array.dtype();
  if (t == DType::of<float>()) return widen<float>(array.bytes(), out);
  if (t == DType::of<double>()) return widen<double>(array.bytes(), out);
  if (t == DType::of<std::int16_t>()) return widen<std::int16_t>(array.bytes(), out);
  if (t == DType::of<std::uint16_t>()) return widen<std::uint16_t>(array.bytes(), out);
  if (t == DType::of<std::uint8_t>()) return widen<std::uint8_t>(array.bytes(), out);
  if (t == DType::of<std::int32_t>()) return widen<std::int32_t>(array.bytes(), out);
  const std::size_t isz = t.itemsize();
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = Scalar::load(t, array.bytes() + i * isz).as_double();
}

}  // namespace

GreyImage grey_map(const NdArray& array, std::optional<double> vmin, std::optional<double> vmax) {
  if (array.ndim() != 2)
    throw InvalidArgument("--png needs a 2-D selection, this one has shape " +
                          shape_to_string(array.shape()));
  if (array.dtype().kind() == DTypeKind::kComplex)
    throw InvalidArgument("--png cannot map complex values (" + array.dtype().name() + ")");
  const auto n = static_cast<std::size_t>(array.size());
  std::vector<double> values(n);
  to_doubles(array, values);
  GreyImage img;
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) lo = hi = 0;  // nothing finite
  img.vmin = vmin.value_or(lo);
  img.vmax = vmax.value_or(hi);
  if (!std::isfinite(img.vmin) || !std::isfinite(img.vmax) || img.vmin > img.vmax)
    throw InvalidArgument("--vmin/--vmax must be finite with vmin <= vmax (got " +
                          std::to_string(img.vmin) + ", " + std::to_string(img.vmax) + ")");
  const double span = img.vmax - img.vmin;
  img.pixels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    double g = 0;
    if (std::isnan(v) || span <= 0)
      g = 0;
    else
      g = std::round((v - img.vmin) / span * 255.0);
    img.pixels[i] = static_cast<std::uint8_t>(std::clamp(g, 0.0, 255.0));
  }
  return img;
}

}  // namespace dosna::cli
