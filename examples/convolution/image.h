// 8-bit grayscale PNG of a 2-D float32 slice, for checking results by eye.
#pragma once

#include <string>

#include "dosna/array.h"

namespace dosna::conv {

// Scales [min, max] of `slice` (float32, 2-D) to 0..255 and writes `path`.
// Throws IoError when the file cannot be written.
void write_png(const std::string& path, const NdArray& slice);

}  // namespace dosna::conv
