// A 3-d dataset partitioned into small boxes (1-4 elements per axis), each
// owned by one of `writers` writers: disjoint in elements, many boxes per
// chunk. The load of the lost-update stress and of the soak: writers that
// each write only their own boxes share every chunk. The same seed gives the
// same plan in every process.
#pragma once

#include <cstdint>
#include <vector>

#include "dosna/array.h"
#include "dosna/selection.h"

namespace dosna::testing {

struct Box {
  Shape start, count;
};

struct BoxPlan {
  Shape shape, chunks;
  std::vector<Box> boxes;
  std::vector<int> owner;  // writer of each box, in [0, writers)

  BoxPlan(Shape shape, Shape chunks, std::uint64_t seed, int writers);

  std::int64_t size() const { return shape[0] * shape[1] * shape[2]; }
  std::int64_t flat(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return (i * shape[1] + j) * shape[2] + k;
  }
  // The box's elements as a dataset selection.
  Selection selection(std::size_t box) const;
  // Calls fn(flat index) for every element of the box, in C order.
  template <class F>
  void for_each(std::size_t box, F&& fn) const {
    const Box& b = boxes[box];
    for (std::int64_t i = 0; i < b.count[0]; ++i)
      for (std::int64_t j = 0; j < b.count[1]; ++j)
        for (std::int64_t k = 0; k < b.count[2]; ++k)
          fn(flat(b.start[0] + i, b.start[1] + j, b.start[2] + k));
  }
  // An int64 array of the box's shape holding value(flat index) per element.
  template <class F>
  NdArray values(std::size_t box, F&& value) const {
    NdArray a(DType::of<std::int64_t>(), boxes[box].count);
    auto v = a.values<std::int64_t>();
    std::size_t n = 0;
    for_each(box, [&](std::int64_t f) { v[n++] = value(f); });
    return a;
  }
};

}  // namespace dosna::testing
