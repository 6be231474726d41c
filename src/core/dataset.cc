// Dataset: slicing (selection -> chunk plan -> gather/scatter), whole-dataset
// operations on top of the engine, and the chunk-level API.
#include "dosna/dataset.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/chunk_grid.h"
#include "core/chunk_locks.h"
#include "core/chunk_plan.h"
#include "core/copy.h"
#include "core/dataset_state.h"
#include "core/metadata_codec.h"
#include "dosna/names.h"

namespace dosna {
namespace detail {

DatasetState::DatasetState(std::string n, DatasetMeta m, std::shared_ptr<Backend> b,
                           std::shared_ptr<Engine> e)
    : name(std::move(n)), meta(std::move(m)), backend(std::move(b)), engine(std::move(e)) {
  grid = meta.chunk_grid();
  total_chunks = meta.total_chunks();
  chunk_strides = contiguous_strides(meta.chunk_size, meta.dtype.itemsize());
  meta.fillvalue.store(meta.dtype, fill);
  meta.fillvalue = Scalar::load(meta.dtype, fill);
  lock_key = std::string(backend->kind()) + '\0' + backend->name() + '\0' + name;
  store = backend->chunks(name, meta);
}

void DatasetState::check_connected() const {
  if (!backend->connected())
    throw ConnectionError(describe() + ": the connection is closed");
}

std::string DatasetState::describe() const {
  return "dataset '" + name + "' (" + std::string(backend->kind()) + " store '" +
         backend->name() + "')";
}

}  // namespace detail

namespace {

using detail::chunk_box;
using detail::ChunkBox;
using detail::DatasetState;
using detail::unravel;

// Chunks per batch: big enough to keep a backend's asynchronous requests in
// flight, small enough that every worker gets several batches. A single
// worker gains nothing from splitting, so it takes up to kMaxBatch at once
// (a box touching 8 chunks is one batch: 8 reads in flight, not 8 in a row).
std::size_t batch_size(std::int64_t tasks, std::size_t workers) {
  constexpr std::size_t kMaxBatch = 64;
  if (workers <= 1) return std::clamp<std::size_t>(static_cast<std::size_t>(tasks), 1, kMaxBatch);
  const auto per = (static_cast<std::size_t>(tasks) + 4 * workers - 1) / (4 * workers);
  return std::clamp<std::size_t>(per, 1, 16);
}

// Runs fn(first, last) over [0, n) in batches on the engine.
template <class Fn>
void for_each_batch(Engine& engine, std::int64_t n, bool distributed, Fn&& fn) {
  if (n <= 0 && !distributed) return;
  const std::size_t workers = distributed ? engine.concurrency() * static_cast<std::size_t>(engine.size())
                                          : engine.concurrency();
  const std::size_t batch = batch_size(n, std::max<std::size_t>(workers, 1));
  const std::size_t batches = (static_cast<std::size_t>(std::max<std::int64_t>(n, 0)) + batch - 1) / batch;
  auto task = [&](std::size_t b) {
    const auto first = static_cast<std::int64_t>(b * batch);
    fn(first, std::min<std::int64_t>(n, first + static_cast<std::int64_t>(batch)));
  };
  if (distributed) engine.run_distributed(batches, task);
  else engine.run_local(batches, task);
}

std::int64_t offset_of(const std::vector<std::int64_t>& pos, const std::vector<std::int64_t>& strides) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < pos.size(); ++d) off += pos[d] * strides[d];
  return off;
}

void check_payload(const DatasetState& st, const ChunkIndex& index, const ChunkData& data) {
  if (data && data->size() != st.meta.chunk_nbytes())
    throw IoError(st.describe() + ": chunk " + codec::join_index(index, '.') + " holds " +
                  std::to_string(data->size()) + " bytes, expected " +
                  std::to_string(st.meta.chunk_nbytes()));
}

// A fresh chunk buffer: the fill value where `box` does not reach (edge
// chunks), so the stored block is always full chunk_size as FORMAT.md says.
std::shared_ptr<Buffer> new_chunk_buffer(const DatasetState& st, bool needs_fill) {
  auto buf = Buffer::allocate(st.meta.chunk_nbytes());
  if (needs_fill)
    fill_bytes(buf->data(), shape_size(st.meta.chunk_size), st.meta.dtype, st.meta.fillvalue);
  return buf;
}

// Strides of the selection's box (squeezed axes included) in a user buffer
// whose shape is either the result shape or the box shape.
std::vector<std::int64_t> box_strides(const DatasetState& st, const NormalizedSelection& norm,
                                      const Shape& shape, const std::vector<std::int64_t>& strides) {
  const std::size_t isz = st.meta.dtype.itemsize();
  const Shape box = norm.box_shape();
  const Shape result = norm.result_shape();
  if (shape == box) return strides.empty() ? contiguous_strides(box, isz) : strides;
  if (shape == result) {
    const auto rs = strides.empty() ? contiguous_strides(result, isz) : strides;
    std::vector<std::int64_t> out;
    std::size_t r = 0;
    for (const auto& a : norm.axes) out.push_back(a.squeeze ? 0 : rs[r++]);
    return out;
  }
  throw InvalidArgument(st.describe() + ": buffer of shape " + shape_to_string(shape) +
                        " does not match the selection's shape " + shape_to_string(result));
}

// numpy's broadcasting of an assigned value to the selection's result shape;
// returns strides over the box (0 where broadcast or squeezed).
std::vector<std::int64_t> broadcast_strides(const DatasetState& st, const NormalizedSelection& norm,
                                            const ArrayView& values) {
  const Shape result = norm.result_shape();
  const auto vstrides = values.strides.empty()
                            ? contiguous_strides(values.shape, values.dtype.itemsize())
                            : values.strides;
  auto fail = [&] {
    return InvalidArgument(st.describe() + ": could not broadcast input array from shape " +
                           shape_to_string(values.shape) + " into shape " +
                           shape_to_string(result));
  };
  const auto vn = static_cast<std::int64_t>(values.shape.size());
  const auto rn = static_cast<std::int64_t>(result.size());
  for (std::int64_t i = 0; i < vn - rn; ++i)
    if (values.shape[static_cast<std::size_t>(i)] != 1) throw fail();
  std::vector<std::int64_t> rstrides(result.size(), 0);
  for (std::int64_t i = 1; i <= std::min(vn, rn); ++i) {
    const auto v = values.shape[static_cast<std::size_t>(vn - i)];
    const auto r = result[static_cast<std::size_t>(rn - i)];
    if (v == r) rstrides[static_cast<std::size_t>(rn - i)] = vstrides[static_cast<std::size_t>(vn - i)];
    else if (v != 1) throw fail();
  }
  std::vector<std::int64_t> out;
  std::size_t r = 0;
  for (const auto& a : norm.axes) out.push_back(a.squeeze ? 0 : rstrides[r++]);
  return out;
}

// If the sub-box of a chunk is one contiguous byte range (positive unit
// steps), returns its length; 0 otherwise.
std::size_t contiguous_range(const DatasetState& st, const ChunkTask& t,
                             const std::vector<std::int64_t>& steps) {
  const auto& cs = st.meta.chunk_size;
  const std::size_t nd = cs.size();
  std::size_t j = 0;
  while (j < nd && t.count[j] == 1) ++j;
  if (j == nd) return st.meta.dtype.itemsize();
  if (steps[j] != 1) return 0;
  for (std::size_t d = j + 1; d < nd; ++d)
    if (t.count[d] != cs[d] || steps[d] != 1) return 0;
  std::size_t n = st.meta.dtype.itemsize();
  for (std::size_t d = j; d < nd; ++d) n *= static_cast<std::size_t>(t.count[d]);
  return n;
}

// Copies the chunk sub-box of task `t` from `chunk` (nullptr = fill value)
// into the user box at `dst` with `dst_strides`.
void gather_one(const DatasetState& st, const ChunkTask& t, const std::vector<std::int64_t>& steps,
                const std::byte* chunk, bool is_range, std::byte* dst,
                const std::vector<std::int64_t>& dst_strides) {
  const std::size_t nd = t.count.size();
  std::int64_t src_strides[16];
  std::vector<std::int64_t> heap;
  std::int64_t* ss = src_strides;
  if (nd > 16) {
    heap.resize(nd);
    ss = heap.data();
  }
  const std::byte* src;
  if (chunk) {
    for (std::size_t d = 0; d < nd; ++d) ss[d] = st.chunk_strides[d] * steps[d];
    src = is_range ? chunk : chunk + offset_of(t.in_chunk_start, st.chunk_strides);
  } else {
    std::fill(ss, ss + nd, 0);
    src = st.fill;
  }
  copy_strided(src, ss, dst + offset_of(t.box_offset, dst_strides), dst_strides.data(),
               t.count.data(), nd, st.meta.dtype.itemsize());
}

// Copies user box data into the chunk sub-box of task `t` in `chunk`.
void scatter_one(const DatasetState& st, const ChunkTask& t, const std::vector<std::int64_t>& steps,
                 const std::byte* src, const std::vector<std::int64_t>& src_strides, std::byte* chunk) {
  const std::size_t nd = t.count.size();
  std::vector<std::int64_t> ds(nd);
  for (std::size_t d = 0; d < nd; ++d) ds[d] = st.chunk_strides[d] * steps[d];
  copy_strided(src + offset_of(t.box_offset, src_strides), src_strides.data(),
               chunk + offset_of(t.in_chunk_start, st.chunk_strides), ds.data(), t.count.data(),
               nd, st.meta.dtype.itemsize());
}

// The sub-box of a chunk as "planes": one byte range per position of the
// outer axes (all but the last two), each spanning the inner rectangle, and
// the strides of the sub-box inside those ranges once concatenated. Adjacent
// ranges are merged. nullopt for non-positive steps or too many ranges.
struct PlaneRanges {
  std::vector<ByteRange> ranges;
  std::vector<std::int64_t> src_strides;
  std::size_t total = 0;
};

std::optional<PlaneRanges> plane_ranges(const DatasetState& st, const ChunkTask& t,
                                        const std::vector<std::int64_t>& steps) {
  constexpr std::int64_t kMaxRanges = 1024;
  const std::size_t nd = t.count.size();
  if (nd == 0) return std::nullopt;
  for (std::size_t d = 0; d < nd; ++d)
    if (steps[d] <= 0 || t.count[d] <= 0) return std::nullopt;
  const std::size_t inner = nd >= 2 ? nd - 2 : 0;
  const auto& cs = st.chunk_strides;
  auto span = static_cast<std::int64_t>(st.meta.dtype.itemsize());
  std::int64_t base = 0;
  for (std::size_t d = inner; d < nd; ++d) {
    span += (t.count[d] - 1) * steps[d] * cs[d];
    base += t.in_chunk_start[d] * cs[d];
  }
  std::int64_t planes = 1;
  for (std::size_t d = 0; d < inner; ++d) planes *= t.count[d];
  if (planes > kMaxRanges) return std::nullopt;
  PlaneRanges out;
  out.total = static_cast<std::size_t>(planes * span);
  out.src_strides.resize(nd);
  for (std::size_t d = inner; d < nd; ++d) out.src_strides[d] = cs[d] * steps[d];
  std::int64_t packed = span;
  for (std::size_t d = inner; d-- > 0;) {
    out.src_strides[d] = packed;
    packed *= t.count[d];
  }
  std::vector<std::int64_t> m(inner, 0);
  for (std::int64_t p = 0; p < planes; ++p) {
    std::int64_t off = base;
    for (std::size_t d = 0; d < inner; ++d) off += (t.in_chunk_start[d] + m[d] * steps[d]) * cs[d];
    const ByteRange r{static_cast<std::size_t>(off), static_cast<std::size_t>(span)};
    if (!out.ranges.empty() && out.ranges.back().offset + out.ranges.back().length == r.offset)
      out.ranges.back().length += r.length;
    else
      out.ranges.push_back(r);
    for (std::size_t d = inner; d-- > 0;) {
      if (++m[d] < t.count[d]) break;
      m[d] = 0;
    }
  }
  return out;
}

// gather() for stores that fetch byte ranges (ChunkStore::reads_ranges): a
// chunk the selection only partly covers is read as its planes, every chunk
// of the batch in one get_ranges_many call, so only the needed bytes travel.
void gather_ranged(const DatasetState& st, const ChunkPlan& plan, std::byte* dst,
                   const std::vector<std::int64_t>& dst_strides) {
  const auto& steps = plan.steps();
  const std::size_t chunk_nbytes = st.meta.chunk_nbytes();
  for_each_batch(*st.engine, plan.size(), false, [&](std::int64_t first, std::int64_t last) {
    std::vector<ChunkTask> tasks;
    std::vector<ChunkIndex> idx;
    std::vector<std::vector<ByteRange>> ranges;
    std::vector<std::optional<PlaneRanges>> parts;
    bool any_partial = false;
    for (std::int64_t i = first; i < last; ++i) {
      ChunkTask t = plan.task(i);
      auto part = plane_ranges(st, t, steps);
      if (part && part->total <= chunk_nbytes / 2) {
        ranges.push_back(part->ranges);
        any_partial = true;
      } else {
        part.reset();
        ranges.push_back({ByteRange{0, chunk_nbytes}});
      }
      idx.push_back(t.index);
      tasks.push_back(std::move(t));
      parts.push_back(std::move(part));
    }
    std::vector<ChunkData> data(tasks.size());
    if (any_partial) st.store->get_ranges_many(idx, ranges, data);
    else st.store->get_many(idx, data);
    const std::size_t isz = st.meta.dtype.itemsize();
    for (std::size_t k = 0; k < tasks.size(); ++k) {
      const ChunkTask& t = tasks[k];
      if (!parts[k] || !data[k]) {
        check_payload(st, t.index, data[k]);
        gather_one(st, t, steps, data[k] ? data[k]->data() : nullptr, false, dst, dst_strides);
        continue;
      }
      if (data[k]->size() != parts[k]->total)
        throw IoError(st.describe() + ": short ranged read of chunk " +
                      codec::join_index(t.index, '.'));
      copy_strided(data[k]->data(), parts[k]->src_strides.data(),
                   dst + offset_of(t.box_offset, dst_strides), dst_strides.data(), t.count.data(),
                   t.count.size(), isz);
    }
  });
}

void gather(const DatasetState& st, const NormalizedSelection& norm, std::byte* dst,
            const std::vector<std::int64_t>& dst_strides) {
  const ChunkPlan plan(norm, st.meta.shape, st.meta.chunk_size);
  if (st.store->reads_ranges()) return gather_ranged(st, plan, dst, dst_strides);
  const auto& steps = plan.steps();
  const std::size_t half_chunk = st.meta.chunk_nbytes() / 2;
  for_each_batch(*st.engine, plan.size(), false, [&](std::int64_t first, std::int64_t last) {
    std::vector<ChunkTask> whole;
    std::vector<ChunkIndex> whole_idx;
    for (std::int64_t i = first; i < last; ++i) {
      ChunkTask t = plan.task(i);
      const std::size_t range = contiguous_range(st, t, steps);
      if (range > 0 && range <= half_chunk) {
        ChunkData part = st.store->get_range(
            t.index, static_cast<std::size_t>(offset_of(t.in_chunk_start, st.chunk_strides)), range);
        if (part && part->size() != range)
          throw IoError(st.describe() + ": short range read of chunk " +
                        codec::join_index(t.index, '.'));
        gather_one(st, t, steps, part ? part->data() : nullptr, true, dst, dst_strides);
      } else {
        whole_idx.push_back(t.index);
        whole.push_back(std::move(t));
      }
    }
    if (whole.empty()) return;
    std::vector<ChunkData> data(whole.size());
    st.store->get_many(whole_idx, data);
    for (std::size_t k = 0; k < whole.size(); ++k) {
      check_payload(st, whole[k].index, data[k]);
      gather_one(st, whole[k], steps, data[k] ? data[k]->data() : nullptr, false, dst, dst_strides);
    }
  });
}

void scatter(const DatasetState& st, const NormalizedSelection& norm, const std::byte* src,
             const std::vector<std::int64_t>& src_strides) {
  const ChunkPlan plan(norm, st.meta.shape, st.meta.chunk_size);
  const auto& steps = plan.steps();
  for_each_batch(*st.engine, plan.size(), false, [&](std::int64_t first, std::int64_t last) {
    std::vector<ChunkIndex> full_idx;
    std::vector<ChunkData> full_data;
    for (std::int64_t i = first; i < last; ++i) {
      ChunkTask t = plan.task(i);
      if (plan.covers_chunk(t)) {
        auto buf = new_chunk_buffer(st, chunk_box(st.meta, t.index).edge);
        scatter_one(st, t, steps, src, src_strides, buf->data());
        full_idx.push_back(t.index);
        full_data.push_back(std::move(buf));
        continue;
      }
      std::lock_guard lock(chunk_lock(st.lock_key, t.index));
      st.store->update(t.index, [&](const ChunkData& current) -> ChunkData {
        check_payload(st, t.index, current);
        auto buf = new_chunk_buffer(st, !current);
        if (current) std::memcpy(buf->data(), current->data(), current->size());
        scatter_one(st, t, steps, src, src_strides, buf->data());
        return buf;
      });
    }
    if (!full_idx.empty()) st.store->put_many(full_idx, full_data);
  });
}

// The valid part of a chunk as an owned array (fill value when absent).
NdArray chunk_array(const DatasetState& st, const ChunkIndex& index, const ChunkData& data) {
  const ChunkBox box = chunk_box(st.meta, index);
  NdArray out = NdArray::uninitialized(st.meta.dtype, box.count);
  const auto dst_strides = contiguous_strides(box.count, st.meta.dtype.itemsize());
  std::vector<std::int64_t> src_strides(box.count.size(), 0);
  const std::byte* src = st.fill;
  if (data) {
    src = data->data();
    src_strides = st.chunk_strides;
  }
  copy_strided(src, src_strides.data(), out.bytes(), dst_strides.data(), box.count.data(),
               box.count.size(), st.meta.dtype.itemsize());
  return out;
}

// A full chunk payload from an array holding the chunk's valid part.
ChunkData chunk_payload(const DatasetState& st, const ChunkIndex& index, const ArrayView& valid) {
  const ChunkBox box = chunk_box(st.meta, index);
  auto buf = new_chunk_buffer(st, box.edge);
  const auto src_strides =
      valid.strides.empty() ? contiguous_strides(valid.shape, valid.dtype.itemsize()) : valid.strides;
  copy_strided(valid.data, src_strides.data(), buf->data(), st.chunk_strides.data(),
               box.count.data(), box.count.size(), st.meta.dtype.itemsize());
  return buf;
}

void check_index(const DatasetState& st, const ChunkIndex& index) {
  bool ok = index.size() == st.grid.size();
  for (std::size_t d = 0; ok && d < index.size(); ++d) ok = index[d] >= 0 && index[d] < st.grid[d];
  if (!ok)
    throw IndexOutOfRange(st.describe() + ": chunk index (" + codec::join_index(index, ',') +
                          ") outside the chunk grid " + shape_to_string(st.grid));
}

std::vector<ChunkIndex> sorted_chunks(const DatasetState& st) {
  auto list = st.store->list();
  std::sort(list.begin(), list.end());
  return list;
}

// Runs fn over every chunk of the grid, split across the engine, fetching the
// source chunks in batches.
void for_each_chunk(const DatasetState& src,
                    const std::function<void(const ChunkIndex&, const ChunkData&)>& fn) {
  for_each_batch(*src.engine, src.total_chunks, true, [&](std::int64_t first, std::int64_t last) {
    std::vector<ChunkIndex> idx;
    for (std::int64_t i = first; i < last; ++i) idx.push_back(unravel(i, src.grid));
    std::vector<ChunkData> data(idx.size());
    src.store->get_many(idx, data);
    for (std::size_t k = 0; k < idx.size(); ++k) {
      check_payload(src, idx[k], data[k]);
      fn(idx[k], data[k]);
    }
  });
}

NdArray apply_fn(const DatasetState& st, const ChunkFunction& fn, const ChunkIndex& index,
                 const ChunkData& data) {
  NdArray in = chunk_array(st, index, data);
  const Shape expected = in.shape();
  NdArray out = fn(std::move(in));
  if (!(out.dtype() == st.meta.dtype) || out.shape() != expected)
    throw InvalidArgument(st.describe() + ": function returned an array of dtype " +
                          out.dtype().str() + " and shape " + shape_to_string(out.shape()) +
                          " for chunk " + codec::join_index(index, '.') + " (expected " +
                          st.meta.dtype.str() + " " + shape_to_string(expected) + ")");
  return out;
}

}  // namespace

// --- properties

const std::string& Dataset::name() const { return state_->name; }
const Shape& Dataset::shape() const { return state_->meta.shape; }
std::size_t Dataset::ndim() const { return state_->meta.shape.size(); }
DType Dataset::dtype() const { return state_->meta.dtype; }
const Scalar& Dataset::fillvalue() const { return state_->meta.fillvalue; }
const Shape& Dataset::chunk_size() const { return state_->meta.chunk_size; }
const Shape& Dataset::chunk_grid() const { return state_->grid; }
std::int64_t Dataset::total_chunks() const { return state_->total_chunks; }
const DatasetMeta& Dataset::meta() const { return state_->meta; }
Engine& Dataset::engine() const { return *state_->engine; }
Backend& Dataset::backend() const { return *state_->backend; }

// --- slicing

NdArray Dataset::read(const Selection& selection) const {
  const auto& st = *state_;
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.shape, st.name);
  NdArray out = NdArray::uninitialized(st.meta.dtype, norm.result_shape());
  gather(st, norm, out.bytes(), box_strides(st, norm, out.shape(), {}));
  return out;
}

void Dataset::read(const Selection& selection, MutableArrayView out) const {
  const auto& st = *state_;
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.shape, st.name);
  if (!(out.dtype == st.meta.dtype))
    throw InvalidArgument(st.describe() + ": buffer dtype " + out.dtype.str() +
                          " differs from the dataset's " + st.meta.dtype.str());
  const auto strides = box_strides(st, norm, out.shape, out.strides);
  if (norm.size() == 0) return;
  gather(st, norm, out.data, strides);
}

void Dataset::write(const Selection& selection, ArrayView values) {
  const auto& st = *state_;
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.shape, st.name);
  if (!(values.dtype == st.meta.dtype))
    throw InvalidArgument(st.describe() + ": values of dtype " + values.dtype.str() +
                          " cannot be written to a dataset of dtype " + st.meta.dtype.str());
  const auto strides = broadcast_strides(st, norm, values);
  if (norm.size() == 0) return;
  scatter(st, norm, values.data, strides);
}

void Dataset::write(const Selection& selection, const Scalar& value) {
  const auto& st = *state_;
  std::byte one[16];
  value.store(st.meta.dtype, one);
  write(selection, ArrayView{st.meta.dtype, {}, one, {}});
}

// --- whole-dataset operations

void Dataset::load(ArrayView data) {
  const auto& st = *state_;
  st.check_connected();
  if (!(data.dtype == st.meta.dtype) || data.shape != st.meta.shape)
    throw InvalidArgument(st.describe() + ": load needs an array of dtype " + st.meta.dtype.str() +
                          " and shape " + shape_to_string(st.meta.shape) + ", got " +
                          data.dtype.str() + " " + shape_to_string(data.shape));
  const auto strides =
      data.strides.empty() ? contiguous_strides(data.shape, data.dtype.itemsize()) : data.strides;
  for_each_batch(*st.engine, st.total_chunks, true, [&](std::int64_t first, std::int64_t last) {
    std::vector<ChunkIndex> idx;
    std::vector<ChunkData> payloads;
    for (std::int64_t i = first; i < last; ++i) {
      idx.push_back(unravel(i, st.grid));
      const ChunkBox box = chunk_box(st.meta, idx.back());
      payloads.push_back(chunk_payload(
          st, idx.back(),
          ArrayView{data.dtype, box.count, data.data + offset_of(box.start, strides), strides}));
    }
    st.store->put_many(idx, payloads);
  });
}

void Dataset::clear() {
  const auto& st = *state_;
  st.check_connected();
  st.engine->barrier();
  const auto chunks = sorted_chunks(st);
  st.engine->barrier();
  st.engine->run_distributed(chunks.size(), [&](std::size_t i) { st.store->remove(chunks[i]); });
}

void Dataset::remove() {
  clear();
  const auto& st = *state_;
  st.engine->run_on_root([&] { st.backend->delete_dataset(st.name); });
}

Dataset Dataset::clone(const std::string& name, bool copy_data) const {
  const auto& st = *state_;
  st.check_connected();
  check_dataset_name(name, std::string(st.backend->kind()) + " store '" + st.backend->name() + "'");
  st.meta.validate(name);
  st.engine->run_on_root([&] { st.backend->create_dataset(name, st.meta); });
  Dataset out(std::make_shared<DatasetState>(name, st.meta, st.backend, st.engine));
  if (copy_data) {
    const auto& dst = *out.state_;
    for_each_chunk(st, [&](const ChunkIndex& index, const ChunkData& data) {
      if (data) dst.store->put(index, data);
    });
  }
  return out;
}

Dataset Dataset::map(const ChunkFunction& fn, const std::string& name) const {
  Dataset out = clone(name, false);
  const auto& st = *state_;
  const auto& dst = *out.state_;
  for_each_chunk(st, [&](const ChunkIndex& index, const ChunkData& data) {
    NdArray result = apply_fn(st, fn, index, data);
    dst.store->put(index, chunk_payload(dst, index, result.view()));
  });
  st.engine->barrier();
  return out;
}

void Dataset::apply(const ChunkFunction& fn) {
  const auto& st = *state_;
  st.check_connected();
  for_each_chunk(st, [&](const ChunkIndex& index, const ChunkData& data) {
    NdArray result = apply_fn(st, fn, index, data);
    st.store->put(index, chunk_payload(st, index, result.view()));
  });
  st.engine->barrier();
}

// --- chunk level

DataChunk Dataset::chunk(const ChunkIndex& index) const {
  check_index(*state_, index);
  return DataChunk(*this, index);
}

DataChunk Dataset::create_chunk(const ChunkIndex& index, std::optional<ArrayView> data,
                                const Selection& selection) {
  const auto& st = *state_;
  st.check_connected();
  check_index(st, index);
  const NormalizedSelection norm = normalize(selection, st.meta.chunk_size, st.name);
  std::vector<std::int64_t> strides;
  if (data) {
    if (!(data->dtype == st.meta.dtype))
      throw InvalidArgument(st.describe() + ": chunk data of dtype " + data->dtype.str() +
                            " for a dataset of dtype " + st.meta.dtype.str());
    strides = broadcast_strides(st, norm, *data);
  }
  st.engine->run_on_root([&] {
    auto buf = new_chunk_buffer(st, true);
    if (data && norm.size() > 0) {
      const ChunkPlan plan(norm, st.meta.chunk_size, st.meta.chunk_size);
      scatter_one(st, plan.task(0), plan.steps(), data->data, strides, buf->data());
    }
    st.store->put(index, std::move(buf));
  });
  return DataChunk(*this, index);
}

bool Dataset::has_chunk(const ChunkIndex& index) const {
  state_->check_connected();
  check_index(*state_, index);
  return state_->store->has(index);
}

bool Dataset::del_chunk(const ChunkIndex& index) {
  const auto& st = *state_;
  st.check_connected();
  check_index(st, index);
  const bool existed = st.store->has(index);
  st.engine->run_on_root([&] { st.store->remove(index); });
  return existed;
}

std::int64_t Dataset::stored_chunks() const {
  state_->check_connected();
  return static_cast<std::int64_t>(state_->store->list().size());
}

// --- DataChunk

std::string DataChunk::name() const { return dataset_.name() + "/" + codec::join_index(index_, '.'); }

NdArray DataChunk::read(const Selection& selection) const {
  const auto& st = *dataset_.state();
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.chunk_size, name());
  NdArray out = NdArray::uninitialized(st.meta.dtype, norm.result_shape());
  if (norm.size() == 0) return out;
  ChunkData data = st.store->get(index_);
  check_payload(st, index_, data);
  const ChunkPlan plan(norm, st.meta.chunk_size, st.meta.chunk_size);
  gather_one(st, plan.task(0), plan.steps(), data ? data->data() : nullptr, false, out.bytes(),
             box_strides(st, norm, out.shape(), {}));
  return out;
}

void DataChunk::write(const Selection& selection, ArrayView values) {
  const auto& st = *dataset_.state();
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.chunk_size, name());
  if (!(values.dtype == st.meta.dtype))
    throw InvalidArgument(st.describe() + ": values of dtype " + values.dtype.str() +
                          " cannot be written to a chunk of dtype " + st.meta.dtype.str());
  const auto strides = broadcast_strides(st, norm, values);
  if (norm.size() == 0) return;
  const ChunkPlan plan(norm, st.meta.chunk_size, st.meta.chunk_size);
  const ChunkTask t = plan.task(0);
  std::lock_guard lock(chunk_lock(st.lock_key, index_));
  st.store->update(index_, [&](const ChunkData& current) -> ChunkData {
    check_payload(st, index_, current);
    auto buf = new_chunk_buffer(st, !current);
    if (current) std::memcpy(buf->data(), current->data(), current->size());
    scatter_one(st, t, plan.steps(), values.data, strides, buf->data());
    return buf;
  });
}

void DataChunk::write(const Selection& selection, const Scalar& value) {
  std::byte one[16];
  value.store(dtype(), one);
  write(selection, ArrayView{dtype(), {}, one, {}});
}

}  // namespace dosna
