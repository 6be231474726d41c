// Chunk-grid geometry: where each chunk of a dataset lies and what it covers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dosna/backend.h"
#include "dosna/selection.h"

namespace dosna {

// The index at C-order position `flat` of a grid of extents `grid`.
inline ChunkIndex unravel(std::int64_t flat, const Shape& grid) {
  ChunkIndex idx(grid.size());
  for (std::size_t d = grid.size(); d-- > 0;) {
    idx[d] = flat % grid[d];
    flat /= grid[d];
  }
  return idx;
}

// The part of chunk `index` inside the dataset: its first element and its
// extent (edge chunks are clipped to the dataset's shape; `edge` says so).
struct ChunkBox {
  ChunkIndex index;
  Shape start, count;
  bool edge = false;
};

inline ChunkBox chunk_box(const DatasetMeta& meta, const ChunkIndex& index) {
  ChunkBox box;
  box.index = index;
  for (std::size_t d = 0; d < index.size(); ++d) {
    const std::int64_t lo = index[d] * meta.chunk_size[d];
    const std::int64_t n = std::min(meta.chunk_size[d], meta.shape[d] - lo);
    box.start.push_back(lo);
    box.count.push_back(n);
    box.edge |= n != meta.chunk_size[d];
  }
  return box;
}

// The box of the chunk at C-order position `flat` of meta's chunk grid.
inline ChunkBox chunk_box(const DatasetMeta& meta, std::int64_t flat) {
  return chunk_box(meta, unravel(flat, meta.chunk_grid()));
}

// The selection start:start+count on every axis.
inline Selection box_selection(const Shape& start, const Shape& count) {
  std::vector<IndexItem> items;
  for (std::size_t d = 0; d < start.size(); ++d) items.emplace_back(slice(start[d], start[d] + count[d]));
  return Selection(std::move(items));
}

}  // namespace dosna
