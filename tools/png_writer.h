// 8-bit greyscale PNG output (libpng).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dosna::cli {

// Writes `pixels` (height rows of width bytes, row-major) to `path`.
// Throws NotFound / PermissionDenied / IoError naming the path.
void write_grey_png(const std::string& path, const std::vector<std::uint8_t>& pixels,
                    std::int64_t height, std::int64_t width);

}  // namespace dosna::cli
