// The linear grey map of `slice --png`: v -> round((v - vmin) / (vmax - vmin)
// * 255), clamped to 0..255; NaN -> 0; vmax == vmin -> 0 everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dosna/array.h"

namespace dosna::cli {

struct GreyImage {
  std::vector<std::uint8_t> pixels;
  double vmin = 0, vmax = 0;  // the limits used
};

// `array` is 2-D of a real dtype (bool, ints, floats). Missing limits are
// the finite min / max of the array. Throws InvalidArgument otherwise.
GreyImage grey_map(const NdArray& array, std::optional<double> vmin, std::optional<double> vmax);

}  // namespace dosna::cli
