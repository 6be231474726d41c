// The ram backend: an in-process object store. Stores with the same
// connection name share their datasets within the process (like a pool), so
// a second Connection sees what the first wrote. Chunk payloads are kept as
// the immutable buffers the core hands over: no copy on put or get.
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

class RamChunkStore final : public ChunkStore {
 public:
  explicit RamChunkStore(const DatasetMeta& meta) : grid_(meta.chunk_grid()) {}

  ChunkData get(const ChunkIndex& index) override {
    std::shared_lock lock(mu_);
    auto it = chunks_.find(flat(index));
    return it == chunks_.end() ? nullptr : it->second;
  }
  void put(const ChunkIndex& index, ChunkData data) override {
    std::unique_lock lock(mu_);
    chunks_[flat(index)] = std::move(data);
  }
  bool has(const ChunkIndex& index) override {
    std::shared_lock lock(mu_);
    return chunks_.count(flat(index)) > 0;
  }
  bool remove(const ChunkIndex& index) override {
    std::unique_lock lock(mu_);
    return chunks_.erase(flat(index)) > 0;
  }
  std::vector<ChunkIndex> list() override {
    std::shared_lock lock(mu_);
    std::vector<ChunkIndex> out;
    out.reserve(chunks_.size());
    for (const auto& [k, v] : chunks_) out.push_back(unflat(k));
    return out;
  }
  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    std::shared_lock lock(mu_);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      auto it = chunks_.find(flat(indices[i]));
      out[i] = it == chunks_.end() ? nullptr : it->second;
    }
  }
  void clear() {
    std::unique_lock lock(mu_);
    chunks_.clear();
  }
  // Re-keys the chunks for a resized dataset's grid, dropping those outside.
  void regrid(const Shape& grid) {
    std::unique_lock lock(mu_);
    std::unordered_map<std::int64_t, ChunkData> kept;
    for (auto& [k, v] : chunks_) {
      const ChunkIndex idx = unflat(k);
      bool inside = true;
      for (std::size_t d = 0; d < grid.size(); ++d) inside = inside && idx[d] < grid[d];
      if (!inside) continue;
      std::int64_t f = 0;
      for (std::size_t d = 0; d < grid.size(); ++d) f = f * grid[d] + idx[d];
      kept.emplace(f, std::move(v));
    }
    chunks_ = std::move(kept);
    grid_ = grid;
  }

 private:
  std::int64_t flat(const ChunkIndex& index) const {
    std::int64_t f = 0;
    for (std::size_t d = 0; d < grid_.size(); ++d) f = f * grid_[d] + index[d];
    return f;
  }
  ChunkIndex unflat(std::int64_t f) const {
    ChunkIndex idx(grid_.size());
    for (std::size_t d = grid_.size(); d-- > 0;) {
      idx[d] = f % grid_[d];
      f /= grid_[d];
    }
    return idx;
  }

  Shape grid_;
  std::shared_mutex mu_;
  std::unordered_map<std::int64_t, ChunkData> chunks_;
};

struct RamDataset {
  DatasetMeta meta;
  std::shared_ptr<RamChunkStore> chunks;
  std::string attributes = "{}";
};

// One named in-memory store, shared by every connection of that name.
struct RamStore {
  std::mutex mu;
  std::map<std::string, RamDataset> datasets;
};

std::shared_ptr<RamStore> named_store(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<RamStore>> stores;
  std::lock_guard lock(mu);
  auto& s = stores[name];
  if (!s) s = std::make_shared<RamStore>();
  return s;
}

class RamBackend final : public Backend {
 public:
  explicit RamBackend(std::string name) : name_(std::move(name)) {}

  std::string_view kind() const override { return "ram"; }
  const std::string& name() const override { return name_; }
  void connect() override {
    std::lock_guard lock(mu_);
    if (!store_) store_ = named_store(name_);
  }
  void disconnect() noexcept override {
    std::lock_guard lock(mu_);
    store_.reset();
  }
  bool connected() const override {
    std::lock_guard lock(mu_);
    return store_ != nullptr;
  }

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    if (s->datasets.count(dataset))
      throw AlreadyExists("dataset '" + dataset + "' already exists in ram store '" + name_ + "'");
    s->datasets[dataset] = {meta, std::make_shared<RamChunkStore>(meta)};
  }
  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    auto it = s->datasets.find(dataset);
    if (it == s->datasets.end()) return std::nullopt;
    return it->second.meta;
  }
  void delete_dataset(const std::string& dataset) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    find(*s, dataset).chunks->clear();
    s->datasets.erase(dataset);
  }
  std::vector<std::string> list_datasets() override {
    auto s = store();
    std::lock_guard lock(s->mu);
    std::vector<std::string> out;
    for (const auto& [k, v] : s->datasets) out.push_back(k);
    return out;
  }
  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta&) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    return find(*s, dataset).chunks;
  }
  std::string read_attributes(const std::string& dataset) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    return find(*s, dataset).attributes;
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    find(*s, dataset).attributes = json_object;
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    auto s = store();
    std::lock_guard lock(s->mu);
    RamDataset& d = find(*s, dataset);
    d.chunks->regrid(meta.chunk_grid());
    d.meta = meta;
  }

 private:
  RamDataset& find(RamStore& s, const std::string& dataset) const {
    auto it = s.datasets.find(dataset);
    if (it == s.datasets.end())
      throw DatasetNotFound("dataset '" + dataset + "' not found in ram store '" + name_ + "'");
    return it->second;
  }
  std::shared_ptr<RamStore> store() const {
    std::lock_guard lock(mu_);
    if (!store_) throw ConnectionError("ram store '" + name_ + "' is not connected");
    return store_;
  }

  std::string name_;
  mutable std::mutex mu_;
  std::shared_ptr<RamStore> store_;
};

}  // namespace

std::shared_ptr<Backend> builtin::make_ram_backend(const std::string& name, const Options& options) {
  OptionReader reader(options, "ram backend");
  reader.take("name");
  reader.finish();
  return std::make_shared<RamBackend>(name);
}

}  // namespace dosna
