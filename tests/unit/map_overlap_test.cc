// Dataset::map_overlap: the halo holds the neighbours' values and scipy's
// 'reflect' padding at the dataset's borders, on every backend x engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dosna/connection.h"
#include "support/store_test.h"

namespace dosna {
namespace {

std::int64_t reflect(std::int64_t p, std::int64_t n) {
  // Written differently from the library on purpose: mirror step by step.
  while (p < 0 || p >= n) p = p < 0 ? -p - 1 : 2 * n - p - 1;
  return p;
}

NdArray iota(const Shape& shape) {
  NdArray a(DType::of<float>(), shape);
  float v = 0;
  for (float& x : a.values<float>()) x = v++;
  return a;
}

// The value the halo must show at global (possibly outside) position `g`.
float expected_at(const NdArray& data, std::vector<std::int64_t> g) {
  for (std::size_t d = 0; d < g.size(); ++d) g[d] = reflect(g[d], data.shape()[d]);
  return data.at<float>(g);
}

class MapOverlapTest : public testing::StoreTest {};

// Every chunk's extended block equals the reflect-padded global array; the
// cropped identity gives back the data.
void check_halo(Connection& con, const Shape& shape, const Shape& chunks, std::int64_t halo) {
  const NdArray data = iota(shape);
  Dataset ds = con.create_dataset(testing::unique_name("mo"), data, chunks);
  std::atomic<int> bad{0};
  std::atomic<int> calls{0};
  Dataset out = ds.map_overlap(
      [&](NdArray block) {
        ++calls;
        // Locate the chunk: the block's first element sits at start - halo.
        const auto& bs = block.shape();
        std::vector<std::int64_t> start(shape.size());
        // Find the chunk start from the block's extent and a search over the grid.
        for (std::size_t d = 0; d < shape.size(); ++d) start[d] = -1;
        for (std::int64_t flat = 0; flat < ds.total_chunks(); ++flat) {
          std::int64_t f = flat;
          std::vector<std::int64_t> lo(shape.size());
          bool shape_ok = true;
          for (std::size_t d = shape.size(); d-- > 0;) {
            lo[d] = (f % ds.chunk_grid()[d]) * chunks[d];
            f /= ds.chunk_grid()[d];
            shape_ok &= std::min(chunks[d], shape[d] - lo[d]) + 2 * halo == bs[d];
          }
          if (!shape_ok) continue;
          bool all = true;
          std::vector<std::int64_t> pos(shape.size(), 0), g(shape.size());
          for (std::int64_t k = 0; k < block.size() && all; ++k) {
            std::int64_t r = k;
            for (std::size_t d = shape.size(); d-- > 0;) {
              pos[d] = r % bs[d];
              r /= bs[d];
              g[d] = lo[d] - halo + pos[d];
            }
            all = block.values<float>()[static_cast<std::size_t>(k)] == expected_at(data, g);
          }
          if (all) {
            start = lo;
            break;
          }
        }
        if (start[0] < 0) ++bad;
        return block;
      },
      testing::unique_name("mo-out"), halo);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(calls.load(), ds.total_chunks());
  const NdArray back = out.read();
  ASSERT_EQ(back.shape(), shape);
  for (std::int64_t k = 0; k < back.size(); ++k)
    ASSERT_EQ(back.values<float>()[static_cast<std::size_t>(k)],
              data.values<float>()[static_cast<std::size_t>(k)]) << k;
}

TEST_P(MapOverlapTest, HaloHoldsNeighboursAndReflection3d) { check_halo(*conn_, {10, 9, 7}, {4, 4, 3}, 2); }
TEST_P(MapOverlapTest, HaloWiderThanTheDataset) { check_halo(*conn_, {5, 3}, {2, 2}, 7); }
TEST_P(MapOverlapTest, ZeroHaloIsMap) { check_halo(*conn_, {9}, {4}, 0); }

TEST_P(MapOverlapTest, ValidShapeResultAndErrors) {
  Dataset ds = conn_->create_dataset(testing::unique_name("mo"), iota({6, 6}), {4, 4});
  // Each output element: sum of its 3x3 neighbourhood (reflect at borders).
  Dataset out = ds.map_overlap(
      [](NdArray block) {
        const auto& s = block.shape();
        NdArray r(DType::of<float>(), {s[0] - 2, s[1] - 2});
        for (std::int64_t i = 0; i < s[0] - 2; ++i)
          for (std::int64_t j = 0; j < s[1] - 2; ++j) {
            float acc = 0;
            for (int a = 0; a < 3; ++a)
              for (int b = 0; b < 3; ++b) acc += block.at<float>({i + a, j + b});
            r.values<float>()[static_cast<std::size_t>(i * (s[1] - 2) + j)] = acc;
          }
        return r;
      },
      testing::unique_name("mo-sum"), 1);
  const NdArray data = iota({6, 6});
  const NdArray got = out.read();
  for (std::int64_t i = 0; i < 6; ++i)
    for (std::int64_t j = 0; j < 6; ++j) {
      float acc = 0;
      for (int a = -1; a <= 1; ++a)
        for (int b = -1; b <= 1; ++b) acc += expected_at(data, {i + a, j + b});
      EXPECT_EQ(got.at<float>({i, j}), acc) << i << "," << j;
    }
  EXPECT_THROW(ds.map_overlap([](NdArray b) { return b; }, testing::unique_name("neg"), -1),
               InvalidArgument);
  EXPECT_THROW(ds.map_overlap([](NdArray) { return NdArray(DType::of<float>(), {1, 1}); },
                              testing::unique_name("bad"), 1),
               InvalidArgument);
  EXPECT_THROW(ds.map_overlap([](NdArray b) { return NdArray(DType::of<double>(), b.shape()); },
                              testing::unique_name("bad2"), 1),
               InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Matrix, MapOverlapTest, ::testing::ValuesIn(testing::backend_engine_matrix()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace dosna
