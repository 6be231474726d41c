#include "support/box_plan.h"

#include <algorithm>
#include <random>

namespace dosna::testing {

BoxPlan::BoxPlan(Shape shape_, Shape chunks_, std::uint64_t seed, int writers)
    : shape(std::move(shape_)), chunks(std::move(chunks_)) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::int64_t>> cuts(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    std::int64_t at = 0;
    cuts[d].push_back(0);
    while (at < shape[d]) {
      at = std::min(shape[d], at + 1 + static_cast<std::int64_t>(rng() % 4));
      cuts[d].push_back(at);
    }
  }
  for (std::size_t i = 0; i + 1 < cuts[0].size(); ++i)
    for (std::size_t j = 0; j + 1 < cuts[1].size(); ++j)
      for (std::size_t k = 0; k + 1 < cuts[2].size(); ++k) {
        Box b;
        b.start = {cuts[0][i], cuts[1][j], cuts[2][k]};
        b.count = {cuts[0][i + 1] - cuts[0][i], cuts[1][j + 1] - cuts[1][j],
                   cuts[2][k + 1] - cuts[2][k]};
        boxes.push_back(std::move(b));
        owner.push_back(static_cast<int>(rng() % static_cast<std::uint64_t>(writers)));
      }
}

Selection BoxPlan::selection(std::size_t box) const {
  const Box& b = boxes[box];
  std::vector<IndexItem> items;
  for (std::size_t d = 0; d < b.start.size(); ++d)
    items.emplace_back(slice(b.start[d], b.start[d] + b.count[d]));
  return Selection(std::move(items));
}

}  // namespace dosna::testing
