// A byte-budgeted cache of decoded chunks, as a decorator over any Backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dosna/backend.h"

namespace dosna {

// Hit/miss counters of a cache (for tests and benchmarks).
struct ChunkCacheStats {
  std::uint64_t hits = 0, misses = 0;
  std::size_t bytes = 0;  // payload bytes held now
};

// `inner` with whole-chunk reads kept in memory, least recently used first
// out once more than `budget_bytes` of payloads are held (a chunk larger than
// the budget is never kept; absent chunks are remembered too). Shared by every
// dataset and thread using the returned backend. Writes, removals and
// dataset deletion through it drop the affected entries, so readers of this
// backend never see older data than they wrote; writes by other connections
// or processes are not seen until an entry is evicted. Partial reads are
// served from whole cached chunks (reads_ranges() is false). budget_bytes 0
// returns `inner` unchanged.
std::shared_ptr<Backend> with_chunk_cache(std::shared_ptr<Backend> inner, std::size_t budget_bytes);

// The counters of a backend returned by with_chunk_cache (zeros otherwise).
ChunkCacheStats chunk_cache_stats(const Backend& backend);

}  // namespace dosna
