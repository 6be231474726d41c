#include "core/chunk_plan.h"

#include <algorithm>

namespace dosna {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return -floor_div(-a, b); }

std::vector<AxisSegment> plan_axis(const AxisRange& r, std::int64_t extent, std::int64_t c) {
  std::vector<AxisSegment> out;
  if (r.count == 0) return out;
  const std::int64_t first = r.start, last = r.start + (r.count - 1) * r.step;
  const std::int64_t lo_chunk = std::min(first, last) / c, hi_chunk = std::max(first, last) / c;
  auto segment = [&](std::int64_t chunk) {
    const std::int64_t lo = chunk * c, hi = std::min((chunk + 1) * c, extent) - 1;
    // positions p = start + k*step with lo <= p <= hi
    std::int64_t k0, k1;
    if (r.step > 0) {
      k0 = ceil_div(lo - r.start, r.step);
      k1 = floor_div(hi - r.start, r.step);
    } else {
      k0 = ceil_div(r.start - hi, -r.step);
      k1 = floor_div(r.start - lo, -r.step);
    }
    k0 = std::max<std::int64_t>(k0, 0);
    k1 = std::min(k1, r.count - 1);
    if (k0 > k1) return;
    out.push_back({chunk, k0, k1 - k0 + 1, r.start + k0 * r.step - lo});
  };
  if (r.step > 0)
    for (std::int64_t ch = lo_chunk; ch <= hi_chunk; ++ch) segment(ch);
  else
    for (std::int64_t ch = hi_chunk; ch >= lo_chunk; --ch) segment(ch);
  return out;
}

}  // namespace

ChunkPlan::ChunkPlan(const NormalizedSelection& selection, const Shape& shape,
                     const Shape& chunk_size)
    : shape_(shape), chunk_size_(chunk_size) {
  size_ = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    axes_.push_back(plan_axis(selection.axes[d], shape[d], chunk_size[d]));
    steps_.push_back(selection.axes[d].step);
    size_ *= static_cast<std::int64_t>(axes_.back().size());
  }
}

ChunkTask ChunkPlan::task(std::int64_t t) const {
  const std::size_t nd = axes_.size();
  ChunkTask task(nd);
  std::int64_t* box_offset = task.box_offset();
  std::int64_t* count = task.count();
  std::int64_t* in_chunk_start = task.in_chunk_start();
  for (std::size_t d = nd; d-- > 0;) {
    const auto n = static_cast<std::int64_t>(axes_[d].size());
    const AxisSegment& s = axes_[d][static_cast<std::size_t>(t % n)];
    t /= n;
    task.index[d] = s.chunk;
    box_offset[d] = s.box_offset;
    count[d] = s.count;
    in_chunk_start[d] = s.in_chunk_start;
  }
  return task;
}

bool ChunkPlan::covers_chunk(const ChunkTask& task) const {
  for (std::size_t d = 0; d < axes_.size(); ++d) {
    const std::int64_t lo = task.index[d] * chunk_size_[d];
    const std::int64_t valid = std::min(chunk_size_[d], shape_[d] - lo);
    if (task.count()[d] != valid || (steps_[d] != 1 && steps_[d] != -1 && valid > 1)) return false;
  }
  return true;
}

std::vector<std::vector<std::int64_t>> ChunkPlan::tasks_by_block(const Shape& group) const {
  const std::size_t nd = axes_.size();
  // Per axis: runs [first, last) of segment positions lying in one block.
  std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> runs(nd);
  for (std::size_t d = 0; d < nd; ++d)
    for (std::size_t i = 0; i < axes_[d].size(); ++i) {
      const auto pos = static_cast<std::int64_t>(i);
      if (i == 0 || axes_[d][i].chunk / group[d] != axes_[d][i - 1].chunk / group[d])
        runs[d].push_back({pos, pos + 1});
      else
        runs[d].back().second = pos + 1;
    }
  std::vector<std::vector<std::int64_t>> out;
  if (size_ == 0) return out;
  std::vector<std::size_t> run(nd, 0);
  while (true) {
    std::vector<std::int64_t> tasks;
    std::vector<std::int64_t> pos(nd);
    for (std::size_t d = 0; d < nd; ++d) pos[d] = runs[d][run[d]].first;
    while (true) {
      std::int64_t t = 0;
      for (std::size_t d = 0; d < nd; ++d) t = t * static_cast<std::int64_t>(axes_[d].size()) + pos[d];
      tasks.push_back(t);
      std::size_t d = nd;
      while (d-- > 0 && ++pos[d] == runs[d][run[d]].second) pos[d] = runs[d][run[d]].first;
      if (d == static_cast<std::size_t>(-1)) break;
    }
    out.push_back(std::move(tasks));
    std::size_t d = nd;
    while (d-- > 0 && ++run[d] == runs[d].size()) run[d] = 0;
    if (d == static_cast<std::size_t>(-1)) break;
  }
  return out;
}

}  // namespace dosna
