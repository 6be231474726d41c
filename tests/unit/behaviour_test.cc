// The dataset behaviour users rely on, run over every compiled backend x
// engine (backend_engine_matrix()). A backend whose service is not set up is
// SKIPPED with the reason, or FAILS when DOSNA_REQUIRE_SERVICES is set.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <latch>
#include <tuple>
#include <vector>

#include "dosna/dosna.h"
#include "support/counting_backend.h"
#include "support/store_test.h"

namespace dosna {
namespace {

const std::nullopt_t None = std::nullopt;

// 0, 1, 2, ... as T, in C order.
template <class T>
NdArray iota(const Shape& shape, T start = T(0)) {
  NdArray a = NdArray::uninitialized(DType::of<T>(), shape);
  auto v = a.values<T>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(start + static_cast<T>(i));
  return a;
}

// A copy of the elements (a range-for over a temporary array's span dangles).
template <class T>
std::vector<T> values(const NdArray& a) {
  auto v = a.values<T>();
  return {v.begin(), v.end()};
}

bool same(const NdArray& a, const NdArray& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// What a store holds for one dataset, to compare before/after a rejected call.
struct DatasetSnapshot {
  std::string shape, dtype, fill, chunk_size;
  std::int64_t stored_chunks = 0;
  NdArray data;
  bool operator==(const DatasetSnapshot& o) const {
    return shape == o.shape && dtype == o.dtype && fill == o.fill && chunk_size == o.chunk_size &&
           stored_chunks == o.stored_chunks && same(data, o.data);
  }
};

class Behaviour : public testing::StoreTest {
 protected:
  void TearDown() override {
    if (conn_ && conn_->connected()) {
      for (const auto& name : created_) {
        try {
          if (conn_->has_dataset(name)) conn_->del_dataset(name);
        } catch (const std::exception&) {
        }
      }
    }
    StoreTest::TearDown();
  }

  // A fresh dataset name, deleted after the test.
  std::string fresh(const std::string& hint) {
    created_.push_back(testing::unique_name(hint));
    return created_.back();
  }

  Connection& conn() { return *conn_; }

  // Every dataset this test created that still exists, with its contents.
  std::map<std::string, DatasetSnapshot> snapshot() {
    std::map<std::string, DatasetSnapshot> out;
    for (const auto& name : created_) {
      if (!conn().has_dataset(name)) continue;
      Dataset ds = conn().get_dataset(name);
      out[name] = {shape_to_string(ds.shape()), ds.dtype().str(), ds.fillvalue().repr(ds.dtype()),
                   shape_to_string(ds.chunk_size()), ds.stored_chunks(), ds.read()};
    }
    return out;
  }

  std::vector<std::string> created_;
};

// Asserts that `statement` throws `error` and that nothing this test stored changed.
#define EXPECT_REJECTED(statement, error)                                  \
  do {                                                                     \
    const auto before_ = snapshot();                                       \
    EXPECT_THROW(statement, error);                                        \
    const auto after_ = snapshot();                                        \
    EXPECT_TRUE(before_ == after_) << "stored data changed by: " #statement; \
  } while (0)

TEST_P(Behaviour, CreateGetHasDeleteList) {
  const std::string a = fresh("a"), b = fresh("b");
  EXPECT_FALSE(conn().has_dataset(a));
  conn().create_dataset(a, {4, 4});
  conn().create_dataset(b, {3}, DType::of<std::int32_t>());
  EXPECT_TRUE(conn().has_dataset(a));
  EXPECT_TRUE(conn().has_dataset(b));
  const auto names = conn().list_datasets();
  EXPECT_TRUE(contains(names, a));
  EXPECT_TRUE(contains(names, b));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(conn().get_dataset(b).shape(), Shape{3});
  EXPECT_EQ(conn()[a].name(), a);
  conn().del_dataset(a);
  EXPECT_FALSE(conn().has_dataset(a));
  EXPECT_FALSE(contains(conn().list_datasets(), a));
  EXPECT_TRUE(conn().has_dataset(b));
}

TEST_P(Behaviour, Properties) {
  const std::string name = fresh("props");
  Dataset made = conn().create_dataset(name, {10, 7, 5}, DType::parse("<i2"), {4, 3, 5}, -1);
  for (const Dataset& ds : {made, conn().get_dataset(name)}) {
    EXPECT_EQ(ds.name(), name);
    EXPECT_EQ(ds.shape(), (Shape{10, 7, 5}));
    EXPECT_EQ(ds.ndim(), 3u);
    EXPECT_EQ(ds.dtype(), DType::of<std::int16_t>());
    EXPECT_EQ(ds.dtype().str(), "<i2");
    EXPECT_EQ(ds.fillvalue().repr(ds.dtype()), "-1");
    EXPECT_EQ(ds.chunk_size(), (Shape{4, 3, 5}));
    EXPECT_EQ(ds.chunk_grid(), (Shape{3, 3, 1}));
    EXPECT_EQ(ds.total_chunks(), 9);
    EXPECT_EQ(ds.meta().chunk_nbytes(), 4u * 3 * 5 * 2);
  }
}

TEST_P(Behaviour, DefaultsAreFloat32OneChunkFillZero) {
  Dataset ds = conn().create_dataset(fresh("defaults"), {6, 9});
  EXPECT_EQ(ds.dtype().str(), "<f4");
  EXPECT_EQ(ds.chunk_size(), (Shape{6, 9}));
  EXPECT_EQ(ds.chunk_grid(), (Shape{1, 1}));
  EXPECT_EQ(ds.total_chunks(), 1);
  EXPECT_EQ(ds.fillvalue().as_double(), 0.0);
}

TEST_P(Behaviour, MissingChunksReadAsFillAndAreNotCreated) {
  Dataset ds = conn().create_dataset(fresh("missing"), {9, 5}, DType::of<std::int32_t>(), {4, 2}, 7);
  EXPECT_EQ(ds.stored_chunks(), 0);
  NdArray all = ds.read();
  for (auto v : all.values<std::int32_t>()) ASSERT_EQ(v, 7);
  NdArray part = ds.read({slice(2, 7), -1});
  EXPECT_EQ(part.shape(), Shape{5});
  for (auto v : part.values<std::int32_t>()) EXPECT_EQ(v, 7);
  std::int32_t one = 0;
  ds.read({3, 3}, std::span<std::int32_t>(&one, 1));
  EXPECT_EQ(one, 7);
  NdArray chunk = ds.chunk({1, 1}).read();
  EXPECT_EQ(chunk.shape(), (Shape{4, 2}));
  for (auto v : chunk.values<std::int32_t>()) EXPECT_EQ(v, 7);
  EXPECT_FALSE(ds.has_chunk({1, 1}));
  EXPECT_FALSE(ds.chunk({1, 1}).exists());
  EXPECT_EQ(ds.stored_chunks(), 0);
}

TEST_P(Behaviour, FloatFillValuesSurviveReopening) {
  const std::string nan_name = fresh("nanfill"), half_name = fresh("halffill");
  conn().create_dataset(nan_name, {5, 5}, DType::of<float>(), {2, 2}, std::nan(""));
  conn().create_dataset(half_name, {5}, DType::of<double>(), {2}, 0.5);
  Connection second(store_.config);
  second.connect();
  Dataset nan_ds = second.get_dataset(nan_name);
  EXPECT_TRUE(std::isnan(nan_ds.fillvalue().as_double())) << nan_ds.fillvalue().repr(nan_ds.dtype());
  for (auto v : values<float>(nan_ds.read())) EXPECT_TRUE(std::isnan(v));
  Dataset half_ds = second.get_dataset(half_name);
  EXPECT_EQ(half_ds.fillvalue().as_double(), 0.5);
  EXPECT_EQ(half_ds.fillvalue().repr(half_ds.dtype()), "0.5");
  for (auto v : values<double>(half_ds.read())) EXPECT_EQ(v, 0.5);
  EXPECT_EQ(half_ds.stored_chunks(), 0);
}

TEST_P(Behaviour, PartialWrites) {
  Dataset ds = conn().create_dataset(fresh("partial"), {10, 10}, DType::of<std::int64_t>(), {4, 4}, 0);
  ds.write({slice(2, 6), slice(3, 5)}, iota<std::int64_t>({4, 2}, 1));
  EXPECT_EQ(ds.stored_chunks(), 4);  // rows 2..5 x cols 3..4 overlap chunks (0|1, 0|1)
  NdArray all = ds.read();
  for (std::int64_t i = 0; i < 10; ++i)
    for (std::int64_t j = 0; j < 10; ++j) {
      const bool in = i >= 2 && i < 6 && j >= 3 && j < 5;
      EXPECT_EQ(all.at<std::int64_t>({i, j}), in ? 1 + (i - 2) * 2 + (j - 3) : 0) << i << "," << j;
    }
  ds.write({3, slice(None, None, -3)}, Scalar(-5));  // cols 9, 6, 3, 0
  NdArray row = ds.read({3});
  const std::vector<std::int64_t> want = {-5, 0, 0, -5, 4, 0, -5, 0, 0, -5};
  EXPECT_EQ(std::vector<std::int64_t>(row.values<std::int64_t>().begin(), row.values<std::int64_t>().end()), want);
}

TEST_P(Behaviour, WholeChunkWrites) {
  Dataset ds = conn().create_dataset(fresh("whole"), {10, 8}, DType::of<std::uint8_t>(), {4, 4}, 9);
  ds.write({slice(4, 8), slice(0, 4)}, iota<std::uint8_t>({4, 4}));
  EXPECT_EQ(ds.stored_chunks(), 1);
  EXPECT_TRUE(ds.has_chunk({1, 0}));
  EXPECT_TRUE(same(ds.read({slice(4, 8), slice(0, 4)}), iota<std::uint8_t>({4, 4})));
  EXPECT_EQ(ds.read({3, 0}).values<std::uint8_t>()[0], 9);
}

TEST_P(Behaviour, WriteBroadcastsLikeNumpy) {
  Dataset ds = conn().create_dataset(fresh("bcast"), {4, 5}, DType::of<float>(), {3, 2}, 0);
  ds.write({slice(0, 3), all}, iota<float>({1, 5}));  // size-1 axis
  ds.write({3}, iota<float>({5}, 10.0f));
  ds.write({slice(1, 3), slice(1, 3)}, iota<float>({2, 1}, 20.0f));
  NdArray got = ds.read();
  const std::vector<float> want = {0, 1, 2, 3, 4,  //
                                   0, 20, 20, 3, 4,  //
                                   0, 21, 21, 3, 4,  //
                                   10, 11, 12, 13, 14};
  EXPECT_EQ(std::vector<float>(got.values<float>().begin(), got.values<float>().end()), want);
}

TEST_P(Behaviour, WriteWithFewerValueDimensionsBroadcasts) {
  // numpy: a[0:3, 0:5] = np.arange(5) (leading axes are added)
  Dataset ds = conn().create_dataset(fresh("bcastlead"), {4, 5}, DType::of<std::int16_t>(), {3, 2}, 0);
  ds.write({slice(0, 3), all}, iota<std::int16_t>({5}));
  NdArray got = ds.read({slice(0, 3)});
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 5; ++j) EXPECT_EQ(got.at<std::int16_t>({i, j}), j);
}

TEST_P(Behaviour, LoadAndCreateFromData) {
  Dataset ds = conn().create_dataset(fresh("load"), {7, 6, 5}, DType::of<double>(), {3, 4, 2}, 0);
  NdArray data = iota<double>({7, 6, 5}, 0.25);
  ds.load(data.view());
  EXPECT_TRUE(same(ds.read(), data));
  EXPECT_EQ(ds.stored_chunks(), ds.total_chunks());

  NdArray c = NdArray::uninitialized(DType::of<std::complex<float>>(), {5, 3});
  auto cv = c.values<std::complex<float>>();
  for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = {static_cast<float>(i), -1.5f};
  Dataset from = conn().create_dataset(fresh("fromdata"), c, {2, 2});
  EXPECT_EQ(from.shape(), (Shape{5, 3}));
  EXPECT_EQ(from.dtype().str(), "<c8");
  EXPECT_EQ(from.chunk_size(), (Shape{2, 2}));
  EXPECT_TRUE(same(conn().get_dataset(from.name()).read(), c));
}

TEST_P(Behaviour, ClearAndRemove) {
  const std::string name = fresh("clear");
  Dataset ds = conn().create_dataset(name, {6, 6}, DType::of<std::int32_t>(), {4, 4}, 3);
  ds.load(iota<std::int32_t>({6, 6}).view());
  ds.clear();
  EXPECT_EQ(ds.stored_chunks(), 0);
  EXPECT_TRUE(conn().has_dataset(name));
  for (auto v : values<std::int32_t>(ds.read())) EXPECT_EQ(v, 3);
  ds.write({0, 0}, Scalar(1));
  ds.remove();
  EXPECT_FALSE(conn().has_dataset(name));
  EXPECT_FALSE(contains(conn().list_datasets(), name));
  EXPECT_THROW(conn().get_dataset(name), DatasetNotFound);
}

TEST_P(Behaviour, ResizeShrinksAndGrowsAgainWithTheFillValue) {
  const std::string name = fresh("resize");
  Dataset ds = conn().create_dataset(name, {10, 9}, DType::of<std::int32_t>(), {4, 4}, 7);
  const NdArray data = iota<std::int32_t>({10, 9}, 1);
  ds.load(data.view());
  ds.resize({6, 5});
  EXPECT_EQ(ds.shape(), (Shape{6, 5}));
  EXPECT_EQ(ds.chunk_grid(), (Shape{2, 2}));
  EXPECT_EQ(ds.stored_chunks(), 4);  // chunks wholly outside are gone
  Dataset again = conn().get_dataset(name);
  EXPECT_EQ(again.shape(), (Shape{6, 5}));
  for (std::int64_t i = 0; i < 6; ++i)
    for (std::int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(again.read({i, j}).values<std::int32_t>()[0], 1 + i * 9 + j) << i << "," << j;
  again.resize({10, 11});
  EXPECT_EQ(conn().get_dataset(name).shape(), (Shape{10, 11}));
  const NdArray grown = conn().get_dataset(name).read();
  for (std::int64_t i = 0; i < 10; ++i)
    for (std::int64_t j = 0; j < 11; ++j)
      EXPECT_EQ(grown.at<std::int32_t>({i, j}), i < 6 && j < 5 ? 1 + i * 9 + j : 7) << i << "," << j;
  again.write({9, 10}, Scalar(-1));
  EXPECT_EQ(conn().get_dataset(name).read({9, 10}).values<std::int32_t>()[0], -1);
  EXPECT_REJECTED(again.resize({3}), InvalidArgument);
  EXPECT_REJECTED(again.resize({-1, 3}), InvalidArgument);
  again.resize({0, 11});
  EXPECT_EQ(again.stored_chunks(), 0);
  EXPECT_EQ(conn().get_dataset(name).shape(), (Shape{0, 11}));
}

TEST_P(Behaviour, AppendGrowsAnAxisAndWritesThere) {
  const std::string name = fresh("append");
  Dataset ds = conn().create_dataset(name, iota<std::int16_t>({2, 3}).view(), {2, 2}, 0);
  ds.append(iota<std::int16_t>({3, 3}, 100).view(), 0);
  EXPECT_EQ(ds.shape(), (Shape{5, 3}));
  ds.append(iota<std::int16_t>({5, 1}, -9).view(), 1);
  const NdArray all = conn().get_dataset(name).read();
  ASSERT_EQ(all.shape(), (Shape{5, 4}));
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 4; ++j) {
      const std::int64_t want = j == 3 ? -9 + i : i < 2 ? i * 3 + j : 100 + (i - 2) * 3 + j;
      EXPECT_EQ(all.at<std::int16_t>({i, j}), want) << i << "," << j;
    }
  EXPECT_REJECTED(ds.append(iota<std::int16_t>({1, 3}).view(), 0), InvalidArgument);  // 3 != 4 columns
  EXPECT_REJECTED(ds.append(iota<std::int32_t>({1, 4}).view(), 0), InvalidArgument);  // dtype
  EXPECT_REJECTED(ds.append(iota<std::int16_t>({1, 4}).view(), 2), InvalidArgument);  // axis
}

TEST_P(Behaviour, AttributesTravelWithTheDataset) {
  const std::string name = fresh("attrs");
  Dataset ds = conn().create_dataset(name, {4, 4}, DType::of<float>(), {2, 2}, 0);
  EXPECT_EQ(ds.attributes(), nlohmann::json::object());
  const nlohmann::json attrs = {{"units", "nm"}, {"spacing", {1.5, 1.5, 2.0}}, {"n", 3},
                                {"ok", true}, {"nested", {{"a", nullptr}, {"b", "\u00e9\"q"}}}};
  ds.set_attributes(attrs);
  EXPECT_EQ(conn().get_dataset(name).attributes(), attrs);
  EXPECT_REJECTED(ds.set_attributes(nlohmann::json::array({1, 2})), InvalidArgument);
  EXPECT_EQ(ds.attributes(), attrs);
  ds.set_attributes({{"units", "um"}});
  EXPECT_EQ(conn().get_dataset(name).attributes(), (nlohmann::json{{"units", "um"}}));
  ds.resize({6, 6});  // a resize keeps them
  EXPECT_EQ(conn().get_dataset(name).attributes(), (nlohmann::json{{"units", "um"}}));
  ds.remove();
  Dataset anew = conn().create_dataset(name, {4, 4}, DType::of<float>(), {2, 2}, 0);
  EXPECT_EQ(anew.attributes(), nlohmann::json::object());  // deleted with the dataset
}

TEST_P(Behaviour, Clone) {
  Dataset ds = conn().create_dataset(fresh("orig"), {5, 9}, DType::of<std::uint16_t>(), {2, 4}, 42);
  ds.write({slice(0, 2)}, iota<std::uint16_t>({2, 9}));
  const NdArray before = ds.read();

  Dataset empty = ds.clone(fresh("clone0"));
  EXPECT_EQ(empty.shape(), ds.shape());
  EXPECT_EQ(empty.dtype(), ds.dtype());
  EXPECT_EQ(empty.chunk_size(), ds.chunk_size());
  EXPECT_EQ(empty.fillvalue().repr(empty.dtype()), "42");
  EXPECT_EQ(empty.stored_chunks(), 0);
  for (auto v : values<std::uint16_t>(empty.read())) EXPECT_EQ(v, 42);

  Dataset full = ds.clone(fresh("clone1"), true);
  EXPECT_TRUE(same(full.read(), before));
  EXPECT_EQ(full.stored_chunks(), ds.stored_chunks());
  full.write({0, 0}, Scalar(999));
  EXPECT_TRUE(same(ds.read(), before)) << "writing the clone changed the original";
  EXPECT_THROW(ds.clone(ds.name()), AlreadyExists);
}

TEST_P(Behaviour, MapAndApply) {
  Dataset ds = conn().create_dataset(fresh("map"), {7, 5}, DType::of<std::int32_t>(), {3, 2}, 3);
  ds.write({slice(0, 4), slice(1, 4)}, iota<std::int32_t>({4, 3}, 100));
  const NdArray before = ds.read();
  std::mutex mu;
  std::multiset<Shape> seen;
  auto fn = [&](NdArray chunk) {
    {
      std::lock_guard lock(mu);
      seen.insert(chunk.shape());
    }
    for (auto& v : chunk.values<std::int32_t>()) v = 2 * v + 1;
    return chunk;
  };
  // Clipped chunk shapes of a 7x5 array in 3x2 chunks: rows 3,3,1 x cols 2,2,1.
  std::multiset<Shape> want_shapes;
  for (std::int64_t r : {3, 3, 1})
    for (std::int64_t c : {2, 2, 1}) want_shapes.insert({r, c});

  Dataset mapped = ds.map(fn, fresh("mapped"));
  EXPECT_EQ(seen, want_shapes);
  EXPECT_TRUE(same(ds.read(), before)) << "map changed its source";
  NdArray m = mapped.read();
  for (std::int64_t i = 0; i < m.size(); ++i)
    EXPECT_EQ(m.values<std::int32_t>()[i], 2 * before.values<std::int32_t>()[i] + 1) << i;

  seen.clear();
  ds.apply(fn);
  EXPECT_EQ(seen, want_shapes);
  EXPECT_TRUE(same(ds.read(), m));
  EXPECT_EQ(ds.stored_chunks(), ds.total_chunks());
}

TEST_P(Behaviour, ChunkApi) {
  const std::string name = fresh("chunks");
  Dataset ds = conn().create_dataset(name, {7, 5}, DType::of<std::int16_t>(), {4, 3}, -2);
  DataChunk c01 = ds.create_chunk({0, 1});
  EXPECT_TRUE(ds.has_chunk({0, 1}));
  EXPECT_TRUE(c01.exists());
  EXPECT_EQ(c01.name(), name + "/0.1");
  EXPECT_EQ(c01.shape(), (Shape{4, 3}));
  EXPECT_EQ(c01.byte_count(), 4u * 3 * 2);
  for (auto v : values<std::int16_t>(c01.read())) EXPECT_EQ(v, -2);
  EXPECT_EQ(ds.stored_chunks(), 1);

  // create_chunk with data into a sub-selection of the chunk.
  NdArray d = iota<std::int16_t>({2, 3}, 10);
  DataChunk c10 = ds.create_chunk({1, 0}, d.view(), {slice(1, 3)});
  NdArray got = c10.read();
  EXPECT_EQ(got.shape(), (Shape{4, 3}));  // edge chunk: stored at full chunk size
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      EXPECT_EQ(got.at<std::int16_t>({i, j}), (i == 1 || i == 2) ? 10 + (i - 1) * 3 + j : -2);
  // Chunk (1, 0) holds dataset rows 4..7 (7 is outside) and cols 0..2.
  EXPECT_EQ(ds.read({5, 1}).values<std::int16_t>()[0], 11);

  // Sub-selection read and write of a chunk.
  c10.write({0, slice(None, None, -1)}, iota<std::int16_t>({3}, 50).view());
  EXPECT_EQ(ds.read({4, slice(0, 3)}).values<std::int16_t>()[0], 52);
  c10.write({slice(2, 4), 2}, Scalar(7));
  NdArray col = c10.read({all, 2});
  EXPECT_EQ(col.shape(), Shape{4});
  EXPECT_EQ(col.values<std::int16_t>()[2], 7);
  EXPECT_EQ(col.values<std::int16_t>()[3], 7);
  EXPECT_EQ(ds.read({6, 2}).values<std::int16_t>()[0], 7);

  // A handle to a missing chunk neither creates it on read.
  DataChunk c11 = ds.chunk({1, 1});
  EXPECT_FALSE(c11.exists());
  for (auto v : values<std::int16_t>(c11.read({slice(0, 2)}))) EXPECT_EQ(v, -2);
  EXPECT_FALSE(ds.has_chunk({1, 1}));

  EXPECT_TRUE(ds.del_chunk({0, 1}));
  EXPECT_FALSE(ds.del_chunk({0, 1}));
  EXPECT_FALSE(ds.has_chunk({0, 1}));
  EXPECT_EQ(ds.stored_chunks(), 1);

  EXPECT_THROW(ds.chunk({2, 0}), IndexOutOfRange);
  EXPECT_THROW(ds.has_chunk({0, -1}), IndexOutOfRange);
  EXPECT_THROW(ds.create_chunk({0}), Error);
  EXPECT_REJECTED(ds.create_chunk({5, 5}), IndexOutOfRange);
  EXPECT_REJECTED(ds.del_chunk({0, 9}), IndexOutOfRange);
  NdArray wrong = iota<double>({4, 3});
  EXPECT_REJECTED(ds.create_chunk({0, 0}, wrong.view()), InvalidArgument);
  EXPECT_REJECTED(c10.write({0}, iota<std::int16_t>({4}).view()), InvalidArgument);
  EXPECT_FALSE(ds.has_chunk({0, 0}));
}

TEST_P(Behaviour, EmptySelections) {
  Dataset ds = conn().create_dataset(fresh("empty"), {6, 7}, DType::of<float>(), {4, 4}, 1);
  NdArray e = ds.read({slice(3, 3)});
  EXPECT_EQ(e.shape(), (Shape{0, 7}));
  EXPECT_EQ(e.size(), 0);
  NdArray e2 = ds.read({all, slice(5, 1)});
  EXPECT_EQ(e2.shape(), (Shape{6, 0}));
  ds.write({slice(4, 2)}, Scalar(5));
  ds.write(Selection{slice(2, 2), all}, NdArray(DType::of<float>(), {0, 7}));
  EXPECT_EQ(ds.stored_chunks(), 0);
}

TEST_P(Behaviour, BadCreateInputsAreRejected) {
  const std::string keep = fresh("keep");
  Dataset ds = conn().create_dataset(keep, {5, 5}, DType::of<std::int32_t>(), {2, 2}, 4);
  ds.write({slice(1, 4)}, iota<std::int32_t>({3, 5}));
  const std::string bad = fresh("bad");
  EXPECT_REJECTED(conn().create_dataset(bad, {-1, 4}), InvalidArgument);
  EXPECT_REJECTED(conn().create_dataset(bad, {4, 4}, {}, {0, 4}), InvalidArgument);
  EXPECT_REJECTED(conn().create_dataset(bad, {4, 4}, {}, {-2, 4}), InvalidArgument);
  EXPECT_REJECTED(conn().create_dataset(bad, {4, 4}, {}, {4}), InvalidArgument);
  EXPECT_REJECTED(conn().create_dataset(bad, {4, 4}, {}, {2, 2, 2}), InvalidArgument);
  EXPECT_FALSE(conn().has_dataset(bad));
  // A duplicate create, even of another shape, leaves the original alone.
  EXPECT_REJECTED(conn().create_dataset(keep, {9}, DType::of<double>()), AlreadyExists);
  EXPECT_EQ(conn().get_dataset(keep).shape(), (Shape{5, 5}));
  EXPECT_REJECTED(conn().get_dataset(bad), DatasetNotFound);
  EXPECT_REJECTED(conn().del_dataset(bad), DatasetNotFound);
  EXPECT_REJECTED(conn()[bad], NotFound);
}

TEST_P(Behaviour, BadDTypeStrings) {
  for (const char* text : {">f4", "|S10", "<U5", "float16", "<f2", "<f16", "object", "i3", "", "f4x",
                           "complex256"}) {
    SCOPED_TRACE(text);
    try {
      DType::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InvalidArgument& e) {
      if (*text) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_EQ(DType::parse("<f4"), DType::of<float>());
  EXPECT_EQ(DType::parse("=i8"), DType::of<std::int64_t>());
  EXPECT_EQ(DType::parse("|b1"), DType::of<bool>());
  EXPECT_EQ(DType::parse("bool"), DType::of<bool>());
  EXPECT_EQ(DType::parse("complex128"), DType::of<std::complex<double>>());
  EXPECT_EQ(DType::parse("u2"), DType::of<std::uint16_t>());
  EXPECT_EQ(DType::of<std::int8_t>().str(), "|i1");
  EXPECT_EQ(DType::of<std::uint64_t>().name(), "uint64");
}

TEST_P(Behaviour, BadSliceInputsAreRejected) {
  const std::string name = fresh("slicebad");
  Dataset ds = conn().create_dataset(name, {6, 4}, DType::of<float>(), {4, 3}, 0.5);
  ds.write({slice(0, 5)}, iota<float>({5, 4}));
  NdArray ok = iota<float>({2, 4});
  EXPECT_REJECTED(ds.read({6}), IndexOutOfRange);
  EXPECT_REJECTED(ds.read({0, -5}), IndexOutOfRange);
  EXPECT_REJECTED(ds.write({-7}, Scalar(1)), IndexOutOfRange);
  EXPECT_REJECTED(ds.write({slice(0, 2), 4}, Scalar(1)), IndexOutOfRange);
  EXPECT_REJECTED(ds.write({slice(0, 2), 9}, ok.view()), IndexOutOfRange);
  EXPECT_REJECTED(ds.read({0, 0, 0}), InvalidArgument);
  EXPECT_REJECTED(ds.read({slice(None, None, 0)}), InvalidArgument);
  // Values that do not broadcast to the selection.
  EXPECT_REJECTED(ds.write({slice(0, 3)}, ok.view()), InvalidArgument);
  EXPECT_REJECTED(ds.write({slice(0, 2)}, iota<float>({2, 3}).view()), InvalidArgument);
  EXPECT_REJECTED(ds.write({slice(0, 2)}, iota<float>({3, 2, 4}).view()), InvalidArgument);
  EXPECT_REJECTED(ds.load(iota<float>({6, 3}).view()), InvalidArgument);
  // Buffers of the wrong dtype or size.
  EXPECT_REJECTED(ds.write({slice(0, 2)}, iota<double>({2, 4}).view()), InvalidArgument);
  EXPECT_REJECTED(ds.load(iota<double>({6, 4}).view()), InvalidArgument);
  NdArray wrong_type(DType::of<double>(), {2, 4});
  EXPECT_REJECTED(ds.read({slice(0, 2)}, wrong_type.mutable_view()), InvalidArgument);
  NdArray wrong_shape(DType::of<float>(), {4, 2});
  EXPECT_REJECTED(ds.read({slice(0, 2)}, wrong_shape.mutable_view()), InvalidArgument);
  std::vector<float> small(7);
  EXPECT_REJECTED(ds.read({slice(0, 2)}, std::span<float>(small)), InvalidArgument);
}

TEST_P(Behaviour, ErrorsNameTheDataset) {
  const std::string name = fresh("named");
  Dataset ds = conn().create_dataset(name, {6, 4}, DType::of<float>(), {4, 3});
  auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string m = message([&] { ds.read({17}); });
  EXPECT_NE(m.find(name), std::string::npos) << m;
  EXPECT_NE(m.find("17"), std::string::npos) << m;
  m = message([&] { ds.write({slice(0, 2)}, iota<float>({3, 4}).view()); });
  EXPECT_NE(m.find(name), std::string::npos) << m;
  EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
  m = message([&] { ds.write({slice(0, 2)}, iota<double>({2, 4}).view()); });
  EXPECT_NE(m.find(name), std::string::npos) << m;
  const std::string missing = fresh("missing");
  m = message([&] { conn().get_dataset(missing); });
  EXPECT_NE(m.find(missing), std::string::npos) << m;
  m = message([&] { conn().create_dataset(name, {3}); });
  EXPECT_NE(m.find(name), std::string::npos) << m;
  m = message([&] { conn().create_dataset(missing, {4}, {}, {0}); });
  EXPECT_NE(m.find(missing), std::string::npos) << m;
}

TEST_P(Behaviour, EveryDTypeRoundTrips) {
  for (const char* text : {"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4",
                           "<f8", "<c8", "<c16"}) {
    SCOPED_TRACE(text);
    const DType dt = DType::parse(text);
    Dataset ds = conn().create_dataset(fresh("dt"), {5, 3}, dt, {2, 2}, 1);
    NdArray data = NdArray::uninitialized(dt, {5, 3});
    for (std::size_t i = 0; i < data.nbytes(); ++i)
      data.bytes()[i] = std::byte(dt.kind() == DTypeKind::kBool ? (i * 7 % 3 == 0) : (i * 37 + 11) & 0xff);
    ds.write({slice(1, None)}, ArrayView{dt, {4, 3}, data.bytes() + 3 * dt.itemsize(), {}});
    NdArray got = ds.read();
    EXPECT_EQ(std::memcmp(got.bytes() + 3 * dt.itemsize(), data.bytes() + 3 * dt.itemsize(),
                          12 * dt.itemsize()),
              0);
    NdArray one = NdArray::filled(dt, {}, Scalar(1));
    EXPECT_EQ(std::memcmp(got.bytes(), one.bytes(), dt.itemsize()), 0) << "fill value 1";
  }
}

TEST_P(Behaviour, ScalarWritesCastLikeNumpy) {
  Dataset i = conn().create_dataset(fresh("casti"), {4}, DType::of<std::int32_t>(), {3}, 0);
  i.write({0}, Scalar(2.7));
  i.write({1}, Scalar(-2.7));
  i.write({2}, Scalar(true));
  EXPECT_EQ(values<std::int32_t>(i.read()), (std::vector<std::int32_t>{2, -2, 1, 0}));
  Dataset f = conn().create_dataset(fresh("castf"), {3}, DType::of<float>(), {2}, 0);
  f.write({0}, Scalar(std::int64_t{7}));
  f.write({1}, Scalar(std::nan("")));
  f.write({2}, Scalar(0.1));
  NdArray got = f.read();
  EXPECT_EQ(got.values<float>()[0], 7.0f);
  EXPECT_TRUE(std::isnan(got.values<float>()[1]));
  EXPECT_EQ(got.values<float>()[2], 0.1f);
  Dataset b = conn().create_dataset(fresh("castb"), {3}, DType::of<bool>(), {2}, false);
  b.write({0}, Scalar(1.5));
  b.write({1}, Scalar(std::int64_t{0}));
  EXPECT_EQ(values<bool>(b.read()), (std::vector<bool>{true, false, false}));
  Dataset c = conn().create_dataset(fresh("castc"), {2}, DType::of<std::complex<double>>(), {2}, 0);
  c.write({1}, Scalar(std::complex<double>(1.5, -2)));
  c.write({0}, Scalar(3));
  EXPECT_EQ(values<std::complex<double>>(c.read()),
            (std::vector<std::complex<double>>{{3, 0}, {1.5, -2}}));
}

TEST_P(Behaviour, ReadIntoStridedBuffers) {
  Dataset ds = conn().create_dataset(fresh("strided"), {5, 6}, DType::of<std::int32_t>(), {2, 4}, 0);
  const NdArray data = iota<std::int32_t>({5, 6});
  ds.load(data.view());
  // Into every other column of a 5x12 buffer, rows reversed.
  std::vector<std::int32_t> buf(5 * 12, -1);
  const std::int64_t row = 12 * 4;
  ds.read({}, MutableArrayView{DType::of<std::int32_t>(), {5, 6},
                               reinterpret_cast<std::byte*>(buf.data() + 4 * 12), {-row, 8}});
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 12; ++j)
      EXPECT_EQ(buf[static_cast<std::size_t>(i * 12 + j)], j % 2 ? -1 : (4 - i) * 6 + j / 2)
          << i << "," << j;
  // A transposed view.
  std::vector<std::int32_t> t(30, -1);
  ds.read({}, MutableArrayView{DType::of<std::int32_t>(), {5, 6},
                               reinterpret_cast<std::byte*>(t.data()), {4, 20}});
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(t[static_cast<std::size_t>(j * 5 + i)], i * 6 + j);
}

// Selections of every kind for a 3-D dataset: boxes across chunk borders,
// steps (negative too), integers, ellipsis, fewer indices, empty, whole,
// and the same box twice.
std::vector<Selection> mixed_selections() {
  return {{slice(1, 9), slice(2, 10), slice(0, 7)},
          {slice(3, 12), slice(None, None, 2), 4},
          {slice(None, None, -3), 5, slice(6, 1, -2)},
          {7, ellipsis},
          {ellipsis, 0},
          {slice(2, 2)},
          {},
          {12, 10, 6},
          {slice(1, 9), slice(2, 10), slice(0, 7)},
          {slice(-5, None), slice(-20, 4), slice(None, -2, 3)}};
}

TEST_P(Behaviour, ReadManyEqualsReadingEachSelection) {
  Dataset ds = conn().create_dataset(fresh("many"), {13, 11, 7}, DType::of<std::int32_t>(),
                                     {4, 3, 5}, -1);
  ds.write({slice(None, 10)}, iota<std::int32_t>({10, 11, 7}));  // rows 10.. stay the fill
  const std::vector<Selection> sels = mixed_selections();
  const std::vector<NdArray> got = ds.read_many(sels);
  ASSERT_EQ(got.size(), sels.size());
  for (std::size_t i = 0; i < sels.size(); ++i)
    EXPECT_TRUE(same(got[i], ds.read(sels[i]))) << "selection " << i << " " << sels[i].to_string();
  // Into callers' buffers, one of them strided (every other element).
  std::vector<NdArray> bufs;
  std::vector<MutableArrayView> views;
  for (const auto& s : sels) {
    bufs.push_back(NdArray::filled(DType::of<std::int32_t>(),
                                   normalize(s, ds.shape()).result_shape(), Scalar(7777)));
    views.push_back(bufs.back().mutable_view());
  }
  std::vector<std::int32_t> wide(2 * 8 * 8 * 7, 5555);
  views[0] = MutableArrayView{DType::of<std::int32_t>(), {8, 8, 7},
                              reinterpret_cast<std::byte*>(wide.data()), {8 * 7 * 8, 7 * 8, 8}};
  ds.read_many(sels, views);
  for (std::size_t i = 1; i < sels.size(); ++i)
    EXPECT_TRUE(same(bufs[i], got[i])) << "into a buffer, selection " << i;
  const auto want0 = values<std::int32_t>(got[0]);
  for (std::size_t k = 0; k < want0.size(); ++k) {
    EXPECT_EQ(wide[2 * k], want0[k]) << k;
    EXPECT_EQ(wide[2 * k + 1], 5555) << k;
  }
  EXPECT_TRUE(ds.read_many(std::vector<Selection>{}).empty());
}

TEST_P(Behaviour, ReadManyRejectsBadSelectionsBeforeReading) {
  const std::string name = fresh("manybad");
  Dataset ds = conn().create_dataset(name, {6, 4}, DType::of<float>(), {4, 3}, 0.5);
  ds.load(iota<float>({6, 4}).view());
  auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::vector<Selection> out_of_range = {{1}, {slice(0, 2)}, {0, 4}};
  EXPECT_REJECTED(ds.read_many(out_of_range), IndexOutOfRange);
  std::string m = message([&] { ds.read_many(out_of_range); });
  EXPECT_NE(m.find(name), std::string::npos) << m;
  EXPECT_NE(m.find("selection 2 of 3"), std::string::npos) << m;
  EXPECT_REJECTED(ds.read_many(std::vector<Selection>{{0}, {0, 0, 0}}), InvalidArgument);
  EXPECT_REJECTED(ds.read_many(std::vector<Selection>{{slice(None, None, 0)}}), InvalidArgument);
  NdArray good(DType::of<float>(), {2, 4});
  NdArray wrong_type(DType::of<double>(), {2, 4});
  NdArray wrong_shape(DType::of<float>(), {4, 2});
  const std::vector<Selection> two = {{slice(0, 2)}, {slice(2, 4)}};
  std::vector<MutableArrayView> views = {good.mutable_view(), wrong_type.mutable_view()};
  EXPECT_REJECTED(ds.read_many(two, views), InvalidArgument);
  m = message([&] { ds.read_many(two, views); });
  EXPECT_NE(m.find("selection 1 of 2"), std::string::npos) << m;
  views[1] = wrong_shape.mutable_view();
  EXPECT_REJECTED(ds.read_many(two, views), InvalidArgument);
  views.pop_back();
  EXPECT_REJECTED(ds.read_many(two, views), InvalidArgument);
  EXPECT_TRUE(same(good, NdArray(DType::of<float>(), {2, 4})))
      << "a rejected read_many wrote into a buffer";
  Connection other(store_.config);
  other.connect();
  Dataset closed = other.get_dataset(name);
  other.disconnect();
  EXPECT_THROW(closed.read_many(two), ConnectionError);
}

TEST_P(Behaviour, ZeroSizedDataset) {
  Dataset ds = conn().create_dataset(fresh("zero"), {0, 5}, DType::of<float>(), {2, 2}, 1);
  EXPECT_EQ(ds.chunk_grid(), (Shape{0, 3}));
  EXPECT_EQ(ds.total_chunks(), 0);
  EXPECT_EQ(ds.read().shape(), (Shape{0, 5}));
  ds.write({}, Scalar(3));
  ds.load(NdArray(DType::of<float>(), {0, 5}).view());
  ds.apply([](NdArray a) { return a; });
  EXPECT_EQ(ds.stored_chunks(), 0);
  EXPECT_THROW(ds.read({0}), IndexOutOfRange);
}

TEST_P(Behaviour, HandlesShareStateAndNeedAnOpenConnection) {
  const std::string name = fresh("handles");
  Dataset a = conn().create_dataset(name, {4, 4}, DType::of<double>(), {2, 2}, 0);
  Dataset b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  Dataset c = conn().get_dataset(name);
  a.write({1, 1}, Scalar(5.0));
  EXPECT_EQ(b.read({1, 1}).values<double>()[0], 5.0);
  EXPECT_EQ(c.read({1, 1}).values<double>()[0], 5.0);
  EXPECT_TRUE(conn().connected());
  Connection moved(std::move(*conn_));
  EXPECT_TRUE(moved.connected());
  EXPECT_TRUE(moved.has_dataset(name));
  EXPECT_EQ(a.read({1, 1}).values<double>()[0], 5.0);
  moved.disconnect();
  EXPECT_FALSE(moved.connected());
  EXPECT_THROW(a.read(), ConnectionError);
  EXPECT_THROW(a.write({0, 0}, Scalar(1)), ConnectionError);
  EXPECT_THROW(moved.get_dataset(name), ConnectionError);
  moved.connect();
  EXPECT_EQ(moved.get_dataset(name).read({1, 1}).values<double>()[0], 5.0);
  *conn_ = std::move(moved);
}

TEST_P(Behaviour, ConcurrentPartialWritesToOneChunkLoseNothing) {
  // Every write is a read-modify-write of the same chunk; each thread owns
  // its own elements, so any lost update shows as an element left at 0.
  const std::string name = fresh("race");
  const bool ram = std::get<0>(GetParam()) == "ram";
  const std::int64_t side = ram ? 64 : 8;
  Dataset ds = conn().create_dataset(name, {side, side}, DType::of<std::int64_t>(), {side, side}, 0);
  constexpr int kThreads = 4;
  const std::int64_t per_thread = side * side / kThreads;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Half the threads write through a handle of their own.
    Dataset handle = t % 2 ? conn().get_dataset(name) : ds;
    threads.emplace_back([handle, t, side, per_thread, &start]() mutable {
      start.arrive_and_wait();
      for (std::int64_t k = 0; k < per_thread; ++k) {
        const std::int64_t flat = k * kThreads + t;
        handle.write({flat / side, flat % side}, Scalar(flat + 1));
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto got = values<std::int64_t>(ds.read());
  std::int64_t lost = 0;
  for (std::size_t i = 0; i < got.size(); ++i) lost += got[i] != static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(lost, 0) << "updates lost out of " << got.size();
}

TEST_P(Behaviour, MapOntoAnExistingNameIsRejected) {
  Dataset ds = conn().create_dataset(fresh("src"), {4}, DType::of<std::int8_t>(), {2}, 1);
  const std::string other = fresh("other");
  conn().create_dataset(other, {3}, DType::of<float>(), {3}, 2);
  EXPECT_REJECTED(ds.map([](NdArray a) { return a; }, other), AlreadyExists);
  EXPECT_REJECTED(ds.clone(other), AlreadyExists);
  EXPECT_REJECTED(conn().create_dataset("", {3}), InvalidArgument);
  // A function returning the wrong shape or dtype changes nothing.
  ds.write({}, Scalar(3));
  EXPECT_REJECTED(ds.apply([](NdArray) { return NdArray(DType::of<std::int8_t>(), {1}); }), Error);
  EXPECT_REJECTED(ds.apply([](NdArray a) { return NdArray(DType::of<double>(), a.shape()); }),
                  InvalidArgument);
}

TEST_P(Behaviour, HugeSparseDatasets) {
  const std::string bad = fresh("overflow");
  constexpr std::int64_t kBig = std::int64_t{1} << 62;
  EXPECT_REJECTED(conn().create_dataset(bad, {kBig, kBig}, DType::of<double>(), {kBig, kBig}),
                  InvalidArgument);
  EXPECT_FALSE(conn().has_dataset(bad));
  // A million chunks, none stored: a small window reads quickly as fill.
  Dataset ds = conn().create_dataset(fresh("sparse"), {1000000, 1000000}, DType::of<float>(),
                                     {1000, 1000}, -1);
  EXPECT_EQ(ds.total_chunks(), 1000000);
  NdArray w = ds.read({slice(999990, None), slice(5, 8)});
  EXPECT_EQ(w.shape(), (Shape{10, 3}));
  for (auto v : w.values<float>()) EXPECT_EQ(v, -1.0f);
  ds.write({-1, -1}, Scalar(4));
  EXPECT_EQ(ds.read({999999, 999999}).values<float>()[0], 4.0f);
  EXPECT_EQ(ds.stored_chunks(), 1);
  EXPECT_TRUE(ds.has_chunk({999, 999}));
}

// --- operation counts at the storage seam

class Counting : public Behaviour {
 protected:
  void SetUp() override {
    Behaviour::SetUp();
    if (IsSkipped() || HasFailure()) return;
    counting_ = std::make_shared<testing::CountingBackend>(
        make_backend(store_.config.backend, store_.config.name, store_.config.options));
    counted_.emplace(counting_, make_engine(store_.config.engine, store_.config.engine_options));
    counted_->connect();
  }
  void TearDown() override {
    counted_.reset();
    Behaviour::TearDown();
  }
  std::shared_ptr<testing::CountingBackend> counting_;
  std::optional<Connection> counted_;
};

std::vector<ChunkIndex> indices(std::initializer_list<ChunkIndex> list) { return list; }

TEST_P(Counting, SliceTouchesExactlyTheChunksItOverlaps) {
  const std::string name = fresh("count");
  Dataset ds = counted_->create_dataset(name, {12, 12}, DType::of<float>(), {4, 4}, 0);
  ds.load(iota<float>({12, 12}).view());
  counting_->reset();
  ds.read({slice(1, 6), slice(5, 12, 3)});  // rows 1..5 -> 0,1; cols 5,8,11 -> 1,2
  auto c = counting_->counts(name);
  EXPECT_EQ(c.read_chunks(), indices({{0, 1}, {0, 2}, {1, 1}, {1, 2}}));
  EXPECT_TRUE(c.written_chunks().empty());
  for (const auto& [index, n] : c.chunks) EXPECT_LE(n.reads(), 1) << index[0] << "," << index[1];

  counting_->reset();
  ds.read({slice(None, 3, -1), 4});  // rows 11..4 -> 2,1; col 4 -> 1
  c = counting_->counts(name);
  EXPECT_EQ(c.read_chunks(), indices({{1, 1}, {2, 1}}));

  counting_->reset();
  ds.read({7, 7});
  EXPECT_EQ(counting_->counts(name).read_chunks(), indices({{1, 1}}));
}

TEST_P(Counting, WritesReadOnlyPartiallyCoveredChunks) {
  const std::string name = fresh("countw");
  Dataset ds = counted_->create_dataset(name, {10, 12}, DType::of<std::int32_t>(), {4, 4}, 0);
  counting_->reset();
  ds.write({slice(4, 8), slice(0, 8)}, iota<std::int32_t>({4, 8}));  // chunks (1,0), (1,1) whole
  auto c = counting_->counts(name);
  EXPECT_TRUE(c.read_chunks().empty()) << "a whole-chunk write read a chunk";
  EXPECT_EQ(c.written_chunks(), indices({{1, 0}, {1, 1}}));
  for (const auto& [index, n] : c.chunks) EXPECT_EQ(n.writes(), 1);

  counting_->reset();
  ds.write({slice(0, 6), 5}, Scalar(3));  // rows 0..5 of col 5: chunks (0,1) and (1,1), partial
  c = counting_->counts(name);
  EXPECT_EQ(c.written_chunks(), indices({{0, 1}, {1, 1}}));
  EXPECT_EQ(c.read_chunks(), indices({{0, 1}, {1, 1}}));

  counting_->reset();
  ds.write({slice(8, 10), slice(8, 12)}, Scalar(1));  // the whole clipped edge chunk (2, 2)
  c = counting_->counts(name);
  EXPECT_EQ(c.written_chunks(), indices({{2, 2}}));
  EXPECT_TRUE(c.read_chunks().empty()) << "a write covering a whole edge chunk read it";
  NdArray edge = ds.chunk({2, 2}).read();
  EXPECT_EQ(edge.at<std::int32_t>({1, 3}), 1);
  EXPECT_EQ(edge.at<std::int32_t>({2, 0}), 0) << "outside the dataset an edge chunk holds the fill";
}

TEST_P(Counting, ReadManyFetchesEachChunkOnceInSharedBatches) {
  const std::string name = fresh("countmany");
  Dataset ds = counted_->create_dataset(name, {12, 12}, DType::of<float>(), {4, 4}, 0);
  ds.load(iota<float>({12, 12}).view());
  const std::vector<Selection> sels = {
      {slice(1, 6), slice(5, 12, 3)},  // chunks (0,1) (0,2) (1,1) (1,2)
      {slice(None, 3, -1), 4},         // (2,1) (1,1)
      {7, 7},                          // (1,1)
      {slice(2, 2)},                   // none
      {slice(8, 12), slice(0, 4)}};    // (2,0), whole
  std::map<ChunkIndex, std::int64_t> want;
  for (const auto& s : sels) {
    counting_->reset();
    ds.read(s);
    for (const auto& [index, n] : counting_->counts(name).chunks) want[index] += n.reads();
  }
  EXPECT_EQ(want, (std::map<ChunkIndex, std::int64_t>{
                      {{0, 1}, 1}, {{0, 2}, 1}, {{1, 1}, 3}, {{1, 2}, 1}, {{2, 0}, 1}, {{2, 1}, 1}}));
  counting_->reset();
  const std::vector<NdArray> got = ds.read_many(sels);
  const auto c = counting_->counts(name);
  // Chunk (1,1), which three boxes touch, is fetched once: as the union of
  // the boxes' byte ranges on stores that read ranges, elsewhere whole.
  std::map<ChunkIndex, std::int64_t> reads;
  for (const auto& [index, n] : c.chunks) {
    reads[index] = n.reads();
    EXPECT_LE(n.get, 1) << "read_many fetched the whole chunk " << index[0] << "," << index[1]
                        << " more than once";
  }
  std::map<ChunkIndex, std::int64_t> once = want;
  for (auto& [index, n] : once) n = 1;
  EXPECT_EQ(reads, once) << "read_many fetched a chunk more (or less) often than once";
  EXPECT_TRUE(c.written_chunks().empty());
  if (ds.engine().concurrency() == 1) {
    // One worker: the chunk reads of the five boxes go out in one batch, and
    // the whole chunk (2,0), which lands straight in its result, in one more.
    EXPECT_EQ(c.batched_reads, 2) << "read_many did not batch the boxes' chunks together";
  }
  for (std::size_t i = 0; i < sels.size(); ++i) EXPECT_TRUE(same(got[i], ds.read(sels[i])));
  // A rejected read_many reads nothing.
  counting_->reset();
  EXPECT_THROW(ds.read_many(std::vector<Selection>{{0}, {12}}), IndexOutOfRange);
  EXPECT_TRUE(counting_->counts(name).chunks.empty());
}

TEST_P(Counting, ReadingMissingChunksWritesNothing) {
  const std::string name = fresh("countm");
  Dataset ds = counted_->create_dataset(name, {8, 8}, DType::of<double>(), {4, 4}, 2.5);
  counting_->reset();
  ds.read();
  ds.read({3, slice(None, None, -1)});
  ds.chunk({1, 1}).read();
  const auto c = counting_->counts(name);
  EXPECT_TRUE(c.written_chunks().empty());
  EXPECT_EQ(c.total().remove, 0);
  EXPECT_EQ(ds.stored_chunks(), 0);
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& i) {
  return std::get<0>(i.param) + "_" + std::get<1>(i.param);
}

INSTANTIATE_TEST_SUITE_P(Matrix, Behaviour, ::testing::ValuesIn(testing::backend_engine_matrix()),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Matrix, Counting, ::testing::ValuesIn(testing::backend_engine_matrix()),
                         param_name);

}  // namespace
}  // namespace dosna
