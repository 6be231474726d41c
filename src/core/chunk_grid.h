// Chunk-grid geometry shared by the whole-dataset operations (internal).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dosna/backend.h"
#include "dosna/selection.h"

namespace dosna::detail {

// The chunk index at flat position `flat` of `grid` in C order.
inline ChunkIndex unravel(std::int64_t flat, const Shape& grid) {
  ChunkIndex idx(grid.size());
  for (std::size_t d = grid.size(); d-- > 0;) {
    idx[d] = flat % grid[d];
    flat /= grid[d];
  }
  return idx;
}

// The part of chunk `index` inside the dataset: its start and extent.
struct ChunkBox {
  std::vector<std::int64_t> start, count;
  bool edge = false;
};
inline ChunkBox chunk_box(const DatasetMeta& meta, const ChunkIndex& index) {
  ChunkBox box;
  for (std::size_t d = 0; d < index.size(); ++d) {
    const std::int64_t lo = index[d] * meta.chunk_size[d];
    const std::int64_t n = std::min(meta.chunk_size[d], meta.shape[d] - lo);
    box.start.push_back(lo);
    box.count.push_back(n);
    box.edge |= n != meta.chunk_size[d];
  }
  return box;
}

}  // namespace dosna::detail
