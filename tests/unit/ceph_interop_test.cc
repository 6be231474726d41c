// Interop with the on-store layout of FORMAT.md, both ways, using Debian's
// python3-rados (tests/interop/ceph_interop.py) as the independent side.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "ceph_test_util.h"
#include "dosna/connection.h"

namespace dosna::testing {
namespace {

// Mirrors the dataset ceph_interop.py writes and expects.
const Shape kShape{10, 12, 7};
const Shape kChunk{4, 5, 3};

NdArray expected_data() {
  NdArray a(DType::parse("<f4"), kShape);
  auto v = a.values<float>();
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = static_cast<float>(n * 1.5);
  return a;
}

int run_script(const std::string& mode, const std::string& name) {
  const std::string cmd = "/usr/bin/python3 '" +
                          (source_root() / "tests/interop/ceph_interop.py").string() + "' " +
                          mode + " '" + ceph_pool() + "' '" + name + "'";
  return std::system(cmd.c_str());
}

Connection connect_ceph() {
  Connection c(ceph_pool(), {{"conffile", ceph_conf()}}, "ceph");
  c.connect();
  return c;
}

TEST(CephInterop, ReadsWhatPythonRadosWrote) {
  DOSNA_REQUIRE_CEPH();
  const std::string name = unique_name("from-python");
  ASSERT_EQ(run_script("write", name), 0);
  Connection c = connect_ceph();
  auto names = c.list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());
  Dataset ds = c.get_dataset(name);
  EXPECT_EQ(ds.shape(), kShape);
  EXPECT_EQ(ds.chunk_size(), kChunk);
  EXPECT_EQ(ds.dtype().str(), "<f4");
  EXPECT_EQ(ds.fillvalue().as_double(), 0.5);  // parsed by dtype, not int()
  NdArray got = ds.read();
  NdArray want = expected_data();
  // Chunk (1, 1, 1) was never written: its region reads as the fill value.
  for (std::int64_t i = 0; i < kShape[0]; ++i)
    for (std::int64_t j = 0; j < kShape[1]; ++j)
      for (std::int64_t k = 0; k < kShape[2]; ++k) {
        const bool missing = i / 4 == 1 && j / 5 == 1 && k / 3 == 1;
        ASSERT_EQ(got.at<float>({i, j, k}), missing ? 0.5f : want.at<float>({i, j, k}))
            << i << "," << j << "," << k;
      }
  EXPECT_FALSE(ds.has_chunk({1, 1, 1}));
  EXPECT_TRUE(ds.has_chunk({2, 2, 2}));
  c.del_dataset(name);
  EXPECT_EQ(run_script("gone", name), 0);
}

TEST(CephInterop, PythonRadosFindsWhatWeWrote) {
  DOSNA_REQUIRE_CEPH();
  const std::string name = unique_name("to-python");
  Connection c = connect_ceph();
  c.create_dataset(name, expected_data(), kChunk, 0.5);
  EXPECT_EQ(run_script("check", name), 0);
  c.del_dataset(name);
  EXPECT_EQ(run_script("gone", name), 0);
}

}  // namespace
}  // namespace dosna::testing
