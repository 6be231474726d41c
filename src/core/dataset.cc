// Dataset: slicing (selection -> chunk plan -> gather/scatter), whole-dataset
// operations on top of the engine, and the chunk-level API.
#include "dosna/dataset.h"

#include <algorithm>
#include <map>
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
using detail::BlockGrid;
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

// Chunk bytes one batch of a read may hold in memory beyond the result
// (chunks fetched before they are copied out).
constexpr std::size_t kBatchBytes = std::size_t{16} << 20;

// Runs fn(first, last) over [0, n) in batches on the engine. With
// `chunk_bytes`, a batch holds at most kBatchBytes of chunks (at least one).
template <class Fn>
void for_each_batch(Engine& engine, std::int64_t n, bool distributed, Fn&& fn,
                    std::size_t chunk_bytes = 0) {
  if (n <= 0 && !distributed) return;
  const std::size_t workers = distributed ? engine.concurrency() * static_cast<std::size_t>(engine.size())
                                          : engine.concurrency();
  std::size_t batch = batch_size(n, std::max<std::size_t>(workers, 1));
  if (chunk_bytes > 0) batch = std::clamp<std::size_t>(kBatchBytes / chunk_bytes, 1, batch);
  const std::size_t batches = (static_cast<std::size_t>(std::max<std::int64_t>(n, 0)) + batch - 1) / batch;
  auto task = [&](std::size_t b) {
    const auto first = static_cast<std::int64_t>(b * batch);
    fn(first, std::min<std::int64_t>(n, first + static_cast<std::int64_t>(batch)));
  };
  if (distributed) engine.run_distributed(batches, task);
  else engine.run_local(batches, task);
}

std::int64_t offset_of(const std::int64_t* pos, const std::vector<std::int64_t>& strides) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < strides.size(); ++d) off += pos[d] * strides[d];
  return off;
}

void check_payload(const DatasetState& st, const ChunkIndex& index, const ChunkData& data) {
  if (data && data->size() != st.meta.chunk_nbytes())
    throw IoError(st.describe() + ": chunk " + codec::join_index(index, '.') + " holds " +
                  std::to_string(data->size()) + " bytes, expected " +
                  std::to_string(st.meta.chunk_nbytes()));
}

// A fresh chunk buffer: the fill value where `box` does not reach (edge
// chunks), so the stored block is always full chunk_size as docs/format.md says.
std::shared_ptr<Buffer> new_chunk_buffer(const DatasetState& st, bool needs_fill) {
  auto buf = Buffer::allocate(st.meta.chunk_nbytes());
  if (needs_fill)
    fill_bytes(buf->data(), shape_size(st.meta.chunk_size), st.meta.dtype, st.meta.fillvalue);
  return buf;
}

// Strides of the selection's box (squeezed axes included) in a user buffer
// whose shape is either the result shape or the box shape.
std::vector<std::int64_t> box_strides(const DatasetState& st, const NormalizedSelection& norm,
                                      const Shape& shape, const std::vector<std::int64_t>& strides,
                                      std::string_view what = {}) {
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
  throw InvalidArgument(st.describe() + std::string(what) + ": buffer of shape " +
                        shape_to_string(shape) + " does not match the selection's shape " +
                        shape_to_string(result));
}

// The strides of a caller's buffer `out` for the selection, after checking
// its dtype and shape; `what` names the selection in messages.
std::vector<std::int64_t> out_strides(const DatasetState& st, const NormalizedSelection& norm,
                                      const MutableArrayView& out, std::string_view what = {}) {
  if (!(out.dtype == st.meta.dtype))
    throw InvalidArgument(st.describe() + std::string(what) + ": buffer dtype " + out.dtype.str() +
                          " differs from the dataset's " + st.meta.dtype.str());
  return box_strides(st, norm, out.shape, out.strides, what);
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

// Copies the chunk sub-box of task `t` from `chunk` (nullptr = fill value)
// into the user box at `dst` with `dst_strides`.
void gather_one(const DatasetState& st, const ChunkTask& t, const std::vector<std::int64_t>& steps,
                const std::byte* chunk, std::byte* dst,
                const std::vector<std::int64_t>& dst_strides) {
  const std::size_t nd = t.ndim();
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
    src = chunk + offset_of(t.in_chunk_start(), st.chunk_strides);
  } else {
    std::fill(ss, ss + nd, 0);
    src = st.fill;
  }
  copy_strided(src, ss, dst + offset_of(t.box_offset(), dst_strides), dst_strides.data(),
               t.count(), nd, st.meta.dtype.itemsize());
}

// Whether task `t` covers its whole chunk and its place in the user buffer
// has the chunk's C layout, so the store can read the chunk straight there.
bool reads_in_place(const DatasetState& st, const ChunkTask& t,
                    const std::vector<std::int64_t>& steps,
                    const std::vector<std::int64_t>& dst_strides) {
  const auto& cs = st.meta.chunk_size;
  for (std::size_t d = 0; d < cs.size(); ++d) {
    if (t.count()[d] != cs[d]) return false;
    if (t.count()[d] > 1 && (steps[d] != 1 || dst_strides[d] != st.chunk_strides[d])) return false;
  }
  return true;
}

// Copies user box data into the chunk sub-box of task `t` in `chunk`.
void scatter_one(const DatasetState& st, const ChunkTask& t, const std::vector<std::int64_t>& steps,
                 const std::byte* src, const std::vector<std::int64_t>& src_strides, std::byte* chunk) {
  const std::size_t nd = t.ndim();
  std::vector<std::int64_t> ds(nd);
  for (std::size_t d = 0; d < nd; ++d) ds[d] = st.chunk_strides[d] * steps[d];
  copy_strided(src + offset_of(t.box_offset(), src_strides), src_strides.data(),
               chunk + offset_of(t.in_chunk_start(), st.chunk_strides), ds.data(), t.count(),
               nd, st.meta.dtype.itemsize());
}

// Calls fn(chunk_offset, dst_offset) for each "plane" of task `t`: one
// position of the outer axes (all but the last two), its first element's
// byte offset in the chunk and in the destination of `dst_strides`.
template <class Fn>
void for_each_plane(const DatasetState& st, const ChunkTask& t,
                    const std::vector<std::int64_t>& steps,
                    const std::vector<std::int64_t>& dst_strides, Fn&& fn) {
  const std::size_t nd = t.ndim();
  const std::size_t inner = nd >= 2 ? nd - 2 : 0;
  const auto& cs = st.chunk_strides;
  std::int64_t src = offset_of(t.in_chunk_start(), cs);
  std::int64_t dst = offset_of(t.box_offset(), dst_strides);
  std::int64_t m[16] = {0};
  std::vector<std::int64_t> heap;
  std::int64_t* pos = m;
  if (inner > 16) {
    heap.assign(inner, 0);
    pos = heap.data();
  }
  while (true) {
    fn(src, dst);
    std::size_t d = inner;
    while (true) {
      if (d == 0) return;
      --d;
      src += steps[d] * cs[d];
      dst += dst_strides[d];
      if (++pos[d] < t.count()[d]) break;
      src -= t.count()[d] * steps[d] * cs[d];
      dst -= t.count()[d] * dst_strides[d];
      pos[d] = 0;
    }
  }
}

// The bytes of a chunk that task `t` reads, as ranges: one per plane, each
// spanning the inner rectangle, adjacent ones merged. nullopt for
// non-positive steps or too many ranges.
std::optional<std::vector<ByteRange>> plane_ranges(const DatasetState& st, const ChunkTask& t,
                                                   const std::vector<std::int64_t>& steps) {
  constexpr std::int64_t kMaxRanges = 1024;
  const std::size_t nd = t.ndim();
  if (nd == 0) return std::nullopt;
  for (std::size_t d = 0; d < nd; ++d)
    if (steps[d] <= 0 || t.count()[d] <= 0) return std::nullopt;
  const std::size_t inner = nd >= 2 ? nd - 2 : 0;
  const auto& cs = st.chunk_strides;
  auto span = static_cast<std::size_t>(st.meta.dtype.itemsize());
  for (std::size_t d = inner; d < nd; ++d)
    span += static_cast<std::size_t>((t.count()[d] - 1) * steps[d] * cs[d]);
  std::int64_t planes = 1;
  for (std::size_t d = 0; d < inner; ++d) planes *= t.count()[d];
  if (planes > kMaxRanges) return std::nullopt;
  std::vector<ByteRange> out;
  out.reserve(static_cast<std::size_t>(planes));
  for_each_plane(st, t, steps, st.chunk_strides, [&](std::int64_t off, std::int64_t) {
    const ByteRange r{static_cast<std::size_t>(off), span};
    if (!out.empty() && out.back().offset + out.back().length == r.offset)
      out.back().length += r.length;
    else
      out.push_back(r);
  });
  return out;
}

// Sorted, merged byte ranges of one chunk, fetched into one buffer one after
// another.
struct RangeSet {
  std::vector<ByteRange> ranges;
  std::vector<std::size_t> at;  // where ranges[i] starts in the buffer
  std::size_t total = 0;

  explicit RangeSet(std::vector<ByteRange> all) {
    std::sort(all.begin(), all.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
    for (const auto& r : all) {
      if (!ranges.empty() && r.offset <= ranges.back().offset + ranges.back().length) {
        ByteRange& last = ranges.back();
        last.length = std::max(last.length, r.offset + r.length - last.offset);
      } else {
        ranges.push_back(r);
      }
    }
    for (const auto& r : ranges) {
      at.push_back(total);
      total += r.length;
    }
  }
  // Buffer position of chunk byte `offset`, which one of the ranges holds.
  std::size_t locate(std::size_t offset) const {
    const auto i = static_cast<std::size_t>(
        std::upper_bound(ranges.begin(), ranges.end(), offset,
                         [](std::size_t o, const ByteRange& r) { return o < r.offset; }) -
        ranges.begin() - 1);
    return at[i] + (offset - ranges[i].offset);
  }
};

// Copies task `t` (whose plane_ranges `set` holds) out of `buf`.
void gather_planes(const DatasetState& st, const ChunkTask& t,
                   const std::vector<std::int64_t>& steps, const RangeSet& set,
                   const std::byte* buf, std::byte* dst,
                   const std::vector<std::int64_t>& dst_strides) {
  const std::size_t nd = t.ndim();
  const std::size_t inner = nd >= 2 ? nd - 2 : 0;
  std::int64_t ss[2];
  for (std::size_t d = inner; d < nd; ++d) ss[d - inner] = st.chunk_strides[d] * steps[d];
  for_each_plane(st, t, steps, dst_strides, [&](std::int64_t src, std::int64_t off) {
    copy_strided(buf + set.locate(static_cast<std::size_t>(src)), ss, dst + off,
                 dst_strides.data() + inner, t.count() + inner, nd - inner,
                 st.meta.dtype.itemsize());
  });
}

// " (selection i of n)": names one selection of read_many in messages.
std::string nth_selection(std::size_t i, std::size_t n) {
  return " (selection " + std::to_string(i) + " of " + std::to_string(n) + ")";
}

// One selection of a read: its chunk plan and where its box lands.
struct BoxRead {
  ChunkPlan plan;
  std::byte* dst;
  std::vector<std::int64_t> dst_strides;
};

// The chunk tasks of several box reads, grouped by chunk: a chunk that several
// boxes touch is one group, so it is fetched once, and one batched pass over
// the groups keeps the chunks of every box in flight together.
class BoxTasks {
 public:
  BoxTasks(std::span<const BoxRead> boxes, const Shape& grid) : boxes_(boxes) {
    first_.reserve(boxes.size() + 1);
    first_.push_back(0);
    for (const auto& b : boxes) first_.push_back(first_.back() + b.plan.size());
    order_.reserve(static_cast<std::size_t>(first_.back()));
    for (std::size_t b = 0; b < boxes.size(); ++b) {
      for (std::int64_t t = 0; t < boxes[b].plan.size(); ++t) {
        const ChunkTask task = boxes[b].plan.task(t);
        std::int64_t flat = 0;
        for (std::size_t d = 0; d < grid.size(); ++d) flat = flat * grid[d] + task.index[d];
        order_.push_back({flat, first_[b] + t});
      }
    }
    // One plan touches each chunk once.
    if (boxes.size() > 1) std::sort(order_.begin(), order_.end());
    for (std::size_t k = 0; k < order_.size(); ++k)
      if (k == 0 || order_[k].first != order_[k - 1].first) group_.push_back(k);
    group_.push_back(order_.size());
  }
  std::int64_t chunks() const { return static_cast<std::int64_t>(group_.size()) - 1; }
  // Calls fn(box, task) for each task of chunk group `c` in [0, chunks()).
  template <class Fn>
  void visit(std::int64_t c, Fn&& fn) const {
    for (std::size_t k = group_[static_cast<std::size_t>(c)];
         k < group_[static_cast<std::size_t>(c) + 1]; ++k) {
      const std::int64_t g = order_[k].second;
      const auto b = static_cast<std::size_t>(
          std::upper_bound(first_.begin(), first_.end(), g) - first_.begin() - 1);
      fn(boxes_[b], boxes_[b].plan.task(g - first_[b]));
    }
  }

 private:
  std::span<const BoxRead> boxes_;
  std::vector<std::int64_t> first_;
  std::vector<std::pair<std::int64_t, std::int64_t>> order_;  // (flat chunk, task number)
  std::vector<std::size_t> group_;                              // start of each chunk in order_
};

// A task of a batch and the box it fills.
struct BoxTask {
  const BoxRead* box;
  ChunkTask task;
};

// Reads the chunks of `tasks` (all reads_in_place) straight into their
// boxes' buffers; absent chunks get the fill value.
void gather_in_place(const DatasetState& st, const std::vector<BoxTask>& tasks) {
  if (tasks.empty()) return;
  std::vector<ChunkIndex> idx;
  std::vector<std::span<std::byte>> out;
  idx.reserve(tasks.size());
  out.reserve(tasks.size());
  for (const auto& [box, t] : tasks) {
    idx.push_back(t.index);
    out.emplace_back(box->dst + offset_of(t.box_offset(), box->dst_strides),
                     st.meta.chunk_nbytes());
  }
  const std::vector<bool> found = st.store->get_many_into(idx, out);
  for (std::size_t k = 0; k < tasks.size(); ++k)
    if (!found[k])
      gather_one(st, tasks[k].task, tasks[k].box->plan.steps(), nullptr, tasks[k].box->dst,
                 tasks[k].box->dst_strides);
}

// gather() for stores that fetch byte ranges (ChunkStore::reads_ranges): a
// chunk the selections only partly cover is read as the union of their
// planes, every chunk of the batch in one get_ranges_many call, so only the
// needed bytes travel.
void gather_ranged(const DatasetState& st, const BoxTasks& all) {
  const std::size_t chunk_nbytes = st.meta.chunk_nbytes();
  for_each_batch(*st.engine, all.chunks(), false, [&](std::int64_t first, std::int64_t last) {
    const auto n = static_cast<std::size_t>(last - first);
    std::vector<BoxTask> in_place;
    std::vector<std::vector<BoxTask>> fetched;
    std::vector<ChunkIndex> idx;
    std::vector<std::vector<ByteRange>> ranges;
    std::vector<std::optional<RangeSet>> sets;
    idx.reserve(n);
    ranges.reserve(n);
    sets.reserve(n);
    bool any_partial = false;
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<BoxTask> group;
      std::vector<ByteRange> wanted;
      bool whole = false;
      all.visit(first + static_cast<std::int64_t>(k), [&](const BoxRead& box, ChunkTask t) {
        if (!whole) {
          auto part = plane_ranges(st, t, box.plan.steps());
          if (part) wanted.insert(wanted.end(), part->begin(), part->end());
          else whole = true;
        }
        group.push_back({&box, std::move(t)});
      });
      if (group.size() == 1 && reads_in_place(st, group[0].task, group[0].box->plan.steps(),
                                              group[0].box->dst_strides)) {
        in_place.push_back(std::move(group[0]));
        continue;
      }
      std::optional<RangeSet> set;
      if (!whole) set.emplace(std::move(wanted));
      if (set && set->total <= chunk_nbytes / 2) {
        ranges.push_back(set->ranges);
        any_partial = true;
      } else {
        set.reset();
        ranges.push_back({ByteRange{0, chunk_nbytes}});
      }
      idx.push_back(group.front().task.index);
      sets.push_back(std::move(set));
      fetched.push_back(std::move(group));
    }
    gather_in_place(st, in_place);
    if (fetched.empty()) return;
    std::vector<ChunkData> data(fetched.size());
    if (any_partial) st.store->get_ranges_many(idx, ranges, data);
    else st.store->get_many(idx, data);
    for (std::size_t k = 0; k < fetched.size(); ++k) {
      if (!sets[k] || !data[k]) {
        check_payload(st, idx[k], data[k]);
        for (const auto& [box, t] : fetched[k])
          gather_one(st, t, box->plan.steps(), data[k] ? data[k]->data() : nullptr,
                     box->dst, box->dst_strides);
        continue;
      }
      if (data[k]->size() != sets[k]->total)
        throw IoError(st.describe() + ": short ranged read of chunk " +
                      codec::join_index(idx[k], '.'));
      for (const auto& [box, t] : fetched[k])
        gather_planes(st, t, box->plan.steps(), *sets[k], data[k]->data(), box->dst,
                      box->dst_strides);
    }
  }, chunk_nbytes);
}

// Reads every box: each chunk the boxes touch is fetched once, the chunks in
// shared batches (only the planes the boxes need where the store reads ranges).
void gather(const DatasetState& st, std::span<const BoxRead> boxes) {
  const BoxTasks all(boxes, st.grid);
  if (st.store->reads_ranges()) return gather_ranged(st, all);
  for_each_batch(*st.engine, all.chunks(), false, [&](std::int64_t first, std::int64_t last) {
    const auto n = static_cast<std::size_t>(last - first);
    std::vector<std::vector<BoxTask>> whole(n);
    std::vector<BoxTask> in_place;
    std::vector<ChunkIndex> whole_idx;
    std::vector<std::size_t> whole_group;
    whole_idx.reserve(n);
    whole_group.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      all.visit(first + static_cast<std::int64_t>(k), [&](const BoxRead& box, ChunkTask t) {
        const auto& steps = box.plan.steps();
        if (reads_in_place(st, t, steps, box.dst_strides)) in_place.push_back({&box, std::move(t)});
        else whole[k].push_back({&box, std::move(t)});
      });
      if (whole[k].empty()) continue;
      whole_idx.push_back(whole[k].front().task.index);
      whole_group.push_back(k);
    }
    gather_in_place(st, in_place);
    if (whole_idx.empty()) return;
    std::vector<ChunkData> data(whole_idx.size());
    st.store->get_many(whole_idx, data);
    for (std::size_t j = 0; j < whole_idx.size(); ++j) {
      check_payload(st, whole_idx[j], data[j]);
      for (const auto& [box, t] : whole[whole_group[j]])
        gather_one(st, t, box->plan.steps(), data[j] ? data[j]->data() : nullptr, box->dst,
                   box->dst_strides);
    }
  }, st.meta.chunk_nbytes());
}

void scatter(const DatasetState& st, const NormalizedSelection& norm, const std::byte* src,
             const std::vector<std::int64_t>& src_strides) {
  const ChunkPlan plan(norm, st.meta.shape, st.meta.chunk_size);
  const auto& steps = plan.steps();
  auto write = [&](auto&& for_each_task) {
    std::vector<ChunkIndex> full_idx;
    std::vector<ChunkData> full_data;
    for_each_task([&](std::int64_t i) {
      ChunkTask t = plan.task(i);
      if (plan.covers_chunk(t)) {
        auto buf = new_chunk_buffer(st, chunk_box(st.meta, t.index).edge);
        scatter_one(st, t, steps, src, src_strides, buf->data());
        full_idx.push_back(t.index);
        full_data.push_back(std::move(buf));
        return;
      }
      std::lock_guard lock(chunk_lock(st.lock_key, t.index));
      st.store->update(t.index, [&](const ChunkData& current) -> ChunkData {
        check_payload(st, t.index, current);
        auto buf = new_chunk_buffer(st, !current);
        if (current) std::memcpy(buf->data(), current->data(), current->size());
        scatter_one(st, t, steps, src, src_strides, buf->data());
        return buf;
      });
    });
    if (!full_idx.empty()) st.store->put_many(full_idx, full_data);
  };
  const Shape group = st.store->write_group();
  if (group.empty()) {
    for_each_batch(*st.engine, plan.size(), false, [&](std::int64_t first, std::int64_t last) {
      write([&](auto&& fn) {
        for (std::int64_t i = first; i < last; ++i) fn(i);
      });
    });
    return;
  }
  // One put_many per block of the store's write group (ChunkStore::write_group).
  const auto blocks = plan.tasks_by_block(group);
  for_each_batch(*st.engine, static_cast<std::int64_t>(blocks.size()), false,
                 [&](std::int64_t first, std::int64_t last) {
                   for (std::int64_t b = first; b < last; ++b)
                     write([&](auto&& fn) {
                       for (const std::int64_t i : blocks[static_cast<std::size_t>(b)]) fn(i);
                     });
                 },
                 st.meta.chunk_nbytes() * static_cast<std::size_t>(shape_size(group)));
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

// Runs fn over every chunk of src's grid, split across the engine, fetching
// the source chunks in batches, and puts what fn returns (nullptr: nothing)
// into `dst` with one put_many per task. The tasks are whole blocks of dst's
// write group when it has one, so a sharded destination writes each shard
// once instead of once per inner chunk.
void transform_chunks(const DatasetState& src, ChunkStore& dst, const Shape& dst_group,
                      const std::function<ChunkData(const ChunkIndex&, const ChunkData&)>& fn) {
  auto run = [&](const std::vector<ChunkIndex>& idx) {
    std::vector<ChunkData> data(idx.size());
    src.store->get_many(idx, data);
    std::vector<ChunkIndex> put_idx;
    std::vector<ChunkData> put_data;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      check_payload(src, idx[k], data[k]);
      if (ChunkData out = fn(idx[k], data[k])) {
        put_idx.push_back(idx[k]);
        put_data.push_back(std::move(out));
      }
    }
    if (!put_idx.empty()) dst.put_many(put_idx, put_data);
  };
  if (dst_group.empty()) {
    for_each_batch(*src.engine, src.total_chunks, true, [&](std::int64_t first, std::int64_t last) {
      std::vector<ChunkIndex> idx;
      for (std::int64_t i = first; i < last; ++i) idx.push_back(unravel(i, src.grid));
      run(idx);
    });
    return;
  }
  const BlockGrid blocks(src.grid, dst_group);
  for_each_batch(
      *src.engine, blocks.size(), true,
      [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t b = first; b < last; ++b) run(blocks.chunks(b));
      },
      src.meta.chunk_nbytes() * static_cast<std::size_t>(shape_size(dst_group)));
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
  const BoxRead box{ChunkPlan(norm, st.meta.shape, st.meta.chunk_size), out.bytes(),
                    box_strides(st, norm, out.shape(), {})};
  gather(st, {&box, 1});
  return out;
}

void Dataset::read(const Selection& selection, MutableArrayView out) const {
  const auto& st = *state_;
  st.check_connected();
  const NormalizedSelection norm = normalize(selection, st.meta.shape, st.name);
  const BoxRead box{ChunkPlan(norm, st.meta.shape, st.meta.chunk_size), out.data,
                    out_strides(st, norm, out)};
  gather(st, {&box, 1});
}

std::vector<NdArray> Dataset::read_many(std::span<const Selection> selections) const {
  const auto& st = *state_;
  st.check_connected();
  std::vector<NdArray> outs;
  std::vector<BoxRead> boxes;
  outs.reserve(selections.size());
  boxes.reserve(selections.size());
  for (std::size_t i = 0; i < selections.size(); ++i) {
    const NormalizedSelection norm = normalize(
        selections[i], st.meta.shape, st.name + nth_selection(i, selections.size()));
    outs.push_back(NdArray::uninitialized(st.meta.dtype, norm.result_shape()));
    boxes.push_back({ChunkPlan(norm, st.meta.shape, st.meta.chunk_size), outs.back().bytes(),
                     box_strides(st, norm, outs.back().shape(), {})});
  }
  gather(st, boxes);
  return outs;
}

void Dataset::read_many(std::span<const Selection> selections,
                        std::span<const MutableArrayView> outs) const {
  const auto& st = *state_;
  st.check_connected();
  if (selections.size() != outs.size())
    throw InvalidArgument(st.describe() + ": read_many got " + std::to_string(selections.size()) +
                          " selections but " + std::to_string(outs.size()) + " buffers");
  std::vector<BoxRead> boxes;
  boxes.reserve(selections.size());
  for (std::size_t i = 0; i < selections.size(); ++i) {
    const std::string what = nth_selection(i, selections.size());
    const NormalizedSelection norm = normalize(selections[i], st.meta.shape, st.name + what);
    boxes.push_back({ChunkPlan(norm, st.meta.shape, st.meta.chunk_size), outs[i].data,
                     out_strides(st, norm, outs[i], what)});
  }
  gather(st, boxes);
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
  auto store = [&](std::vector<ChunkIndex> idx) {
    std::vector<ChunkData> payloads;
    for (const auto& index : idx) {
      const ChunkBox box = chunk_box(st.meta, index);
      payloads.push_back(chunk_payload(
          st, index,
          ArrayView{data.dtype, box.count, data.data + offset_of(box.start.data(), strides), strides}));
    }
    st.store->put_many(idx, payloads);
  };
  const Shape group = st.store->write_group();
  if (group.empty()) {
    for_each_batch(*st.engine, st.total_chunks, true, [&](std::int64_t first, std::int64_t last) {
      std::vector<ChunkIndex> idx;
      for (std::int64_t i = first; i < last; ++i) idx.push_back(unravel(i, st.grid));
      store(std::move(idx));
    });
    return;
  }
  const BlockGrid blocks(st.grid, group);
  for_each_batch(*st.engine, blocks.size(), true, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t b = first; b < last; ++b) store(blocks.chunks(b));
  }, st.meta.chunk_nbytes() * static_cast<std::size_t>(shape_size(group)));
}

void Dataset::clear() {
  const auto& st = *state_;
  st.check_connected();
  st.engine->barrier();
  const auto chunks = sorted_chunks(st);
  st.engine->barrier();
  // A block of the store's write group at a time (one chunk when it has none).
  const Shape group = st.store->write_group();
  std::map<ChunkIndex, std::vector<ChunkIndex>> by_block;
  for (const auto& c : chunks) by_block[group.empty() ? c : BlockGrid::block_of(c, group)].push_back(c);
  std::vector<const std::vector<ChunkIndex>*> blocks;
  for (const auto& [block, members] : by_block) blocks.push_back(&members);
  st.engine->run_distributed(blocks.size(), [&](std::size_t i) { st.store->remove_many(*blocks[i]); });
}

namespace {

// Before a shrink to `next`: removes the chunks wholly outside its shape and
// sets the part of the remaining edge chunks outside it to the fill value.
void drop_outside(const DatasetState& st, const DatasetMeta& next) {
  const std::size_t n = next.shape.size();
  bool shrinks = false;
  for (std::size_t d = 0; d < n; ++d) shrinks |= next.shape[d] < st.meta.shape[d];
  if (!shrinks) return;
  std::vector<ChunkIndex> gone, cut;
  for (auto& c : st.store->list()) {
    bool outside = false, edge = false;
    for (std::size_t d = 0; d < n; ++d) {
      const std::int64_t lo = c[d] * next.chunk_size[d];
      outside |= lo >= next.shape[d];
      edge |= next.shape[d] < st.meta.shape[d] && lo + next.chunk_size[d] > next.shape[d];
    }
    if (outside) gone.push_back(std::move(c));
    else if (edge) cut.push_back(std::move(c));
  }
  st.store->remove_many(gone);
  for (const auto& index : cut) {
    const ChunkBox keep = chunk_box(next, index);
    std::lock_guard lock(chunk_lock(st.lock_key, index));
    st.store->update(index, [&](const ChunkData& current) -> ChunkData {
      check_payload(st, index, current);
      auto buf = new_chunk_buffer(st, true);
      if (current)
        copy_strided(current->data(), st.chunk_strides.data(), buf->data(), st.chunk_strides.data(),
                     keep.count.data(), keep.count.size(), st.meta.dtype.itemsize());
      return buf;
    });
  }
}

}  // namespace

void Dataset::resize(const Shape& new_shape) {
  const auto& st = *state_;
  st.check_connected();
  if (new_shape.size() != st.meta.shape.size())
    throw InvalidArgument(st.describe() + ": resize to " + shape_to_string(new_shape) + ": " +
                          std::to_string(new_shape.size()) + " axes, the dataset has " +
                          std::to_string(st.meta.shape.size()));
  DatasetMeta next = st.meta;
  next.shape = new_shape;
  next.validate(st.name);
  st.engine->run_on_root([&] {
    drop_outside(st, next);
    st.backend->resize_dataset(st.name, next);
  });
  DatasetState fresh(st.name, std::move(next), st.backend, st.engine);
  *state_ = std::move(fresh);
}

void Dataset::append(ArrayView values, std::size_t axis) {
  const auto& st = *state_;
  const std::size_t n = st.meta.shape.size();
  if (axis >= n)
    throw InvalidArgument(st.describe() + ": append along axis " + std::to_string(axis) +
                          " of a dataset with " + std::to_string(n) + " axes");
  if (values.dtype != st.meta.dtype)
    throw InvalidArgument(st.describe() + ": append of " + values.dtype.str() + " values to a " +
                          st.meta.dtype.str() + " dataset");
  bool fits = values.shape.size() == n;
  for (std::size_t d = 0; fits && d < n; ++d) fits = d == axis || values.shape[d] == st.meta.shape[d];
  if (!fits)
    throw InvalidArgument(st.describe() + ": append of shape " + shape_to_string(values.shape) +
                          " along axis " + std::to_string(axis) + " to shape " +
                          shape_to_string(st.meta.shape) + ": the other axes must match");
  Shape grown = st.meta.shape;
  const std::int64_t at = grown[axis];
  grown[axis] += values.shape[axis];
  resize(grown);
  std::vector<IndexItem> items(n, all);
  items[axis] = slice(at, grown[axis]);
  write(Selection(std::move(items)), values);
}

nlohmann::json Dataset::attributes() const {
  const auto& st = *state_;
  st.check_connected();
  nlohmann::json j = nlohmann::json::parse(st.backend->read_attributes(st.name), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw IoError(st.describe() + ": its stored attributes are not a JSON object");
  return j;
}

void Dataset::set_attributes(const nlohmann::json& attributes) {
  const auto& st = *state_;
  st.check_connected();
  if (!attributes.is_object())
    throw InvalidArgument(st.describe() + ": attributes must be a JSON object, not " +
                          std::string(attributes.type_name()));
  const std::string text = attributes.dump();
  st.engine->run_on_root([&] { st.backend->write_attributes(st.name, text); });
}

void Dataset::remove() {
  const auto& st = *state_;
  // A delete that fails half-way leaves the record with some chunks gone:
  // the error says so (the types a store failure has keep their type).
  const std::string note = "; " + st.describe() +
                           " is partly deleted: its record is still there, some chunks may be "
                           "gone (delete it again to finish)";
  try {
    clear();
    st.engine->run_on_root([&] { st.backend->delete_dataset(st.name); });
  } catch (const ConnectionError& e) {
    throw ConnectionError(e.what() + note);
  } catch (const PermissionDenied& e) {
    throw PermissionDenied(e.what() + note);
  } catch (const IoError& e) {
    throw IoError(e.what() + note, e.code());
  }
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
    transform_chunks(st, *dst.store, dst.store->write_group(),
                     [](const ChunkIndex&, const ChunkData& data) { return data; });
  }
  return out;
}

Dataset Dataset::map(const ChunkFunction& fn, const std::string& name) const {
  Dataset out = clone(name, false);
  const auto& st = *state_;
  const auto& dst = *out.state_;
  transform_chunks(st, *dst.store, dst.store->write_group(),
                   [&](const ChunkIndex& index, const ChunkData& data) {
                     NdArray result = apply_fn(st, fn, index, data);
                     return chunk_payload(dst, index, result.view());
                   });
  st.engine->barrier();
  return out;
}

void Dataset::apply(const ChunkFunction& fn) {
  const auto& st = *state_;
  st.check_connected();
  transform_chunks(st, *st.store, st.store->write_group(),
                   [&](const ChunkIndex& index, const ChunkData& data) {
                     NdArray result = apply_fn(st, fn, index, data);
                     return chunk_payload(st, index, result.view());
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

std::string Dataset::format() const {
  state_->check_connected();
  return state_->backend->dataset_format(state_->name);
}

std::string Dataset::location() const {
  state_->check_connected();
  return state_->backend->dataset_location(state_->name);
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
  gather_one(st, plan.task(0), plan.steps(), data ? data->data() : nullptr, out.bytes(),
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
