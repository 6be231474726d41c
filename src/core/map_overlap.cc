// Dataset::map_overlap: a per-chunk map whose function sees a halo of
// neighbouring values, built on Dataset::read of the extended box clipped to
// the dataset plus 'reflect' padding beyond the dataset's borders.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/chunk_grid.h"
#include "core/copy.h"
#include "core/dataset_state.h"
#include "core/metadata_codec.h"
#include "dosna/dataset.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

using detail::ChunkBox;

// The position in [0, n) that scipy.ndimage's mode 'reflect' reads for p.
std::int64_t reflect_index(std::int64_t p, std::int64_t n) {
  const std::int64_t period = 2 * n;
  std::int64_t m = p % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// A box of the dataset extended by `halo` on every side, padded by
// reflection where it leaves the dataset.
NdArray extended_block(const Dataset& ds, const ChunkBox& box, std::int64_t halo) {
  const std::size_t nd = box.count.size();
  const Shape& shape = ds.shape();
  Shape ext(nd), lo(nd), read_lo(nd);
  std::vector<IndexItem> items;
  bool inside = true;
  for (std::size_t d = 0; d < nd; ++d) {
    lo[d] = box.start[d] - halo;
    const std::int64_t hi = box.start[d] + box.count[d] + halo;
    ext[d] = hi - lo[d];
    read_lo[d] = std::max<std::int64_t>(0, lo[d]);
    const std::int64_t read_hi = std::min(shape[d], hi);
    items.emplace_back(slice(read_lo[d], read_hi));
    inside &= read_lo[d] == lo[d] && read_hi == hi;
  }
  NdArray core = ds.read(Selection(std::move(items)));
  if (inside) return core;

  NdArray out = NdArray::uninitialized(ds.dtype(), ext);
  if (out.size() == 0) return out;
  // Per axis: the position inside `core` that each extended position reads.
  std::vector<std::vector<std::int64_t>> src_pos(nd);
  for (std::size_t d = 0; d < nd; ++d) {
    src_pos[d].resize(static_cast<std::size_t>(ext[d]));
    for (std::int64_t i = 0; i < ext[d]; ++i)
      src_pos[d][static_cast<std::size_t>(i)] = reflect_index(lo[d] + i, shape[d]) - read_lo[d];
  }
  const std::size_t isz = ds.dtype().itemsize();
  const auto src_strides = contiguous_strides(core.shape(), isz);
  const auto& inner = src_pos[nd - 1];
  const std::size_t row_bytes = inner.size() * isz;
  std::vector<std::int64_t> pos(nd - 1, 0);
  std::byte* dst = out.bytes();
  for (;;) {
    const std::byte* src = core.bytes();
    for (std::size_t d = 0; d + 1 < nd; ++d)
      src += src_pos[d][static_cast<std::size_t>(pos[d])] * src_strides[d];
    // Copy the row in runs of consecutive source positions.
    for (std::size_t i = 0; i < inner.size();) {
      std::size_t j = i + 1;
      while (j < inner.size() && inner[j] == inner[j - 1] + 1) ++j;
      std::memcpy(dst + i * isz, src + inner[i] * static_cast<std::int64_t>(isz), (j - i) * isz);
      i = j;
    }
    dst += row_bytes;
    std::size_t d = nd - 1;
    while (d > 0 && ++pos[d - 1] == ext[d - 1]) pos[--d] = 0;
    if (d == 0) break;
  }
  return out;
}

// Chunks per axis handled by one task. Neighbouring chunks share their
// halos, so a task reads the extended box of a group of chunks once (read
// amplification ((g*C + 2h) / (g*C))^d instead of up to 3^d chunk reads per
// chunk), as long as every worker still gets several groups and a group's
// box stays small.
Shape group_shape(const detail::DatasetState& st, std::int64_t halo, std::size_t workers) {
  const std::size_t nd = st.grid.size();
  Shape g(nd, 1);
  if (halo == 0) return g;
  constexpr std::int64_t kMaxGroupBytes = std::int64_t{256} << 20;
  const auto min_groups = static_cast<std::int64_t>(4 * std::max<std::size_t>(workers, 1));
  auto groups = [&](const Shape& gs) {
    std::int64_t n = 1;
    for (std::size_t d = 0; d < nd; ++d) n *= (st.grid[d] + gs[d] - 1) / gs[d];
    return n;
  };
  auto bytes = [&](const Shape& gs) {
    auto n = static_cast<std::int64_t>(st.meta.dtype.itemsize());
    for (std::size_t d = 0; d < nd; ++d) n *= gs[d] * st.meta.chunk_size[d] + 2 * halo;
    return n;
  };
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t d = 0; d < nd; ++d) {
      if (g[d] >= st.grid[d]) continue;
      Shape next = g;
      next[d] = std::min(st.grid[d], 2 * g[d]);
      if (groups(next) < min_groups || bytes(next) > kMaxGroupBytes) continue;
      g = std::move(next);
      grew = true;
    }
  }
  return g;
}

}  // namespace

Dataset Dataset::map_overlap(const ChunkFunction& fn, const std::string& name,
                             std::int64_t halo) const {
  const auto& st = *state_;
  if (halo < 0)
    throw InvalidArgument(st.describe() + ": map_overlap halo " + std::to_string(halo) +
                          " is negative");
  Dataset out = clone(name, false);
  const std::size_t nd = st.grid.size();
  const std::size_t isz = st.meta.dtype.itemsize();
  const Shape group = group_shape(
      st, halo, st.engine->concurrency() * static_cast<std::size_t>(st.engine->size()));
  Shape groups(nd);
  std::int64_t ngroups = 1;
  for (std::size_t d = 0; d < nd; ++d) {
    groups[d] = (st.grid[d] + group[d] - 1) / group[d];
    ngroups *= groups[d];
  }

  auto process = [&](const ChunkIndex& index, NdArray block) {
    const ChunkBox box = detail::chunk_box(st.meta, index);
    const Shape ext = block.shape();
    NdArray result = fn(std::move(block));
    if (!(result.dtype() == st.meta.dtype) || (result.shape() != ext && result.shape() != box.count))
      throw InvalidArgument(st.describe() + ": map_overlap function returned an array of dtype " +
                            result.dtype().str() + " and shape " +
                            shape_to_string(result.shape()) + " for chunk " +
                            codec::join_index(index, '.') + " (expected " + st.meta.dtype.str() +
                            " " + shape_to_string(ext) + " or " + shape_to_string(box.count) + ")");
    ArrayView valid = result.view();
    if (result.shape() != box.count) {
      valid.strides = contiguous_strides(ext, isz);
      std::int64_t offset = 0;
      for (std::size_t d = 0; d < nd; ++d) offset += halo * valid.strides[d];
      valid.data += offset;
      valid.shape = box.count;
    }
    out.write(box_selection(box.start, box.count), valid);
  };

  st.engine->run_distributed(static_cast<std::size_t>(ngroups), [&](std::size_t i) {
    const ChunkIndex gidx = detail::unravel(static_cast<std::int64_t>(i), groups);
    ChunkIndex first(nd), count(nd);
    ChunkBox gbox;
    std::int64_t nchunks = 1;
    for (std::size_t d = 0; d < nd; ++d) {
      first[d] = gidx[d] * group[d];
      count[d] = std::min(group[d], st.grid[d] - first[d]);
      nchunks *= count[d];
      gbox.start.push_back(first[d] * st.meta.chunk_size[d]);
      gbox.count.push_back(std::min(st.meta.shape[d], (first[d] + count[d]) * st.meta.chunk_size[d]) -
                           gbox.start.back());
    }
    NdArray block = extended_block(*this, gbox, halo);
    if (nchunks == 1) {
      process(first, std::move(block));
      return;
    }
    const auto block_strides = contiguous_strides(block.shape(), isz);
    for (std::int64_t k = 0; k < nchunks; ++k) {
      ChunkIndex index = detail::unravel(k, count);
      for (std::size_t d = 0; d < nd; ++d) index[d] += first[d];
      const ChunkBox box = detail::chunk_box(st.meta, index);
      Shape ext(nd);
      std::int64_t offset = 0;
      for (std::size_t d = 0; d < nd; ++d) {
        ext[d] = box.count[d] + 2 * halo;
        offset += (box.start[d] - gbox.start[d]) * block_strides[d];
      }
      NdArray window = NdArray::uninitialized(st.meta.dtype, ext);
      copy_strided(block.bytes() + offset, block_strides.data(), window.bytes(),
                   contiguous_strides(ext, isz).data(), ext.data(), nd, isz);
      process(index, std::move(window));
    }
  });
  st.engine->barrier();
  return out;
}

}  // namespace dosna
