#include "grey_map.h"

#include <algorithm>
#include <cmath>

#include "dosna/errors.h"

namespace dosna::cli {

GreyImage grey_map(const NdArray& array, std::optional<double> vmin, std::optional<double> vmax) {
  if (array.ndim() != 2)
    throw InvalidArgument("--png needs a 2-D selection, this one has shape " +
                          shape_to_string(array.shape()));
  if (array.dtype().kind() == DTypeKind::kComplex)
    throw InvalidArgument("--png cannot map complex values (" + array.dtype().name() + ")");
  const auto n = static_cast<std::size_t>(array.size());
  const std::size_t isz = array.dtype().itemsize();
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i)
    values[i] = Scalar::load(array.dtype(), array.bytes() + i * isz).as_double();
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
