// Dataset::map_overlap: a per-chunk map whose function sees a halo of
// neighbouring values, built on Dataset::read of the extended box clipped to
// the dataset plus 'reflect' padding beyond the dataset's borders.
#include <cstring>
#include <string>
#include <vector>

#include "core/chunk_grid.h"
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

// The chunk's valid box extended by `halo` on every side, padded by reflection
// where it leaves the dataset.
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

}  // namespace

Dataset Dataset::map_overlap(const ChunkFunction& fn, const std::string& name,
                             std::int64_t halo) const {
  const auto& st = *state_;
  if (halo < 0)
    throw InvalidArgument(st.describe() + ": map_overlap halo " + std::to_string(halo) +
                          " is negative");
  Dataset out = clone(name, false);
  const std::size_t isz = st.meta.dtype.itemsize();
  st.engine->run_distributed(static_cast<std::size_t>(st.total_chunks), [&](std::size_t i) {
    const ChunkIndex index = detail::unravel(static_cast<std::int64_t>(i), st.grid);
    const ChunkBox box = detail::chunk_box(st.meta, index);
    NdArray block = extended_block(*this, box, halo);
    const Shape ext = block.shape();
    NdArray result = fn(std::move(block));
    if (!(result.dtype() == st.meta.dtype) || (result.shape() != ext && result.shape() != box.count))
      throw InvalidArgument(st.describe() + ": map_overlap function returned an array of dtype " +
                            result.dtype().str() + " and shape " +
                            shape_to_string(result.shape()) + " for chunk " +
                            codec::join_index(index, '.') + " (expected " + st.meta.dtype.str() +
                            " " + shape_to_string(ext) + " or " + shape_to_string(box.count) + ")");
    std::vector<IndexItem> items;
    for (std::size_t d = 0; d < box.count.size(); ++d)
      items.emplace_back(slice(box.start[d], box.start[d] + box.count[d]));
    ArrayView valid = result.view();
    if (result.shape() != box.count) {
      valid.strides = contiguous_strides(ext, isz);
      std::int64_t offset = 0;
      for (std::size_t d = 0; d < ext.size(); ++d) offset += halo * valid.strides[d];
      valid.data += offset;
      valid.shape = box.count;
    }
    out.write(Selection(std::move(items)), valid);
  });
  st.engine->barrier();
  return out;
}

}  // namespace dosna
