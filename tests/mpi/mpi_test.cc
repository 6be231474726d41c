// The MPI suite: every rank runs every test in the same order (the API is
// collective). Run as
//   mpiexec -n 2 dosna_mpi_tests --backend=hdf5 [--caller-init]
// --caller-init initialises MPI before DosNa does (as mpi4py would); without
// it the mpi engine initialises and finalises MPI itself. All ranks share ONE
// store: rank 0 makes it and broadcasts its configuration.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/faulty_backend.h"
#include "support/stores.h"

namespace dosna {
namespace {

using testing::FaultOp;
using testing::FaultPlan;
using testing::FaultyBackend;

ConnectionConfig g_config;  // the shared store, engine mpi

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

std::string bcast_string(std::string s) {
  int n = static_cast<int>(s.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD);
  s.resize(static_cast<std::size_t>(n));
  if (n > 0) MPI_Bcast(s.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD);
  return s;
}

long sum_over_ranks(long v) {
  long out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  return out;
}

// The same dataset name on every rank.
std::string shared_name(const std::string& hint) {
  return bcast_string(world_rank() == 0 ? testing::unique_name(hint) : "");
}

Connection open() {
  Connection con(g_config);
  con.connect();
  return con;
}

using T = std::int32_t;

NdArray pattern(const Shape& shape, T offset = 1) {
  NdArray a(DType::of<T>(), shape);
  auto v = a.values<T>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i) * 3 + offset;
  return a;
}

void expect_equal(const NdArray& got, const NdArray& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = got.values<T>();
  auto w = want.values<T>();
  std::size_t bad = 0;
  for (std::size_t i = 0; i < g.size(); ++i) bad += g[i] != w[i];
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " elements differ on rank " << world_rank();
}

TEST(MpiConnection, RankAndSizeMatchTheWorld) {
  Connection con = open();
  EXPECT_EQ(con.mpi_rank(), world_rank());
  EXPECT_EQ(con.mpi_size(), world_size());
  EXPECT_EQ(con.mpi_is_root(), world_rank() == 0);
  EXPECT_EQ(con.engine().kind(), "mpi");
  EXPECT_TRUE(con.engine().multi_process());
  EXPECT_EQ(con.engine().concurrency(), 1u);
  con.engine().barrier();
}

TEST(MpiEngine, Basics) {
  auto engine = make_engine("mpi", {});
  EXPECT_EQ(engine->kind(), "mpi");
  EXPECT_EQ(engine->rank(), world_rank());
  EXPECT_EQ(engine->size(), world_size());
  EXPECT_EQ(engine->is_root(), world_rank() == 0);
  EXPECT_TRUE(engine->multi_process());
  EXPECT_EQ(engine->concurrency(), 1u);
  engine->barrier();
}

TEST(MpiEngine, Options) {
  EXPECT_EQ(make_engine("mpi", {{"comm", "world"}})->size(), world_size());
  EXPECT_THROW(make_engine("mpi", {{"comm", "self"}}), InvalidArgument);
  EXPECT_THROW(make_engine("mpi", {{"ranks", "2"}}), InvalidArgument);
}

TEST(MpiEngine, RamIsRefused) {
  ConnectionConfig c;
  c.name = "ram-under-mpi";
  c.backend = "ram";
  c.engine = "mpi";
  EXPECT_THROW(
      {
        Connection con(c);
        con.connect();
      },
      NotSupported);
}

TEST(MpiEngine, DistributedRunsEachIndexOnceOnTheOwningRank) {
  auto engine = make_engine("mpi", {});
  const int n = 37;
  std::vector<int> mine(n, 0), all(n, 0);
  engine->run_distributed(n, [&](std::size_t i) {
    EXPECT_EQ(static_cast<int>(i) % world_size(), world_rank());
    mine[i]++;
  });
  MPI_Allreduce(mine.data(), all.data(), n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int i = 0; i < n; ++i) EXPECT_EQ(all[i], 1) << "index " << i;
  engine->run_distributed(0, [](std::size_t) { FAIL(); });
}

TEST(MpiEngine, RootRunsOnceAndOthersWaitForIt) {
  auto engine = make_engine("mpi", {});
  int ran = 0;
  engine->run_on_root([&] { ran = 1; });
  EXPECT_EQ(ran, engine->is_root() ? 1 : 0);
  EXPECT_EQ(sum_over_ranks(ran), 1);
}

TEST(MpiEngine, RootFailureRaisesItsTypeOnEveryRank) {
  auto engine = make_engine("mpi", {});
  try {
    engine->run_on_root([] { throw AlreadyExists("dataset 'x' already exists"); });
    ADD_FAILURE() << "no exception";
  } catch (const AlreadyExists& e) {
    if (world_rank() == 0) {
      EXPECT_STREQ(e.what(), "dataset 'x' already exists");
    } else {
      EXPECT_NE(std::string(e.what()).find("mpi rank 0"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("dataset 'x' already exists"), std::string::npos);
    }
  }
}

TEST(MpiEngine, TaskFailureOnOneRankRaisesOnEveryRank) {
  auto engine = make_engine("mpi", {});
  const int failing = world_size() - 1;
  try {
    engine->run_distributed(50, [&](std::size_t i) {
      if (world_rank() == failing && i == static_cast<std::size_t>(failing))
        throw IoError("chunk " + std::to_string(i) + " unreadable", 5);
    });
    ADD_FAILURE() << "no exception on rank " << world_rank();
  } catch (const IoError& e) {
    EXPECT_EQ(e.code(), 5);
    if (world_rank() != failing) {
      EXPECT_NE(std::string(e.what()).find("mpi rank " + std::to_string(failing)),
                std::string::npos)
          << e.what();
    }
  }
  // The lowest failing rank is the one named; a non-DosNa exception arrives
  // as dosna::Error on the other ranks.
  if (world_size() > 1) {
    try {
      engine->run_distributed(10, [&](std::size_t) {
        if (world_rank() > 0) throw std::runtime_error("rank " + std::to_string(world_rank()));
      });
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_EQ(world_rank(), 0);
      EXPECT_NE(std::string(e.what()).find("mpi rank 1 failed: rank 1"), std::string::npos)
          << e.what();
    } catch (const std::runtime_error& e) {
      EXPECT_GT(world_rank(), 0);
      EXPECT_EQ(std::string(e.what()), "rank " + std::to_string(world_rank()));
    }
  }
  // Still in step: the next collective call works.
  long ran = 0;
  engine->run_distributed(9, [&](std::size_t) { ran++; });
  EXPECT_EQ(sum_over_ranks(ran), 9);
}

TEST(MpiDataset, CreateOnceThenEveryRankSeesItAndDeleteOnce) {
  Connection con = open();
  const std::string name = shared_name("create");
  Dataset ds = con.create_dataset(name, {10, 6}, DType::of<T>(), {4, 4}, T{7});
  EXPECT_TRUE(con.has_dataset(name));
  const auto names = con.list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());
  EXPECT_EQ(ds.engine().rank(), world_rank());
  EXPECT_THROW(con.create_dataset(name, {10, 6}, DType::of<T>(), {4, 4}), AlreadyExists);
  expect_equal(con.get_dataset(name).read(), NdArray::filled(DType::of<T>(), {10, 6}, T{7}),
               "fill");
  EXPECT_EQ(ds.stored_chunks(), 0);
  con.del_dataset(name);
  EXPECT_FALSE(con.has_dataset(name));
  EXPECT_THROW(con.get_dataset(name), DatasetNotFound);
  EXPECT_THROW(con.del_dataset(name), DatasetNotFound);
}

class MpiData : public ::testing::Test {
 protected:
  void SetUp() override {
    con_ = std::make_unique<Connection>(open());
    name_ = shared_name("data");
    data_ = pattern(shape_);
    ds_ = std::make_unique<Dataset>(
        con_->create_dataset(name_, shape_, DType::of<T>(), chunks_, T{-1}));
  }
  void TearDown() override {
    for (const auto& n : {name_, name_ + "-out"})
      if (con_->has_dataset(n)) con_->del_dataset(n);
  }

  // 4 x 3 x 2 = 24 chunks, edge chunks on every axis.
  const Shape shape_{13, 9, 5};
  const Shape chunks_{4, 4, 4};
  std::unique_ptr<Connection> con_;
  std::string name_;
  NdArray data_;
  std::unique_ptr<Dataset> ds_;
};

TEST_F(MpiData, LoadSplitsTheChunksAndEveryRankReadsTheWhole) {
  ds_->load(data_.view());
  EXPECT_EQ(ds_->stored_chunks(), 24);
  expect_equal(ds_->read(), data_, "after load");
  // Another handle opened after the load sees the same.
  expect_equal(con_->get_dataset(name_).read(), data_, "reopened");
}

TEST_F(MpiData, MapRunsEveryChunkOnceAcrossRanks) {
  ds_->load(data_.view());
  long calls = 0;
  Dataset out = ds_->map(
      [&](NdArray chunk) {
        calls++;
        for (auto& v : chunk.values<T>()) v = v * 2;
        return chunk;
      },
      name_ + "-out");
  EXPECT_GT(calls, 0) << "rank " << world_rank() << " mapped no chunk";
  EXPECT_EQ(sum_over_ranks(calls), 24);
  NdArray want = pattern(shape_);
  for (auto& v : want.values<T>()) v *= 2;
  expect_equal(out.read(), want, "map result");
  expect_equal(con_->get_dataset(name_ + "-out").read(), want, "map result reopened");
  expect_equal(ds_->read(), data_, "map source unchanged");
}

TEST_F(MpiData, ApplyInPlaceAcrossRanks) {
  ds_->load(data_.view());
  long calls = 0;
  ds_->apply([&](NdArray chunk) {
    calls++;
    for (auto& v : chunk.values<T>()) v = v + 5;
    return chunk;
  });
  EXPECT_EQ(sum_over_ranks(calls), 24);
  NdArray want = pattern(shape_, 6);
  expect_equal(ds_->read(), want, "after apply");
}

TEST_F(MpiData, ClearThenEveryRankReadsTheFillValue) {
  ds_->load(data_.view());
  ds_->clear();
  EXPECT_EQ(ds_->stored_chunks(), 0);
  expect_equal(ds_->read(), NdArray::filled(DType::of<T>(), shape_, T{-1}), "after clear");
}

TEST_F(MpiData, CloneWithAndWithoutData) {
  ds_->load(data_.view());
  Dataset copy = ds_->clone(name_ + "-out", true);
  expect_equal(copy.read(), data_, "clone with data");
  con_->del_dataset(name_ + "-out");
  EXPECT_FALSE(con_->has_dataset(name_ + "-out"));
  Dataset empty = ds_->clone(name_ + "-out", false);
  EXPECT_EQ(empty.stored_chunks(), 0);
  EXPECT_EQ(empty.shape(), shape_);
}

TEST_F(MpiData, CreateChunkRunsOnceAndEveryRankSeesIt) {
  NdArray block = pattern(chunks_, 100);
  ds_->create_chunk({1, 2, 0}, block.view());
  EXPECT_TRUE(ds_->has_chunk({1, 2, 0}));
  EXPECT_EQ(ds_->stored_chunks(), 1);
  expect_equal(ds_->chunk({1, 2, 0}).read(), block, "created chunk");
  con_->engine().barrier();
  const bool existed = ds_->del_chunk({1, 2, 0});
  EXPECT_TRUE(existed || world_size() > 1);
}

TEST_F(MpiData, DeleteRemovesTheDatasetForEveryRank) {
  ds_->load(data_.view());
  ds_->remove();
  EXPECT_FALSE(con_->has_dataset(name_));
  EXPECT_THROW(con_->get_dataset(name_), DatasetNotFound);
}

// resize, append and set_attributes are collective: every rank calls them,
// the record changes once, and every rank sees the result when they return.
TEST_F(MpiData, ResizeAppendAndAttributesAreCollective) {
  // The first 9 rows of data_ (C order: a prefix of its values).
  const auto values = data_.values<T>();
  const NdArray kept = NdArray::from_vector(
      std::vector<T>(values.begin(), values.begin() + 9 * 9 * 5), {9, 9, 5});
  ds_->load(data_.view());
  ds_->resize({9, 9, 5});
  EXPECT_EQ(ds_->shape(), (Shape{9, 9, 5}));
  EXPECT_EQ(con_->get_dataset(name_).shape(), (Shape{9, 9, 5}));
  expect_equal(ds_->read(), kept, "shrunk");

  NdArray extra = pattern({4, 9, 5}, 500);
  ds_->append(extra.view(), 0);
  EXPECT_EQ(ds_->shape(), (Shape{13, 9, 5}));
  Dataset reopened = con_->get_dataset(name_);
  expect_equal(reopened.read(Selection{slice(9, 13), all, all}), extra, "appended");
  expect_equal(reopened.read(Selection{slice(0, 9), all, all}), kept, "kept");

  ds_->set_attributes({{"units", "mm"}, {"ranks", world_size()}});
  const nlohmann::json want = {{"units", "mm"}, {"ranks", world_size()}};
  EXPECT_EQ(con_->get_dataset(name_).attributes(), want);
  EXPECT_EQ(sum_over_ranks(con_->get_dataset(name_).attributes() == want ? 1 : 0), world_size());
}

// Each rank writes its own block of whole chunks at the same time, then every
// rank reads back the whole dataset.
TEST_F(MpiData, RanksWriteDisjointChunkAlignedSlicesAtOnce) {
  const std::int64_t rows = 4 * world_size() * 2;
  const std::string name = name_ + "-out";
  Dataset big = con_->create_dataset(name, {rows, 9, 5}, DType::of<T>(), chunks_, T{0});
  NdArray whole = pattern({rows, 9, 5});
  const std::int64_t per = rows / world_size(), begin = per * world_rank();
  NdArray mine = NdArray::uninitialized(DType::of<T>(), {per, 9, 5});
  const std::size_t row_elems = 9 * 5;
  std::memcpy(mine.bytes(), whole.bytes() + begin * row_elems * sizeof(T), mine.nbytes());
  con_->engine().barrier();
  big.write({slice(begin, begin + per), all, all}, mine.view());
  con_->engine().barrier();
  expect_equal(big.read(), whole, "whole after disjoint writes");
}

// Disjoint rows that share chunks: rank r writes rows r, r + size, ... so
// every chunk is read-modified-written by several ranks at once; the
// backends' cross-process guards (hdf5 chunk locks, ceph assert_version, s3
// If-Match) must keep every rank's rows.
TEST_F(MpiData, RanksWriteInterleavedRowsSharingChunks) {
  const std::string name = name_ + "-out";
  Dataset big = con_->create_dataset(name, shape_, DType::of<T>(), chunks_, T{0});
  con_->engine().barrier();
  for (std::int64_t row = world_rank(); row < shape_[0]; row += world_size()) {
    NdArray values = NdArray::uninitialized(DType::of<T>(), {1, 9, 5});
    std::memcpy(values.bytes(), data_.bytes() + row * 45 * sizeof(T), values.nbytes());
    big.write({slice(row, row + 1), all, all}, values.view());
  }
  con_->engine().barrier();
  expect_equal(big.read(), data_, "whole after interleaved writes");
}

TEST_F(MpiData, MapFailingOnOneRankRaisesOnEveryRank) {
  ds_->load(data_.view());
  const int failing = world_size() - 1;
  try {
    ds_->map(
        [&](NdArray chunk) -> NdArray {
          if (world_rank() == failing) throw InvalidArgument("bad chunk on purpose");
          return chunk;
        },
        name_ + "-out");
    ADD_FAILURE() << "no exception on rank " << world_rank();
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bad chunk on purpose"), std::string::npos) << what;
    if (world_rank() != failing) {
      EXPECT_NE(what.find("mpi rank " + std::to_string(failing)), std::string::npos) << what;
    }
  }
  // Still in step: a collective apply works afterwards.
  ds_->apply([](NdArray chunk) { return chunk; });
  expect_equal(ds_->read(), data_, "after the failed map");
}

// A fault injected by a backend wrapper on one rank only: every rank raises,
// nobody hangs. At the seam: the wrapper drives the same engine calls the
// core makes for load (run_distributed) and create (run_on_root).
TEST(MpiFaults, BackendFaultOnOneRankRaisesOnEveryRank) {
  const int failing = world_size() - 1;
  auto inner = make_backend(g_config.backend, g_config.name, g_config.options);
  inner->connect();
  FaultPlan plan;
  if (world_rank() == failing) plan = {FaultOp::kPut, 2, true};
  auto backend = std::make_shared<FaultyBackend>(inner, plan);
  auto engine = make_engine("mpi", {});

  const std::string name = shared_name("fault");
  DatasetMeta meta{{8, 8}, DType::of<T>(), Scalar(T{0}), {2, 2}};
  engine->run_on_root([&] { backend->create_dataset(name, meta); });
  auto chunks = backend->chunks(name, meta);
  auto payload = Buffer::allocate(meta.chunk_nbytes());
  std::memset(payload->data(), 1, payload->size());
  const auto grid = meta.chunk_grid();
  try {
    engine->run_distributed(static_cast<std::size_t>(meta.total_chunks()), [&](std::size_t i) {
      const auto k = static_cast<std::int64_t>(i);
      chunks->put({k / grid[1], k % grid[1]}, payload);
    });
    ADD_FAILURE() << "no exception on rank " << world_rank();
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("injected fault"), std::string::npos) << what;
    if (world_rank() != failing) {
      EXPECT_NE(what.find("mpi rank " + std::to_string(failing)), std::string::npos) << what;
    }
  }
  EXPECT_EQ(sum_over_ranks(backend->counters().injected.load()), 1);

  // A fault in create on the root raises everywhere too.
  backend->set_plan(world_rank() == 0 ? FaultPlan{FaultOp::kCreateDataset, 1, true} : FaultPlan{});
  EXPECT_THROW(engine->run_on_root([&] { backend->create_dataset(name + "-2", meta); }), IoError);

  backend->set_plan({});
  engine->run_on_root([&] { backend->delete_dataset(name); });
  EXPECT_FALSE(backend->read_dataset(name).has_value());
}

// The same through a Connection over the wrapper: a load whose chunk writes
// fail on one rank raises on every rank, and the connection stays usable.
TEST(MpiFaults, LoadWithAFaultyStoreOnOneRankRaisesOnEveryRank) {
  const int failing = world_size() - 1;
  auto inner = make_backend(g_config.backend, g_config.name, g_config.options);
  auto backend = std::make_shared<FaultyBackend>(inner, FaultPlan{});
  Connection con(backend, make_engine("mpi", {}));
  con.connect();
  const std::string name = shared_name("fault-load");
  Dataset ds = con.create_dataset(name, {12, 10}, DType::of<T>(), {3, 3}, T{0});
  const NdArray data = pattern({12, 10});
  if (world_rank() == failing) backend->set_plan({FaultOp::kPut, 1, true});
  try {
    ds.load(data.view());
    ADD_FAILURE() << "no exception on rank " << world_rank();
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("injected fault"), std::string::npos) << what;
    if (world_rank() != failing) {
      EXPECT_NE(what.find("mpi rank " + std::to_string(failing)), std::string::npos) << what;
    }
  }
  backend->set_plan({});
  ds.load(data.view());
  expect_equal(ds.read(), data, "load after the fault is gone");
  // A fault while deleting on the root raises everywhere; the retry works.
  if (world_rank() == 0) backend->set_plan({FaultOp::kDeleteDataset, 1, false});
  EXPECT_THROW(con.del_dataset(name), IoError);
  EXPECT_TRUE(con.has_dataset(name));
  con.del_dataset(name);
  EXPECT_FALSE(con.has_dataset(name));
}

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", world_rank(),
                 r.file_name() ? r.file_name() : "?", r.line_number(), r.summary());
  }
};

}  // namespace
}  // namespace dosna

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string backend;
  bool caller_init = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--backend=", 0) == 0) backend = a.substr(10);
    if (a == "--caller-init") caller_init = true;
  }
  if (backend.empty()) {
    std::fprintf(stderr, "usage: mpiexec -n N %s --backend=hdf5|ceph|s3 [--caller-init]\n",
                 argv[0]);
    return 2;
  }
  if (caller_init) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  } else {
    dosna::make_engine("mpi", {});  // DosNa initialises MPI, and finalises it at exit
  }
  const int rank = dosna::world_rank();

  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new dosna::RankFailurePrinter);
  }

  // Rank 0 makes the store; every rank uses its configuration.
  dosna::testing::TestStore store;
  std::string skip;
  if (rank == 0) {
    const auto built = dosna::available_backends();
    if (std::find(built.begin(), built.end(), backend) == built.end()) {
      skip = "backend '" + backend + "' is not built";
    } else {
      store = dosna::testing::make_test_store(backend, "mpi");
      skip = store.skip_reason;
    }
  }
  skip = dosna::bcast_string(skip);
  int rc = 0;
  if (!skip.empty()) {
    // The engine tests need no store; the rest are skipped, or fail in CI.
    const bool required = dosna::testing::services_required();
    if (rank == 0)
      std::printf("%s: store tests for %s: %s\n",
                  required ? "FAILED (services required)" : "SKIPPED", backend.c_str(),
                  skip.c_str());
    ::testing::GTEST_FLAG(filter) = "MpiEngine.*";
    rc = RUN_ALL_TESTS();
    if (required) rc = 1;
  } else {
    dosna::g_config = store.config;
    dosna::g_config.backend = backend;
    dosna::g_config.engine = "mpi";
    dosna::g_config.engine_options = {};
    dosna::g_config.name = dosna::bcast_string(store.config.name);
    std::string opts;
    for (const auto& [k, v] : store.config.options) opts += k + '\n' + v + '\n';
    opts = dosna::bcast_string(opts);
    dosna::g_config.options.clear();
    for (std::size_t pos = 0; pos < opts.size();) {
      const auto k_end = opts.find('\n', pos);
      const auto v_end = opts.find('\n', k_end + 1);
      dosna::g_config.options[opts.substr(pos, k_end - pos)] =
          opts.substr(k_end + 1, v_end - k_end - 1);
      pos = v_end + 1;
    }
    rc = RUN_ALL_TESTS();
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) store.cleanup();
  }
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (caller_init) MPI_Finalize();
  return worst;
}
