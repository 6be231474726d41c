// A Backend decorator that counts the chunk operations reaching the wrapped
// store, per dataset and per chunk index, so tests can assert which chunks a
// slice or a write touched (and that a whole-chunk write reads nothing).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/backend.h"

namespace dosna::testing {

// Operations on one chunk. `get` counts get() and get_many() entries,
// `get_range` counts get_ranges_many() entries, `update`
// counts update() calls (each one reads the chunk).
struct ChunkOpCounts {
  std::int64_t get = 0;
  std::int64_t get_range = 0;
  std::int64_t put = 0;
  std::int64_t has = 0;
  std::int64_t remove = 0;
  std::int64_t update = 0;
  // Every operation that reads the chunk's bytes.
  std::int64_t reads() const { return get + get_range + update; }
  // Every operation that stores the chunk's bytes.
  std::int64_t writes() const { return put + update; }
  friend bool operator==(const ChunkOpCounts&, const ChunkOpCounts&) = default;
};

// Counts of one dataset, by chunk index; `list` counts list() calls and
// `batched_reads` get_many() + get_ranges_many() calls.
struct DatasetOpCounts {
  std::map<ChunkIndex, ChunkOpCounts> chunks;
  std::int64_t list = 0;
  std::int64_t batched_reads = 0;

  // Chunk indices with at least one read / one write / any operation.
  std::vector<ChunkIndex> read_chunks() const;
  std::vector<ChunkIndex> written_chunks() const;
  ChunkOpCounts total() const;
};

// Wraps `inner` (any backend); forwards every call unchanged and counts the
// chunk operations. Thread-safe like the wrapped backend.
class CountingBackend : public ForwardingBackend {
 public:
  explicit CountingBackend(std::shared_ptr<Backend> inner);

  // A snapshot of the counts of `dataset` (empty if nothing was counted).
  DatasetOpCounts counts(const std::string& dataset) const;
  // Forgets every count.
  void reset();

  std::shared_ptr<ChunkStore> chunks(const std::string& dataset,
                                     const DatasetMeta& meta) override;

 private:
  class Store;
  struct Counter {
    mutable std::mutex mutex;
    DatasetOpCounts counts;
  };
  std::shared_ptr<Counter> counter(const std::string& dataset);

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Counter>> counters_;
};

}  // namespace dosna::testing
