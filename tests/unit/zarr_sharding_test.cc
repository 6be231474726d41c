// Sharded zarr v3 arrays on every store holding zarr: random box writes and
// reads against a plain reference array, one stored object per shard after a
// load, concurrent writers to one shard losing nothing, chunk removal, and a
// damaged shard index read as an IoError naming the shard.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dosna/dosna.h"
#include "dosna/kvstore.h"
#include "support/stores.h"

namespace dosna {
namespace {

const Shape kShape{13, 11, 9}, kChunks{2, 3, 2}, kShards{4, 6, 4};
constexpr std::int32_t kFill = 7;

StorageOptions sharded(bool compressed) {
  StorageOptions o;
  o.format = "zarr3";
  o.shard_shape = kShards;
  if (compressed) o.compression = "zstd";
  return o;
}

std::int64_t flat(const std::vector<std::int64_t>& i) { return (i[0] * kShape[1] + i[1]) * kShape[2] + i[2]; }

class ZarrSharding : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = testing::make_test_store(GetParam(), "threads");
    if (!store_.skip_reason.empty()) {
      if (testing::services_required()) FAIL() << store_.skip_reason;
      GTEST_SKIP() << store_.skip_reason;
    }
    conn_.emplace(store_.config);
    conn_->connect();
    name_ = testing::unique_name("shard");
  }
  void TearDown() override {
    if (conn_ && conn_->has_dataset(name_)) conn_->del_dataset(name_);
    store_.cleanup();
  }
  Dataset create(bool compressed = true) {
    return conn_->create_dataset(name_, kShape, DType::of<std::int32_t>(), kChunks, kFill,
                                 sharded(compressed));
  }
  std::vector<std::string> stored_keys() {
    auto kv = make_kvstore(store_.config.backend, store_.config.name, store_.config.options);
    return kv->list(name_ + "/c/");
  }
  testing::TestStore store_;
  std::optional<Connection> conn_;
  std::string name_;
};

TEST_P(ZarrSharding, RandomBoxesMatchAReferenceArray) {
  Dataset ds = create();
  std::vector<std::int32_t> ref(static_cast<std::size_t>(kShape[0] * kShape[1] * kShape[2]), kFill);
  std::mt19937 rng(2026);
  auto pick = [&](std::int64_t n) {
    std::int64_t a = std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng);
    std::int64_t b = std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng);
    return std::pair{std::min(a, b), std::max(a, b) + 1};
  };
  for (int round = 0; round < 30; ++round) {
    std::vector<std::pair<std::int64_t, std::int64_t>> box;
    Shape count;
    for (std::size_t a = 0; a < 3; ++a) {
      box.push_back(pick(kShape[a]));
      count.push_back(box[a].second - box[a].first);
    }
    Selection sel({slice(box[0].first, box[0].second), slice(box[1].first, box[1].second),
                   slice(box[2].first, box[2].second)});
    if (round % 2 == 0) {
      NdArray values = NdArray::uninitialized(DType::of<std::int32_t>(), count);
      auto v = values.values<std::int32_t>();
      std::size_t k = 0;
      for (std::int64_t i = box[0].first; i < box[0].second; ++i)
        for (std::int64_t j = box[1].first; j < box[1].second; ++j)
          for (std::int64_t l = box[2].first; l < box[2].second; ++l) {
            v[k] = round * 1000 + static_cast<std::int32_t>(k);
            ref[static_cast<std::size_t>(flat({i, j, l}))] = v[k++];
          }
      ds.write(sel, values);
    } else {
      const NdArray got = ds.read(sel);
      auto v = got.values<std::int32_t>();
      std::size_t k = 0;
      for (std::int64_t i = box[0].first; i < box[0].second; ++i)
        for (std::int64_t j = box[1].first; j < box[1].second; ++j)
          for (std::int64_t l = box[2].first; l < box[2].second; ++l)
            ASSERT_EQ(v[k++], ref[static_cast<std::size_t>(flat({i, j, l}))])
                << "round " << round << " at " << i << "," << j << "," << l;
    }
  }
  const NdArray all = conn_->get_dataset(name_).read();
  auto v = all.values<std::int32_t>();
  ASSERT_EQ(std::vector<std::int32_t>(v.begin(), v.end()), ref);
}

TEST_P(ZarrSharding, LoadStoresOneObjectPerShardAndClearDeletesThem) {
  Dataset ds = create(false);
  NdArray data = NdArray::uninitialized(DType::of<std::int32_t>(), kShape);
  auto v = data.values<std::int32_t>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int32_t>(i);
  ds.load(data.view());
  // ceil(13/4) * ceil(11/6) * ceil(9/4) shards.
  EXPECT_EQ(stored_keys().size(), 4u * 2u * 3u);
  EXPECT_EQ(ds.stored_chunks(), 7 * 4 * 5);
  const NdArray back = conn_->get_dataset(name_).read();
  EXPECT_EQ(std::memcmp(back.bytes(), data.bytes(), data.nbytes()), 0);
  const NdArray part = ds.read(Selection::parse("3:9, 5:6, ::2"));
  EXPECT_EQ(part.at<std::int32_t>({0, 0, 1}), static_cast<std::int32_t>(flat({3, 5, 2})));
  // Clearing whole shards deletes their objects.
  ds.clear();
  EXPECT_TRUE(stored_keys().empty());
  EXPECT_EQ(ds.stored_chunks(), 0);
}

TEST_P(ZarrSharding, ConcurrentWritersToOneShardLoseNothing) {
  create();
  // Two connections (no shared cache), each writing its own inner chunks of shard (0,0,0).
  auto writer = [&](int who) {
    Connection c(store_.config);
    c.connect();
    Dataset ds = c.get_dataset(name_);
    for (std::int64_t i = 0; i < 4; ++i)
      ds.write(Selection({i, slice(who * 3, who * 3 + 3), slice(0, 4)}), Scalar(100 + 10 * who + i));
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  const NdArray got = conn_->get_dataset(name_).read(Selection::parse("0:4, 0:6, 0:4"));
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 6; ++j)
      ASSERT_EQ(got.at<std::int32_t>({i, j, 3}), 100 + 10 * (j / 3) + i) << i << "," << j;
  EXPECT_EQ(stored_keys().size(), 1u);
}

TEST_P(ZarrSharding, RemovedChunksReadAsFill) {
  Dataset ds = create();
  ds.write(Selection::parse(":, :, :"), Scalar(3));
  EXPECT_TRUE(ds.has_chunk({1, 1, 1}));
  EXPECT_TRUE(ds.del_chunk({1, 1, 1}));
  EXPECT_FALSE(ds.has_chunk({1, 1, 1}));
  EXPECT_FALSE(ds.del_chunk({1, 1, 1}));
  EXPECT_EQ(ds.read(Selection::parse("2, 3, 2")).at<std::int32_t>({}), kFill);
  EXPECT_EQ(ds.read(Selection::parse("0, 3, 2")).at<std::int32_t>({}), 3);
  ds.clear();
  EXPECT_EQ(ds.stored_chunks(), 0);
  EXPECT_EQ(ds.read(Selection::parse("0, 3, 2")).at<std::int32_t>({}), kFill);
}

// map and apply write whole shards per task (Dataset's transform_chunks):
// every value still lands, and edge shards too.
TEST_P(ZarrSharding, MapAndApplyKeepEveryValue) {
  Dataset ds = create();
  NdArray half = NdArray::uninitialized(DType::of<std::int32_t>(), {kShape[0], 6, kShape[2]});
  for (std::int64_t i = 0; i < kShape[0]; ++i)
    for (std::int64_t j = 0; j < 6; ++j)
      for (std::int64_t k = 0; k < kShape[2]; ++k)
        half.values<std::int32_t>()[static_cast<std::size_t>((i * 6 + j) * kShape[2] + k)] =
            static_cast<std::int32_t>(flat({i, j, k}));
  ds.write(Selection::parse("0:13, 0:6, :"), half.view());  // the shards of j < 6
  ds.apply([](NdArray chunk) {
    for (auto& x : chunk.values<std::int32_t>()) x += 1;
    return chunk;
  });
  const std::string out_name = name_ + "-x2";
  Dataset doubled = ds.map(
      [](NdArray chunk) {
        for (auto& x : chunk.values<std::int32_t>()) x *= 2;
        return chunk;
      },
      out_name);
  const NdArray got = conn_->get_dataset(name_).read();
  const NdArray twice = conn_->get_dataset(out_name).read();
  conn_->del_dataset(out_name);
  for (std::int64_t i = 0; i < kShape[0]; ++i)
    for (std::int64_t j = 0; j < kShape[1]; ++j)
      for (std::int64_t k = 0; k < kShape[2]; ++k) {
        const std::int32_t want = (j < 6 ? static_cast<std::int32_t>(flat({i, j, k})) : kFill) + 1;
        ASSERT_EQ(got.at<std::int32_t>({i, j, k}), want) << i << "," << j << "," << k;
        ASSERT_EQ(twice.at<std::int32_t>({i, j, k}), 2 * want) << i << "," << j << "," << k;
      }
}

TEST_P(ZarrSharding, DamagedIndexIsAnIoErrorNamingTheShard) {
  Dataset ds = create();
  ds.write(Selection::parse("0:4, 0:6, 0:4"), Scalar(5));
  auto kv = make_kvstore(store_.config.backend, store_.config.name, store_.config.options);
  const std::string shard = name_ + "/c/0/0/0";
  auto value = kv->get(shard).value;
  ASSERT_TRUE(value);
  auto damaged = Buffer::allocate(value->size());
  std::memcpy(damaged->data(), value->data(), value->size());
  damaged->data()[value->size() - 10] ^= std::byte{0xff};  // inside the index (crc32c)
  kv->put(shard, damaged);
  Connection fresh(store_.config);
  fresh.connect();
  try {
    fresh.get_dataset(name_).read(Selection::parse("1, 1, 1"));
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("shard c/0/0/0"), std::string::npos) << e.what();
  }
  kv->put(shard, value);  // Dataset::remove lists the chunks, which needs a readable index
}

INSTANTIATE_TEST_SUITE_P(Stores, ZarrSharding, ::testing::ValuesIn(testing::zarr_test_stores()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dosna
