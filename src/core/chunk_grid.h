// Chunk-grid geometry shared by the whole-dataset operations (internal).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dosna/array.h"
#include "dosna/chunk_grid.h"

namespace dosna::detail {

using dosna::ChunkBox;
using dosna::chunk_box;
using dosna::unravel;

// The chunk grid cut into blocks of `group` chunks per axis (a store's
// ChunkStore::write_group), blocks numbered in C order.
class BlockGrid {
 public:
  BlockGrid(Shape grid, Shape group) : grid_(std::move(grid)), group_(std::move(group)) {
    for (std::size_t d = 0; d < grid_.size(); ++d) blocks_.push_back((grid_[d] + group_[d] - 1) / group_[d]);
  }
  std::int64_t size() const { return shape_size(blocks_); }
  // The chunks of block `flat` inside the grid, in C order.
  std::vector<ChunkIndex> chunks(std::int64_t flat) const {
    const ChunkIndex block = unravel(flat, blocks_);
    Shape lo(grid_.size()), count(grid_.size());
    for (std::size_t d = 0; d < grid_.size(); ++d) {
      lo[d] = block[d] * group_[d];
      count[d] = std::min(group_[d], grid_[d] - lo[d]);
    }
    const std::int64_t n = shape_size(count);
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

}  // namespace dosna::detail
