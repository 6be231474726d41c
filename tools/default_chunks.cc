#include "chunk_boxes.h"

#include <algorithm>

namespace dosna::cli {

ChunkBox chunk_box(const DatasetMeta& meta, std::int64_t flat) {
  const Shape grid = meta.chunk_grid();
  ChunkBox box;
  box.index.assign(grid.size(), 0);
  for (std::size_t d = grid.size(); d-- > 0;) {
    box.index[d] = flat % grid[d];
    flat /= grid[d];
  }
  for (std::size_t d = 0; d < grid.size(); ++d) {
    const std::int64_t start = box.index[d] * meta.chunk_size[d];
    box.start.push_back(start);
    box.count.push_back(std::min(meta.chunk_size[d], meta.shape[d] - start));
  }
  return box;
}

Selection box_selection(const Shape& start, const Shape& count) {
  std::vector<IndexItem> items;
  for (std::size_t d = 0; d < start.size(); ++d)
    items.emplace_back(slice(start[d], start[d] + count[d]));
  return Selection(std::move(items));
}

Shape default_chunks(const Shape& shape, std::size_t itemsize, std::size_t max_bytes) {
  Shape chunks;
  for (auto s : shape) chunks.push_back(std::max<std::int64_t>(s, 1));
  auto bytes = [&] {
    std::size_t n = itemsize;
    for (auto c : chunks) n *= static_cast<std::size_t>(c);
    return n;
  };
  while (!chunks.empty() && bytes() > max_bytes) {
    auto it = std::max_element(chunks.begin(), chunks.end());
    if (*it <= 1) break;
    *it = (*it + 1) / 2;
  }
  return chunks;
}

}  // namespace dosna::cli
