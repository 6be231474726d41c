// The chunk plan: which chunks a normalised selection touches and, for each,
// the sub-box inside the chunk and where it lands in the selection's box.
#pragma once

#include <cstdint>
#include <vector>

#include "dosna/selection.h"

namespace dosna {

// One chunk's share of one axis.
struct AxisSegment {
  std::int64_t chunk = 0;           // chunk coordinate on this axis
  std::int64_t box_offset = 0;      // first position in the selection's box
  std::int64_t count = 0;           // positions in this chunk
  std::int64_t in_chunk_start = 0;  // first position inside the chunk
};

// One touched chunk: the cartesian product of one segment per axis. A read
// builds one per touched chunk, so the three per-axis arrays live inline up
// to kInlineAxes axes (only the index is allocated).
class ChunkTask {
 public:
  static constexpr std::size_t kInlineAxes = 6;
  ChunkIndex index;

  explicit ChunkTask(std::size_t ndim) : index(ndim), ndim_(ndim) {
    if (ndim > kInlineAxes) large_.resize(3 * ndim);
  }
  // Stays valid when `index` was moved out.
  std::size_t ndim() const { return ndim_; }
  // Per axis: first position in the selection's box, positions in this
  // chunk, first position inside the chunk.
  std::int64_t* box_offset() { return values(); }
  std::int64_t* count() { return values() + ndim(); }
  std::int64_t* in_chunk_start() { return values() + 2 * ndim(); }
  const std::int64_t* box_offset() const { return values(); }
  const std::int64_t* count() const { return values() + ndim(); }
  const std::int64_t* in_chunk_start() const { return values() + 2 * ndim(); }

 private:
  std::int64_t* values() { return large_.empty() ? small_ : large_.data(); }
  const std::int64_t* values() const { return large_.empty() ? small_ : large_.data(); }
  std::size_t ndim_;
  std::int64_t small_[3 * kInlineAxes] = {};
  std::vector<std::int64_t> large_;
};

class ChunkPlan {
 public:
  ChunkPlan(const NormalizedSelection& selection, const Shape& shape, const Shape& chunk_size);

  std::int64_t size() const { return size_; }  // number of touched chunks
  ChunkTask task(std::int64_t t) const;         // t in [0, size()), C order over chunks
  const std::vector<std::int64_t>& steps() const { return steps_; }
  // Whether task `t` covers every element of its chunk that lies inside the
  // dataset (so a write needs no read of the old chunk).
  bool covers_chunk(const ChunkTask& task) const;
  // The task numbers grouped by blocks of `group` chunks per axis (a store's
  // ChunkStore::write_group): one list per block the plan touches.
  std::vector<std::vector<std::int64_t>> tasks_by_block(const Shape& group) const;

 private:
  std::vector<std::vector<AxisSegment>> axes_;
  std::vector<std::int64_t> steps_;
  Shape shape_, chunk_size_;
  std::int64_t size_ = 0;
};

}  // namespace dosna
