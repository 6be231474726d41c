#include "support/faulty_backend.h"

#include <cerrno>
#include <mutex>

#include "dosna/errors.h"

namespace dosna::testing {

struct FaultyBackend::Shared {
  std::mutex mutex;
  FaultPlan plan;
  FaultCounters counters;

  std::atomic<int>& counter(FaultOp op) {
    switch (op) {
      case FaultOp::kCreateDataset:
        return counters.create_dataset;
      case FaultOp::kDeleteDataset:
        return counters.delete_dataset;
      case FaultOp::kGet:
        return counters.get;
      case FaultOp::kPut:
        return counters.put;
      case FaultOp::kRemove:
        return counters.remove;
      case FaultOp::kNone:
        break;
    }
    return counters.injected;
  }

  // Counts the call and throws if the plan says this one fails.
  void enter(FaultOp op, const std::string& what) {
    const int call = ++counter(op);
    FaultPlan p;
    {
      std::lock_guard lock(mutex);
      p = plan;
    }
    if (p.op != op) return;
    if (call == p.nth || (p.sticky && call > p.nth)) {
      ++counters.injected;
      throw IoError("injected fault: call #" + std::to_string(call) + " of " + what, EIO);
    }
  }
};

namespace {

std::string chunk_text(const std::string& dataset, const ChunkIndex& index) {
  std::string out = "chunk ";
  for (std::size_t i = 0; i < index.size(); ++i) out += (i ? "." : "") + std::to_string(index[i]);
  return out + " of dataset '" + dataset + "'";
}

class FaultyChunkStore : public ChunkStore {
 public:
  FaultyChunkStore(std::shared_ptr<ChunkStore> inner, std::shared_ptr<FaultyBackend::Shared> shared,
                   std::string dataset)
      : inner_(std::move(inner)), shared_(std::move(shared)), dataset_(std::move(dataset)) {}

  ChunkData get(const ChunkIndex& index) override {
    shared_->enter(FaultOp::kGet, "get of " + chunk_text(dataset_, index));
    return inner_->get(index);
  }
  void put(const ChunkIndex& index, ChunkData data) override {
    shared_->enter(FaultOp::kPut, "put of " + chunk_text(dataset_, index));
    inner_->put(index, std::move(data));
  }
  bool has(const ChunkIndex& index) override { return inner_->has(index); }
  bool remove(const ChunkIndex& index) override {
    shared_->enter(FaultOp::kRemove, "remove of " + chunk_text(dataset_, index));
    return inner_->remove(index);
  }
  std::vector<ChunkIndex> list() override { return inner_->list(); }
  // get_many/put_many/update keep the base versions, which call the
  // overrides above once per chunk, so every chunk access is counted.

 private:
  std::shared_ptr<ChunkStore> inner_;
  std::shared_ptr<FaultyBackend::Shared> shared_;
  std::string dataset_;
};

}  // namespace

FaultyBackend::FaultyBackend(std::shared_ptr<Backend> inner, FaultPlan plan)
    : ForwardingBackend(std::move(inner)), shared_(std::make_shared<Shared>()) {
  shared_->plan = plan;
  counters_ = &shared_->counters;
}

void FaultyBackend::set_plan(FaultPlan plan) {
  std::lock_guard lock(shared_->mutex);
  shared_->plan = plan;
}

void FaultyBackend::create_dataset(const std::string& dataset, const DatasetMeta& meta) {
  shared_->enter(FaultOp::kCreateDataset, "create_dataset '" + dataset + "'");
  inner_->create_dataset(dataset, meta);
}

void FaultyBackend::create_dataset(const std::string& dataset, const DatasetMeta& meta,
                                   const StorageOptions& options) {
  shared_->enter(FaultOp::kCreateDataset, "create_dataset '" + dataset + "'");
  inner_->create_dataset(dataset, meta, options);
}

void FaultyBackend::delete_dataset(const std::string& dataset) {
  shared_->enter(FaultOp::kDeleteDataset, "delete_dataset '" + dataset + "'");
  inner_->delete_dataset(dataset);
}

std::shared_ptr<ChunkStore> FaultyBackend::chunks(const std::string& dataset,
                                                  const DatasetMeta& meta) {
  return std::make_shared<FaultyChunkStore>(inner_->chunks(dataset, meta), shared_, dataset);
}

}  // namespace dosna::testing
