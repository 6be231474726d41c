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

class FaultyBackend : public Backend {
 public:
  FaultyBackend(std::shared_ptr<Backend> inner, FaultPlan plan);

  const FaultCounters& counters() const { return *counters_; }
  // Changes the plan for calls made from now on (counters are kept).
  void set_plan(FaultPlan plan);

  std::string_view kind() const override { return inner_->kind(); }
  const std::string& name() const override { return inner_->name(); }
  void connect() override { inner_->connect(); }
  void disconnect() noexcept override { inner_->disconnect(); }
  bool connected() const override { return inner_->connected(); }
  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override;
  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    return inner_->read_dataset(dataset);
  }
  void delete_dataset(const std::string& dataset) override;
  std::vector<std::string> list_datasets() override { return inner_->list_datasets(); }
  std::string read_attributes(const std::string& dataset) override {
    return inner_->read_attributes(dataset);
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    inner_->write_attributes(dataset, json_object);
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    inner_->resize_dataset(dataset, meta);
  }
  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override;

  struct Shared;

 private:
  std::shared_ptr<Backend> inner_;
  std::shared_ptr<Shared> shared_;
  FaultCounters* counters_;
};

}  // namespace dosna::testing
