// Partial-chunk reads on ceph: the store's batched multi-range reads, and the
// core's ranged gather on top of them, checked against an in-memory reference
// over random selections (steps, negative steps, integers, edge chunks,
// missing chunks, 1-D to 4-D).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "ceph_test_util.h"
#include "dosna/connection.h"

namespace dosna::testing {
namespace {

std::string text_of(const ChunkData& d) {
  return d ? std::string(reinterpret_cast<const char*>(d->data()), d->size()) : "<absent>";
}

TEST(CephRangedRead, GetRangesManyReadsOnlyTheRanges) {
  DOSNA_REQUIRE_CEPH();
  auto b = make_backend("ceph", ceph_pool(), {{"conffile", ceph_conf()}});
  b->connect();
  const std::string name = unique_name("ranges");
  DatasetMeta meta{{64}, DType::parse("|u1"), Scalar(0), {32}};
  b->create_dataset(name, meta);
  auto chunks = b->chunks(name, meta);
  EXPECT_TRUE(chunks->reads_ranges());
  std::string payload(32, '\0');
  for (int i = 0; i < 32; ++i) payload[i] = static_cast<char>('A' + i);
  auto buf = Buffer::allocate(32);
  std::memcpy(buf->data(), payload.data(), 32);
  chunks->put({0}, buf);
  std::vector<ChunkIndex> idx{{0}, {1}, {0}};
  std::vector<std::vector<ByteRange>> ranges{{{2, 3}, {10, 0}, {30, 2}}, {{0, 4}}, {{0, 32}}};
  std::vector<ChunkData> out(3);
  chunks->get_ranges_many(idx, ranges, out);
  EXPECT_EQ(text_of(out[0]), payload.substr(2, 3) + payload.substr(30, 2));
  EXPECT_EQ(out[1], nullptr);
  EXPECT_EQ(text_of(out[2]), payload);
  std::vector<std::vector<ByteRange>> bad{{{30, 3}}};
  std::vector<ChunkIndex> one{{0}};
  std::vector<ChunkData> out1(1);
  EXPECT_THROW(chunks->get_ranges_many(one, bad, out1), InvalidArgument);
  b->delete_dataset(name);
}

// The elements of `sel` from a C-order reference array of `shape`.
std::vector<std::int32_t> reference(const std::vector<std::int32_t>& ref, const Shape& shape,
                                    const NormalizedSelection& norm) {
  std::vector<std::int32_t> out;
  const std::size_t nd = shape.size();
  std::vector<std::int64_t> m(nd, 0);
  const std::int64_t n = norm.size();
  for (std::int64_t e = 0; e < n; ++e) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < nd; ++d)
      flat = flat * shape[d] + norm.axes[d].start + m[d] * norm.axes[d].step;
    out.push_back(ref[static_cast<std::size_t>(flat)]);
    for (std::size_t d = nd; d-- > 0;) {
      if (++m[d] < norm.axes[d].count) break;
      m[d] = 0;
    }
  }
  return out;
}

TEST(CephRangedRead, RandomSelectionsMatchReference) {
  DOSNA_REQUIRE_CEPH();
  Connection c(ceph_pool(), {{"conffile", ceph_conf()}}, "ceph");
  c.connect();
  std::mt19937 rng(7);
  const std::vector<std::pair<Shape, Shape>> cases{
      {{301}, {40}}, {{37, 29}, {8, 7}}, {{37, 29, 23}, {8, 7, 6}}, {{9, 11, 13, 7}, {4, 5, 6, 3}}};
  for (const auto& [shape, chunk] : cases) {
    const std::string name = unique_name("ranged");
    Dataset ds = c.create_dataset(name, shape, DType::parse("<i4"), chunk, -7);
    const std::int64_t total = shape_size(shape);
    std::vector<std::int32_t> ref(static_cast<std::size_t>(total), -7);
    // Write everything except the chunks whose flat chunk number is 3 mod 5.
    NdArray values(DType::parse("<i4"), shape);
    auto v = values.values<std::int32_t>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int32_t>(i * 3 + 1);
    ds.write({}, values);
    std::int64_t flat_chunk = 0;
    const Shape grid = ds.chunk_grid();
    std::vector<std::int64_t> ci(grid.size(), 0);
    for (std::int64_t k = 0; k < ds.total_chunks(); ++k, ++flat_chunk) {
      if (flat_chunk % 5 == 3) ds.del_chunk(ci);
      for (std::size_t d = grid.size(); d-- > 0;) {
        if (++ci[d] < grid[d]) break;
        ci[d] = 0;
      }
    }
    // The reference, computed independently of the library's reads.
    for (std::int64_t e = 0; e < total; ++e) {
      std::int64_t rest = e, chunk_flat = 0, mult = 1;
      for (std::size_t d = shape.size(); d-- > 0;) {
        const std::int64_t pos = rest % shape[d];
        rest /= shape[d];
        chunk_flat += (pos / chunk[d]) * mult;
        mult *= grid[d];
      }
      ref[static_cast<std::size_t>(e)] =
          chunk_flat % 5 == 3 ? -7 : static_cast<std::int32_t>(e * 3 + 1);
    }
    std::size_t fills = 0;
    for (auto x : ref) fills += x == -7;
    EXPECT_GT(fills, 0u);

    for (int trial = 0; trial < 150; ++trial) {
      std::vector<IndexItem> items;
      for (std::size_t d = 0; d < shape.size(); ++d) {
        const std::int64_t n = shape[d];
        const int kind = static_cast<int>(rng() % 6);
        if (kind == 0) {
          items.emplace_back(static_cast<std::int64_t>(rng() % n) - (rng() % 2 ? n : 0));
        } else {
          std::int64_t a = static_cast<std::int64_t>(rng() % (n + 1));
          std::int64_t b = static_cast<std::int64_t>(rng() % (n + 1));
          std::int64_t step = kind == 1 ? -1 - static_cast<std::int64_t>(rng() % 3)
                              : kind == 2 ? 1 + static_cast<std::int64_t>(rng() % 3)
                                          : 1;
          if (step > 0 && a > b) std::swap(a, b);
          if (step < 0 && a < b) std::swap(a, b);
          items.emplace_back(slice(a, b, step));
        }
      }
      const Selection sel(items);
      const auto norm = normalize(sel, shape);
      NdArray got = ds.read(sel);
      const auto want = reference(ref, shape, norm);
      ASSERT_EQ(static_cast<std::size_t>(got.size()), want.size()) << sel.to_string();
      auto gv = got.values<std::int32_t>();
      for (std::size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(gv[i], want[i]) << "selection " << sel.to_string() << " of shape "
                                  << shape_to_string(shape) << ", element " << i;
    }
    c.del_dataset(name);
  }
}

}  // namespace
}  // namespace dosna::testing
