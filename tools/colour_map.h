// Colour maps of the viewer (`dosna serve`): a grey level 0..255 -> RGB.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dosna::cli {

using ColourTable = std::array<std::uint8_t, 256 * 3>;  // RGB of level 0, 1, ..., 255

// "grey" (identity) or "viridis" (matplotlib's, rounded to 8 bits). Throws
// InvalidArgument naming `name` and the known maps.
const ColourTable& colour_table(std::string_view name);

// Names of every colour map, in a stable order.
std::vector<std::string> colour_map_names();

// RGB pixels (3 bytes each) of `levels` through `table`.
std::vector<std::uint8_t> apply_colour_table(const std::vector<std::uint8_t>& levels,
                                             const ColourTable& table);

}  // namespace dosna::cli
