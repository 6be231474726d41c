// 8-bit greyscale and RGB PNG output (libpng).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dosna::cli {

// The PNG file bytes of `pixels`: height rows of width * channels bytes,
// row-major; channels 1 = grey, 3 = RGB. `what` names the image in messages.
// Throws InvalidArgument for an impossible size, IoError if libpng fails.
std::string encode_png(const std::vector<std::uint8_t>& pixels, std::int64_t height,
                       std::int64_t width, int channels, const std::string& what);

// Writes `pixels` (height rows of width bytes, row-major) to `path`.
// Throws NotFound / PermissionDenied / IoError naming the path.
void write_grey_png(const std::string& path, const std::vector<std::uint8_t>& pixels,
                    std::int64_t height, std::int64_t width);

}  // namespace dosna::cli
