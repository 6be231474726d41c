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

// The number of elements of a box of extents `shape`.
inline std::int64_t shape_product(const Shape& shape) {
  std::int64_t n = 1;
  for (auto e : shape) n *= e;
  return n;
}

// The chunk grid cut into blocks of `group` chunks per axis (a store's
// ChunkStore::write_group), blocks numbered in C order.
class BlockGrid {
 public:
  BlockGrid(Shape grid, Shape group) : grid_(std::move(grid)), group_(std::move(group)) {
    for (std::size_t d = 0; d < grid_.size(); ++d) blocks_.push_back((grid_[d] + group_[d] - 1) / group_[d]);
  }
  std::int64_t size() const { return shape_product(blocks_); }
  // The chunks of block `flat` inside the grid, in C order.
  std::vector<ChunkIndex> chunks(std::int64_t flat) const {
    const ChunkIndex block = unravel(flat, blocks_);
    Shape lo(grid_.size()), count(grid_.size());
    for (std::size_t d = 0; d < grid_.size(); ++d) {
      lo[d] = block[d] * group_[d];
      count[d] = std::min(group_[d], grid_[d] - lo[d]);
    }
    const std::int64_t n = shape_product(count);
    std::vector<ChunkIndex> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      ChunkIndex c = unravel(i, count);
      for (std::size_t d = 0; d < c.size(); ++d) c[d] += lo[d];
      out.push_back(std::move(c));
    }
    return out;
  }
  // The block holding chunk `index`.
  static ChunkIndex block_of(const ChunkIndex& index, const Shape& group) {
    ChunkIndex b(index.size());
    for (std::size_t d = 0; d < index.size(); ++d) b[d] = index[d] / group[d];
    return b;
  }

 private:
  Shape grid_, group_, blocks_;
};

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
