// Chunk shapes for arrays imported without one.
#pragma once

#include <cstddef>

#include "dosna/chunk_grid.h"

namespace dosna::cli {

// A chunk shape for `shape` when none is given: the whole array, with its
// largest axis halved until a chunk is at most `max_bytes`.
Shape default_chunks(const Shape& shape, std::size_t itemsize,
                     std::size_t max_bytes = std::size_t{4} << 20);

}  // namespace dosna::cli
