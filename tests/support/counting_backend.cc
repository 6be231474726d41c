#include "support/counting_backend.h"

#include <utility>

namespace dosna::testing {

std::vector<ChunkIndex> DatasetOpCounts::read_chunks() const {
  std::vector<ChunkIndex> out;
  for (const auto& [index, c] : chunks)
    if (c.reads() > 0) out.push_back(index);
  return out;
}

std::vector<ChunkIndex> DatasetOpCounts::written_chunks() const {
  std::vector<ChunkIndex> out;
  for (const auto& [index, c] : chunks)
    if (c.writes() > 0) out.push_back(index);
  return out;
}

ChunkOpCounts DatasetOpCounts::total() const {
  ChunkOpCounts t;
  for (const auto& [index, c] : chunks) {
    t.get += c.get;
    t.get_range += c.get_range;
    t.put += c.put;
    t.has += c.has;
    t.remove += c.remove;
    t.update += c.update;
  }
  return t;
}

// Forwards to the wrapped store. The batched and ranged calls are forwarded
// as such (the wrapped backend may implement them natively) and counted here.
class CountingBackend::Store : public ChunkStore {
 public:
  Store(std::shared_ptr<ChunkStore> inner, std::shared_ptr<Counter> counter)
      : inner_(std::move(inner)), counter_(std::move(counter)) {}

  ChunkData get(const ChunkIndex& index) override {
    count(index, &ChunkOpCounts::get);
    return inner_->get(index);
  }
  void put(const ChunkIndex& index, ChunkData data) override {
    count(index, &ChunkOpCounts::put);
    inner_->put(index, std::move(data));
  }
  bool has(const ChunkIndex& index) override {
    count(index, &ChunkOpCounts::has);
    return inner_->has(index);
  }
  bool remove(const ChunkIndex& index) override {
    count(index, &ChunkOpCounts::remove);
    return inner_->remove(index);
  }
  std::vector<ChunkIndex> list() override {
    count_call(&DatasetOpCounts::list);
    return inner_->list();
  }
  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    count_call(&DatasetOpCounts::batched_reads);
    for (const auto& index : indices) count(index, &ChunkOpCounts::get);
    inner_->get_many(indices, out);
  }
  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    for (const auto& index : indices) count(index, &ChunkOpCounts::put);
    inner_->put_many(indices, data);
  }
  bool reads_ranges() const override { return inner_->reads_ranges(); }
  void get_ranges_many(std::span<const ChunkIndex> indices,
                       std::span<const std::vector<ByteRange>> ranges,
                       std::span<ChunkData> out) override {
    count_call(&DatasetOpCounts::batched_reads);
    for (const auto& index : indices) count(index, &ChunkOpCounts::get_range);
    inner_->get_ranges_many(indices, ranges, out);
  }
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    count(index, &ChunkOpCounts::update);
    inner_->update(index, modify);
  }

 private:
  void count(const ChunkIndex& index, std::int64_t ChunkOpCounts::*field) {
    std::lock_guard lock(counter_->mutex);
    ++(counter_->counts.chunks[index].*field);
  }
  void count_call(std::int64_t DatasetOpCounts::*field) {
    std::lock_guard lock(counter_->mutex);
    ++(counter_->counts.*field);
  }

  std::shared_ptr<ChunkStore> inner_;
  std::shared_ptr<Counter> counter_;
};

CountingBackend::CountingBackend(std::shared_ptr<Backend> inner)
    : ForwardingBackend(std::move(inner)) {}

std::shared_ptr<CountingBackend::Counter> CountingBackend::counter(const std::string& dataset) {
  std::lock_guard lock(mutex_);
  auto& c = counters_[dataset];
  if (!c) c = std::make_shared<Counter>();
  return c;
}

DatasetOpCounts CountingBackend::counts(const std::string& dataset) const {
  std::shared_ptr<Counter> c;
  {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(dataset);
    if (it == counters_.end()) return {};
    c = it->second;
  }
  std::lock_guard lock(c->mutex);
  return c->counts;
}

void CountingBackend::reset() {
  std::lock_guard lock(mutex_);
  for (auto& [name, c] : counters_) {
    std::lock_guard inner_lock(c->mutex);
    c->counts = {};
  }
}

std::shared_ptr<ChunkStore> CountingBackend::chunks(const std::string& dataset,
                                                    const DatasetMeta& meta) {
  return std::make_shared<Store>(inner_->chunks(dataset, meta), counter(dataset));
}

}  // namespace dosna::testing
