// copy_dataset: across stores and formats, rechunked or not; absent chunks
// stay absent, progress reaches the total, memory bound honoured, an existing
// destination is refused before anything is written.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "dosna/dosna.h"
#include "dosna/registry.h"
#include "support/faulty_backend.h"
#include "support/stores.h"

namespace dosna {
namespace {

using testing::make_test_store;
using testing::TestStore;
using testing::unique_name;

constexpr std::int64_t kRows = 13, kCols = 10, kWrittenRows = 8;

class Copy : public ::testing::Test {
 protected:
  void SetUp() override {
    src_store_ = make_test_store("ram");
    dst_store_ = make_test_store("file", "threads");
    src_.emplace(src_store_.config);
    src_->connect();
    dst_.emplace(dst_store_.config);
    dst_->connect();
    name_ = unique_name("copy");
    // 13x10 in 4x4 chunks (a 4x3 grid), fill -1; rows 0..7 (two chunk rows,
    // 6 chunks) written, the rest never written.
    reference_ = NdArray::filled(DType::of<double>(), {kRows, kCols}, -1.0);
    auto values = reference_.values<double>();
    for (std::int64_t i = 0; i < kWrittenRows * kCols; ++i) values[i] = static_cast<double>(i) * 0.5;
    const NdArray written = NdArray::from_vector(
        std::vector<double>(values.begin(), values.begin() + kWrittenRows * kCols),
        {kWrittenRows, kCols});
    src_->create_dataset(name_, {kRows, kCols}, DType::of<double>(), {4, 4}, -1.0)
        .write(Selection{slice(0, kWrittenRows), all}, written.view());
  }
  void TearDown() override {
    src_.reset();
    dst_.reset();
    src_store_.cleanup();
    dst_store_.cleanup();
  }
  Dataset source() { return src_->get_dataset(name_); }

  TestStore src_store_, dst_store_;
  std::optional<Connection> src_, dst_;
  std::string name_;
  NdArray reference_;
};

void expect_same(const NdArray& got, const NdArray& want) {
  ASSERT_EQ(got.shape(), want.shape());
  const auto g = got.values<double>(), w = want.values<double>();
  for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(g[i], w[i]) << "element " << i;
}

TEST_F(Copy, SameChunksCopiesOnlyStoredChunksIntoAnotherStoreAndFormat) {
  CopyOptions options;
  options.storage.format = "zarr3";
  options.storage.compression = "zstd";
  Dataset out = copy_dataset(source(), *dst_, "out", options);
  expect_same(dst_->get_dataset("out").read(), reference_);
  EXPECT_EQ(out.stored_chunks(), 6);
  EXPECT_FALSE(out.has_chunk({3, 0}));
  EXPECT_EQ(dst_->get_dataset("out").format(), "zarr3");
}

TEST_F(Copy, RechunkedCopyWritesNoChunkThatReadsAsFill) {
  CopyOptions options;
  options.chunk_size = {5, 3};
  Dataset out = copy_dataset(source(), *dst_, "out", options);
  EXPECT_EQ(out.chunk_size(), (Shape{5, 3}));
  expect_same(out.read(), reference_);
  // Chunk row 2 (rows 10..12) lies wholly in the never-written part.
  EXPECT_FALSE(out.has_chunk({2, 0}));
  EXPECT_TRUE(out.has_chunk({1, 3}));  // rows 5..9: rows 5..7 written
  EXPECT_EQ(out.stored_chunks(), 8);
}

TEST_F(Copy, IntoAShardedArray) {
  CopyOptions options;
  options.storage.format = "zarr3";
  options.storage.shard_shape = {8, 8};
  Dataset out = copy_dataset(source(), *dst_, "out", options);
  expect_same(dst_->get_dataset("out").read(), reference_);
}

TEST_F(Copy, ProgressRisesToTheTotalWithinTheMemoryBound) {
  for (const Shape& chunks : {Shape{}, Shape{5, 3}}) {
    SCOPED_TRACE(shape_to_string(chunks));
    CopyOptions options;
    options.chunk_size = chunks;
    options.max_bytes_in_flight = 1;  // one chunk at a time
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    options.progress = [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); };
    const std::string name = "out" + std::to_string(chunks.size());
    copy_dataset(source(), *dst_, name, options);
    expect_same(dst_->get_dataset(name).read(), reference_);
    ASSERT_GE(calls.size(), 2u);
    EXPECT_EQ(calls.front().first, 0);
    EXPECT_EQ(calls.back().first, calls.back().second);
    EXPECT_GT(calls.back().second, 0);
    for (std::size_t i = 1; i < calls.size(); ++i) EXPECT_LE(calls[i - 1].first, calls[i].first);
  }
}

TEST_F(Copy, AnExistingDestinationIsRefusedAndKept) {
  Dataset existing = dst_->create_dataset("out", {2, 2}, DType::of<double>(), {2, 2}, 7.0);
  existing.write({}, 3.0);
  try {
    copy_dataset(source(), *dst_, "out");
    FAIL() << "no exception";
  } catch (const AlreadyExists& e) {
    EXPECT_NE(std::string(e.what()).find("'out'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(name_), std::string::npos) << e.what();
  }
  expect_same(dst_->get_dataset("out").read(), NdArray::filled(DType::of<double>(), {2, 2}, 3.0));
}

TEST_F(Copy, ARejectedCreateWritesNothing) {
  CopyOptions options;
  options.storage.compression = "no-such-codec";
  EXPECT_THROW(copy_dataset(source(), *dst_, "out", options), Error);
  EXPECT_FALSE(dst_->has_dataset("out"));
}

TEST_F(Copy, AFailedWriteDeletesThePartialDestination) {
  auto faulty = std::make_shared<testing::FaultyBackend>(
      make_backend(dst_store_.config.backend, dst_store_.config.name, dst_store_.config.options),
      testing::FaultPlan{testing::FaultOp::kPut, 2, true});
  Connection dst(faulty, make_engine("cpu", {}));
  dst.connect();
  CopyOptions options;
  options.max_bytes_in_flight = 1;
  EXPECT_THROW(copy_dataset(source(), dst, "out", options), IoError);
  EXPECT_GT(faulty->counters().injected.load(), 0);
  EXPECT_FALSE(dst.has_dataset("out"));
}

TEST_F(Copy, CopyChunksRefusesAnotherShapeOrDtype) {
  Dataset other = dst_->create_dataset("other", {kRows, kCols + 1}, DType::of<double>(), {4, 4});
  EXPECT_THROW(copy_chunks(source(), other), InvalidArgument);
  Dataset ints = dst_->create_dataset("ints", {kRows, kCols}, DType::of<std::int32_t>(), {4, 4});
  EXPECT_THROW(copy_chunks(source(), ints), InvalidArgument);
  EXPECT_EQ(ints.stored_chunks(), 0);
}

}  // namespace
}  // namespace dosna
