#include "default_chunks.h"

#include <algorithm>

namespace dosna::cli {

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
