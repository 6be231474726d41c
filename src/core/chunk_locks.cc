#include "core/chunk_locks.h"

#include <array>
#include <functional>

namespace dosna {

std::mutex& chunk_lock(std::string_view key, const ChunkIndex& index) {
  static std::array<std::mutex, 1024> stripes;
  std::size_t h = std::hash<std::string_view>{}(key);
  for (auto i : index) h = h * 1000003u ^ static_cast<std::size_t>(i);
  return stripes[h % stripes.size()];
}

}  // namespace dosna
