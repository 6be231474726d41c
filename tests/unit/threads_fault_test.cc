// The `threads` engine under Dataset operations with a fault-injecting store:
// the first failure reaches the caller with its type, work not yet started is
// skipped, and the dataset stays usable.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "dosna/connection.h"
#include "dosna/registry.h"
#include "support/faulty_backend.h"
#include "support/stores.h"

namespace dosna {
namespace {

using testing::FaultOp;
using testing::FaultPlan;
using testing::FaultyBackend;

struct Fixture {
  std::shared_ptr<FaultyBackend> backend;
  std::unique_ptr<Connection> con;
};

Fixture open_faulty(int njobs) {
  Fixture f;
  f.backend = std::make_shared<FaultyBackend>(
      make_backend("ram", testing::unique_name("fault"), {}), FaultPlan{});
  f.con = std::make_unique<Connection>(f.backend,
                                       make_engine("threads", {{"njobs", std::to_string(njobs)}}));
  f.con->connect();
  return f;
}

NdArray ramp(const Shape& shape) {
  NdArray a(DType::of<float>(), shape);
  float x = 0;
  for (auto& v : a.values<float>()) v = x++;
  return a;
}

TEST(ThreadsFaults, LoadStopsAtTheFirstFailureAndRaisesItInTheCaller) {
  Fixture f = open_faulty(2);
  Dataset ds =
      f.con->create_dataset("d", {64, 64, 8}, DType::of<float>(), {4, 4, 8});  // 256 chunks
  const NdArray data = ramp({64, 64, 8});
  f.backend->set_plan({FaultOp::kPut, 5, true});
  try {
    ds.load(data.view());
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("injected fault"), std::string::npos) << e.what();
  }
  EXPECT_LT(f.backend->counters().put.load(), 256) << "puts kept starting after the failure";

  f.backend->set_plan({});
  ds.load(data.view());
  NdArray back = ds.read();
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), data.nbytes()), 0);
}

TEST(ThreadsFaults, ReadFailureOnAWorkerReachesTheCaller) {
  Fixture f = open_faulty(3);
  Dataset ds = f.con->create_dataset("d", {32, 32}, DType::of<float>(), {4, 4});
  ds.load(ramp({32, 32}).view());
  f.backend->set_plan({FaultOp::kGet, 20, false});
  EXPECT_THROW(ds.read(), IoError);
  EXPECT_EQ(f.backend->counters().injected.load(), 1);
  EXPECT_NO_THROW(ds.read());
}

TEST(ThreadsFaults, MapFunctionFailureIsRaisedOnce) {
  Fixture f = open_faulty(2);
  Dataset ds = f.con->create_dataset("d", {16, 16}, DType::of<float>(), {2, 2});
  ds.load(ramp({16, 16}).view());
  int calls = 0;
  std::mutex m;
  EXPECT_THROW(ds.apply([&](NdArray chunk) -> NdArray {
    std::lock_guard lock(m);
    if (++calls == 3) throw InvalidArgument("third chunk rejected");
    return chunk;
  }),
               InvalidArgument);
  EXPECT_LT(calls, 64);
}

}  // namespace
}  // namespace dosna
