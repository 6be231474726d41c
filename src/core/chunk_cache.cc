#include "dosna/chunk_cache.h"

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dosna {
namespace {

// Bookkeeping charged per entry besides its payload (so absent chunks count).
constexpr std::size_t kEntryOverhead = 64;

class ChunkCache {
 public:
  explicit ChunkCache(std::size_t budget) : budget_(budget) {}

  // Whether `key` is cached; sets `out` (nullptr for an absent chunk).
  bool find(const std::string& key, ChunkData& out) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      ++stats_.misses;
      return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    out = it->second->data;
    ++stats_.hits;
    return true;
  }

  // Writes bump the epoch; a read that started before a write does not insert.
  std::uint64_t epoch() const { return epoch_.load(); }

  void insert(const std::string& key, ChunkData data, std::uint64_t read_epoch) {
    const std::size_t cost = (data ? data->size() : 0) + key.size() + kEntryOverhead;
    if (cost > budget_) return;
    std::lock_guard lock(mutex_);
    if (epoch_.load() != read_epoch || map_.count(key)) return;
    lru_.push_front({key, std::move(data), cost});
    map_[key] = lru_.begin();
    held_ += cost;
    stats_.bytes += lru_.front().data ? lru_.front().data->size() : 0;
    while (held_ > budget_) drop(std::prev(lru_.end()));
  }

  void erase(const std::string& key) {
    std::lock_guard lock(mutex_);
    ++epoch_;
    if (auto it = map_.find(key); it != map_.end()) drop(it->second);
  }

  void erase_prefix(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    ++epoch_;
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (it->key.compare(0, prefix.size(), prefix) == 0) drop(it);
      it = next;
    }
  }

  ChunkCacheStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  struct Entry {
    std::string key;
    ChunkData data;
    std::size_t cost;
  };
  void drop(std::list<Entry>::iterator it) {
    held_ -= it->cost;
    stats_.bytes -= it->data ? it->data->size() : 0;
    map_.erase(it->key);
    lru_.erase(it);
  }

  const std::size_t budget_;
  std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
  std::size_t held_ = 0;
  std::atomic<std::uint64_t> epoch_{0};
  ChunkCacheStats stats_;
};

// "<dataset>\0": every key of one dataset starts with it.
std::string dataset_prefix(const std::string& dataset) { return dataset + '\0'; }

class CachingChunkStore : public ChunkStore {
 public:
  CachingChunkStore(std::shared_ptr<ChunkStore> inner, std::shared_ptr<ChunkCache> cache,
                    const std::string& dataset)
      : inner_(std::move(inner)), cache_(std::move(cache)), prefix_(dataset_prefix(dataset)) {}

  ChunkData get(const ChunkIndex& index) override {
    const std::string k = key(index);
    ChunkData data;
    if (cache_->find(k, data)) return data;
    const auto epoch = cache_->epoch();
    data = inner_->get(index);
    cache_->insert(k, data, epoch);
    return data;
  }

  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    std::vector<ChunkIndex> missing;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < indices.size(); ++i)
      if (!cache_->find(key(indices[i]), out[i])) {
        missing.push_back(indices[i]);
        where.push_back(i);
      }
    if (missing.empty()) return;
    const auto epoch = cache_->epoch();
    std::vector<ChunkData> fetched(missing.size());
    inner_->get_many(missing, fetched);
    for (std::size_t j = 0; j < missing.size(); ++j) {
      cache_->insert(key(missing[j]), fetched[j], epoch);
      out[where[j]] = std::move(fetched[j]);
    }
  }

  bool has(const ChunkIndex& index) override {
    ChunkData data;
    if (cache_->find(key(index), data)) return data != nullptr;
    return inner_->has(index);
  }

  void put(const ChunkIndex& index, ChunkData data) override {
    const std::string k = key(index);
    cache_->erase(k);
    inner_->put(index, std::move(data));
    cache_->erase(k);
  }

  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    for (const auto& i : indices) cache_->erase(key(i));
    inner_->put_many(indices, data);
    for (const auto& i : indices) cache_->erase(key(i));
  }

  bool remove(const ChunkIndex& index) override {
    const std::string k = key(index);
    cache_->erase(k);
    const bool existed = inner_->remove(index);
    cache_->erase(k);
    return existed;
  }

  void remove_many(std::span<const ChunkIndex> indices) override {
    for (const auto& i : indices) cache_->erase(key(i));
    inner_->remove_many(indices);
    for (const auto& i : indices) cache_->erase(key(i));
  }

  Shape write_group() const override { return inner_->write_group(); }

  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    const std::string k = key(index);
    cache_->erase(k);
    inner_->update(index, modify);
    cache_->erase(k);
  }

  std::vector<ChunkIndex> list() override { return inner_->list(); }

 private:
  std::string key(const ChunkIndex& index) const {
    std::string k = prefix_;
    for (auto i : index) k += std::to_string(i) + '.';
    return k;
  }

  std::shared_ptr<ChunkStore> inner_;
  std::shared_ptr<ChunkCache> cache_;
  std::string prefix_;
};

class CachingBackend : public ForwardingBackend {
 public:
  CachingBackend(std::shared_ptr<Backend> inner, std::size_t budget)
      : ForwardingBackend(std::move(inner)), cache_(std::make_shared<ChunkCache>(budget)) {}

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    cache_->erase_prefix(dataset_prefix(dataset));
    inner_->create_dataset(dataset, meta);
  }
  void create_dataset(const std::string& dataset, const DatasetMeta& meta,
                      const StorageOptions& options) override {
    cache_->erase_prefix(dataset_prefix(dataset));
    inner_->create_dataset(dataset, meta, options);
  }
  void delete_dataset(const std::string& dataset) override {
    cache_->erase_prefix(dataset_prefix(dataset));
    inner_->delete_dataset(dataset);
    cache_->erase_prefix(dataset_prefix(dataset));
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    cache_->erase_prefix(dataset_prefix(dataset));
    inner_->resize_dataset(dataset, meta);
  }
  std::shared_ptr<ChunkStore> chunks(const std::string& dataset,
                                     const DatasetMeta& meta) override {
    return std::make_shared<CachingChunkStore>(inner_->chunks(dataset, meta), cache_, dataset);
  }

  ChunkCacheStats stats() const { return cache_->stats(); }

 private:
  std::shared_ptr<ChunkCache> cache_;
};

}  // namespace

std::shared_ptr<Backend> with_chunk_cache(std::shared_ptr<Backend> inner,
                                          std::size_t budget_bytes) {
  if (budget_bytes == 0) return inner;
  return std::make_shared<CachingBackend>(std::move(inner), budget_bytes);
}

ChunkCacheStats chunk_cache_stats(const Backend& backend) {
  if (const auto* c = dynamic_cast<const CachingBackend*>(&backend)) return c->stats();
  return {};
}

}  // namespace dosna
