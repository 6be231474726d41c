// Backend and ChunkStore decorators for tests: they count every call and can
// fail the Nth call of one operation with an IoError, to prove that failures
// propagate (e.g. a fault on one MPI rank raises on every rank).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "dosna/backend.h"

namespace dosna::testing {

enum class FaultOp { kNone, kCreateDataset, kDeleteDataset, kGet, kPut, kRemove };

// Which call fails: the `nth` (1-based) call of `op`, and every later one
// when `sticky`. kNone never fails (the wrapper only counts).
struct FaultPlan {
  FaultOp op = FaultOp::kNone;
  int nth = 1;
  bool sticky = true;
};

// Calls seen by a FaultyBackend and all the chunk stores it handed out.
struct FaultCounters {
  std::atomic<int> create_dataset{0}, delete_dataset{0};
  std::atomic<int> get{0}, put{0}, remove{0};
  std::atomic<int> injected{0};
};

class FaultyBackend : public ForwardingBackend {
 public:
  FaultyBackend(std::shared_ptr<Backend> inner, FaultPlan plan);

  const FaultCounters& counters() const { return *counters_; }
  // Changes the plan for calls made from now on (counters are kept).
  void set_plan(FaultPlan plan);

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override;
  void create_dataset(const std::string& dataset, const DatasetMeta& meta,
                      const StorageOptions& options) override;
  void delete_dataset(const std::string& dataset) override;
  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  FaultCounters* counters_;
};

}  // namespace dosna::testing
