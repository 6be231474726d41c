// Interop with the Python original's HDF5 layout, both ways, using Debian's
// /usr/bin/python3 with h5py (tests/interop/hdf5_interop.py):
//  - h5py writes a tree as the original does; the library reads it.
//  - the library writes datasets; h5py reads them as the original does and
//    checks attribute types, values and every chunk file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "dosna/connection.h"
#include "support/stores.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

struct Spec {
  std::string name;
  std::string dtype;
  Shape shape;
  Shape chunks;
  Scalar fill;
};

// Same table as SPECS in hdf5_interop.py.
std::vector<Spec> specs() {
  return {
      {"f4", "<f4", {70, 50, 30}, {32, 32, 16}, 0.5},
      {"i8", "<i8", {40, 33}, {16, 16}, -1},
      {"b1", "|b1", {20, 20, 20}, {8, 8, 8}, true},
      {"c8", "<c8", {17, 9}, {5, 4}, std::complex<double>(1, 2)},
      {"u2", "<u2", {100}, {30}, 7},
      {"f8", "<f8", {10, 10, 10}, {10, 10, 10}, std::nan("")},
  };
}

const char* kPython = "/usr/bin/python3";

fs::path script() {
  return fs::path(__FILE__).parent_path().parent_path() / "interop" / "hdf5_interop.py";
}

int run_python(const std::string& args) {
  const std::string cmd = std::string(kPython) + " " + script().string() + " " + args;
  return std::system(cmd.c_str());
}

class Hdf5Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kPython)) GTEST_FAIL() << kPython << " is required (install-deps.sh)";
    ASSERT_TRUE(fs::exists(script())) << script();
    root_ = fs::temp_directory_path() / testing::unique_name("hdf5-interop");
    fs::create_directories(root_ / "store");
    fs::create_directories(root_ / "io");
  }
  void TearDown() override { fs::remove_all(root_); }

  Connection connect() {
    Connection con("store", {{"directory", root_.string()}}, "hdf5");
    con.connect();
    return con;
  }

  fs::path root_;
};

TEST_F(Hdf5Interop, LibraryReadsWhatTheOriginalWrote) {
  ASSERT_EQ(run_python("write-original " + (root_ / "store").string()), 0);
  Connection con = connect();
  std::vector<std::string> names;
  for (const auto& s : specs()) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(con.list_datasets(), names);
  for (const auto& s : specs()) {
    SCOPED_TRACE(s.name);
    Dataset ds = con.get_dataset(s.name);
    const DType dtype = DType::parse(s.dtype);
    EXPECT_EQ(ds.shape(), s.shape);
    EXPECT_EQ(ds.chunk_size(), s.chunks);
    EXPECT_EQ(ds.dtype(), dtype);
    EXPECT_EQ(ds.fillvalue().repr(dtype), s.fill.repr(dtype));
    NdArray all = ds.read();
    std::ofstream out(root_ / "io" / (s.name + ".out"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(all.bytes()), static_cast<std::streamsize>(all.nbytes()));
    out.close();
    // A small read (a ranged read) agrees with the full read.
    Selection first_row = Selection::parse("0");
    NdArray row = ds.read(first_row);
    ASSERT_EQ(row.nbytes() * static_cast<std::size_t>(s.shape[0]), all.nbytes());
    EXPECT_EQ(std::memcmp(row.bytes(), all.bytes(), row.nbytes()), 0);
  }
  EXPECT_EQ(run_python("check-read " + (root_ / "store").string() + " " + (root_ / "io").string()),
            0);

  // Rewriting a chunk of an original tree replaces the h5py file with ours.
  Dataset f4 = con.get_dataset("f4");
  NdArray before = f4.read();
  f4.write(Selection::parse("0:32, 0:32, 0:16"), Scalar(3.0));
  NdArray after = f4.read(Selection::parse("0:2, 0:2, 14:17"));
  EXPECT_EQ(after.at<float>({1, 1, 1}), 3.0f);
  EXPECT_EQ(after.at<float>({1, 1, 2}), before.at<float>({1, 1, 16}));
}

TEST_F(Hdf5Interop, OriginalReadsWhatTheLibraryWrote) {
  ASSERT_EQ(run_python("write-inputs " + (root_ / "io").string()), 0);
  Connection con = connect();
  for (const auto& s : specs()) {
    SCOPED_TRACE(s.name);
    const DType dtype = DType::parse(s.dtype);
    Dataset ds = con.create_dataset("lib_" + s.name, s.shape, dtype, s.chunks, s.fill);
    std::ifstream in(root_ / "io" / (s.name + ".in"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(bytes.size(), static_cast<std::size_t>(shape_size(s.shape)) * dtype.itemsize());
    // Rows [0, chunk0) of the input: the first row of chunks only.
    Shape part = s.shape;
    part[0] = std::min(s.chunks[0], s.shape[0]);
    ArrayView view{dtype, part, reinterpret_cast<const std::byte*>(bytes.data()), {}};
    ds.write(Selection{slice(0, part[0])}, view);
  }
  EXPECT_EQ(run_python("check-written " + (root_ / "store").string()), 0);
}

}  // namespace
}  // namespace dosna
