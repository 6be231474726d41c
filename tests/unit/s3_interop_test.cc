// Interop with the original's layout, both ways, through Debian's python3 +
// boto3 (tests/interop/s3_interop.py) against the real radosgw.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

const Shape kShape{10, 12, 7};
const Shape kChunk{4, 5, 7};

std::string script() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "interop" /
          "s3_interop.py")
      .string();
}

// Runs the boto3 script; returns its exit status and output.
std::pair<int, std::string> boto3(const std::string& command, const std::string& bucket) {
  const std::string cmd = "/usr/bin/python3 '" + script() + "' " + command + " '" + bucket + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int status = pclose(p);
  return {status, out};
}

double value_at(std::int64_t i, std::int64_t j, std::int64_t k) {
  return static_cast<double>(i * 100 + j * 10 + k) + 0.25;
}

// ds[0:8, 0:10, :] = value_at, the rest never written (fill -1.5).
NdArray expected_full() {
  NdArray a = NdArray::filled(DType::parse("<f8"), kShape, Scalar(-1.5));
  auto v = a.values<double>();
  for (std::int64_t i = 0; i < 8; ++i)
    for (std::int64_t j = 0; j < 10; ++j)
      for (std::int64_t k = 0; k < 7; ++k) v[static_cast<std::size_t>((i * 12 + j) * 7 + k)] = value_at(i, j, k);
  return a;
}

class S3Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    DOSNA_S3_STORE_OR_SKIP(store);
    store_ = store;
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  }
  void TearDown() override {
    for (const auto& b : buckets_) boto3("delete", b);
  }
  std::string bucket(const std::string& hint) {
    buckets_.push_back(s3_dataset_name(hint));
    return buckets_.back();
  }
  TestStore store_;
  std::vector<std::string> buckets_;
};

TEST_F(S3Interop, Boto3ReadsWhatDosnaWrote) {
  const std::string name = bucket("cpp2py");
  Connection con(store_.config);
  con.connect();
  Dataset ds = con.create_dataset(name, kShape, DType::parse("<f8"), kChunk, Scalar(-1.5));
  NdArray region = NdArray::uninitialized(DType::parse("<f8"), {8, 10, 7});
  auto v = region.values<double>();
  for (std::int64_t i = 0; i < 8; ++i)
    for (std::int64_t j = 0; j < 10; ++j)
      for (std::int64_t k = 0; k < 7; ++k) v[static_cast<std::size_t>((i * 10 + j) * 7 + k)] = value_at(i, j, k);
  ds.write({slice(0, 8), slice(0, 10), all}, region);
  auto [status, out] = boto3("check", name);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("OK"), std::string::npos) << out;
}

TEST_F(S3Interop, DosnaReadsWhatBoto3Wrote) {
  const std::string name = bucket("py2cpp");
  const std::string not_a_dataset = bucket("plain");
  auto [status, out] = boto3("write", name);
  ASSERT_EQ(status, 0) << out;
  auto [status2, out2] = boto3("plain", not_a_dataset);
  ASSERT_EQ(status2, 0) << out2;

  Connection con(store_.config);
  con.connect();
  auto names = con.list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), not_a_dataset), names.end());
  EXPECT_FALSE(con.has_dataset(not_a_dataset));

  Dataset ds = con.get_dataset(name);
  EXPECT_EQ(ds.shape(), kShape);
  EXPECT_EQ(ds.chunk_size(), kChunk);
  EXPECT_EQ(ds.dtype().str(), "<f8");
  EXPECT_EQ(ds.fillvalue().as_double(), -1.5);  // the original's int() would give -1
  EXPECT_EQ(ds.stored_chunks(), 4);
  NdArray got = ds.read();
  NdArray want = expected_full();
  ASSERT_EQ(got.shape(), want.shape());
  auto g = got.values<double>();
  auto w = want.values<double>();
  for (std::size_t n = 0; n < g.size(); ++n) ASSERT_EQ(g[n], w[n]) << "element " << n;
  // Reading the missing chunks did not create them.
  EXPECT_EQ(ds.stored_chunks(), 4);
  EXPECT_FALSE(ds.has_chunk({2, 2, 0}));

  // And the way back: DosNa deletes it as the original would.
  con.del_dataset(name);
  EXPECT_FALSE(con.has_dataset(name));
}

}  // namespace
}  // namespace dosna::testing
