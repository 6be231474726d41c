// The boxes a dataset's chunks cover, for chunk-by-chunk copies.
#pragma once

#include <cstdint>

#include "dosna/backend.h"
#include "dosna/selection.h"

namespace dosna::cli {

struct ChunkBox {
  ChunkIndex index;
  Shape start;  // first element of the chunk in the dataset
  Shape count;  // elements inside the dataset (edge chunks are clipped)
};

// The box of the chunk at C-order position `flat` of meta's chunk grid.
ChunkBox chunk_box(const DatasetMeta& meta, std::int64_t flat);

// start:start+count on every axis.
Selection box_selection(const Shape& start, const Shape& count);

// A chunk shape for `shape` when none is given: the whole array, with its
// largest axis halved until a chunk is at most `max_bytes`.
Shape default_chunks(const Shape& shape, std::size_t itemsize,
                     std::size_t max_bytes = std::size_t{4} << 20);

}  // namespace dosna::cli
