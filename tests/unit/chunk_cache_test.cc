// The decoded-chunk cache (dosna/chunk_cache.h): repeated reads are served
// from memory, writes/clears/deletes through the same connection are seen at
// once, and the byte budget holds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dosna/chunk_cache.h"
#include "dosna/connection.h"

namespace dosna {
namespace {

Connection cached(std::size_t budget) {
  ConnectionConfig config;
  // Each test its own ram store: a store lives as long as any connection to it.
  config.name = std::string("cache-test-") +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
  config.chunk_cache_bytes = budget;
  Connection con(config);
  con.connect();
  return con;
}

NdArray iota(const Shape& shape, float start) {
  NdArray a(DType::of<float>(), shape);
  auto* p = reinterpret_cast<float*>(a.bytes());
  for (std::int64_t i = 0; i < a.size(); ++i) p[i] = start + static_cast<float>(i);
  return a;
}

float at(const NdArray& a, std::int64_t i) { return reinterpret_cast<const float*>(a.bytes())[i]; }

TEST(ChunkCache, RepeatedReadsHitAndWritesInvalidate) {
  Connection con = cached(1 << 20);
  Dataset ds = con.create_dataset("d", iota({8, 8}, 0).view(), {4, 4});
  ds.read();
  const auto first = chunk_cache_stats(con.backend());
  EXPECT_EQ(first.misses, 4u);
  EXPECT_EQ(first.bytes, 4u * 16 * sizeof(float));
  ds.read();
  const auto second = chunk_cache_stats(con.backend());
  EXPECT_EQ(second.misses, first.misses);
  EXPECT_EQ(second.hits, first.hits + 4);

  ds.write(Selection{1, 1}, Scalar(99.0));
  EXPECT_EQ(at(ds.read(), 9), 99.0f);
  ds.write(Selection{slice(4, 8), slice(4, 8)}, iota({4, 4}, 500).view());
  EXPECT_EQ(at(ds.read(), 63), 515.0f);
  ds.del_chunk({0, 0});
  EXPECT_FALSE(ds.has_chunk({0, 0}));
  EXPECT_EQ(at(ds.read(), 9), 0.0f);
  ds.clear();
  EXPECT_EQ(at(ds.read(), 63), 0.0f);

  // A dataset deleted and created again under the same name is not stale.
  con.del_dataset("d");
  Dataset again = con.create_dataset("d", iota({8, 8}, 1000).view(), {4, 4});
  EXPECT_EQ(at(again.read(), 0), 1000.0f);
  EXPECT_EQ(at(again.read(), 63), 1063.0f);
}

TEST(ChunkCache, StaysWithinItsBudget) {
  const std::size_t chunk = 16 * 16 * sizeof(float);
  Connection con = cached(3 * chunk + 3 * 200);
  Dataset ds = con.create_dataset("d", iota({64, 64}, 0).view(), {16, 16});
  ds.read();
  EXPECT_LE(chunk_cache_stats(con.backend()).bytes, 3 * chunk);
  EXPECT_GT(chunk_cache_stats(con.backend()).bytes, 0u);
  const NdArray all = ds.read();
  EXPECT_EQ(at(all, 64 * 64 - 1), 4095.0f);

  // A chunk larger than the whole budget is read but never kept.
  Connection tiny = cached(100);
  Dataset big = tiny.create_dataset("b", iota({16, 16}, 0).view(), {16, 16});
  big.read();
  big.read();
  EXPECT_EQ(chunk_cache_stats(tiny.backend()).bytes, 0u);
  EXPECT_EQ(chunk_cache_stats(tiny.backend()).hits, 0u);
}

TEST(ChunkCache, OffByDefault) {
  Connection con("no-cache");
  con.connect();
  Dataset ds = con.create_dataset("d", iota({4}, 0).view(), {2});
  ds.read();
  EXPECT_EQ(chunk_cache_stats(con.backend()).misses, 0u);
  EXPECT_EQ(with_chunk_cache(nullptr, 0), nullptr);
}

}  // namespace
}  // namespace dosna
