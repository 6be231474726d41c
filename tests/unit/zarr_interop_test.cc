// zarr-python 2.13 (python3-zarr) reads the zarr v2 arrays DosNa writes and
// DosNa reads what zarr-python writes (tests/interop/zarr_v2_interop.py):
// dtypes u1..u8, i1..i8, f4, f8, bool; fill values (NaN too); edge chunks;
// separators '.' and '/'; compressors none, blosc-lz4, blosc-zstd, zstd,
// gzip (and zlib, lz4 from zarr-python). The arrays travel as a directory of their keys
// (until the `file` store holds them in place).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "dosna/dosna.h"
#include "dosna/kvstore.h"
#include "support/stores.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

struct Spec {
  std::string name, dtype;
  Shape shape, chunks;
  nlohmann::json fill;  // as in .zarray
  std::string sep = ".";
  std::int64_t rows = 4;
  std::string compression;  // what DosNa writes with ("" = none)
  std::string pycodec;      // what zarr-python writes with ("" = none)
};

// Every compression DosNa writes and every v2 compressor of the issue,
// cycled over the specs so each dtype size meets several.
const char* const kDosnaCompressions[] = {"", "blosc-lz4", "zstd", "gzip", "blosc-zstd"};
const char* const kPythonCodecs[] = {"", "blosc-lz4", "zstd", "zlib", "gzip", "lz4"};

std::vector<Spec> specs() {
  std::vector<Spec> out;
  int k = 0;
  for (const char* t : {"|u1", "<u2", "<u4", "<u8", "|i1", "<i2", "<i4", "<i8", "<f4", "<f8", "|b1"}) {
    Spec s{std::string("a") + std::to_string(k), t, {7, 5}, {3, 2}, 0, ".", 4, "", ""};
    if (t[1] == 'f') s.fill = k % 2 ? nlohmann::json("NaN") : nlohmann::json(-2.5);
    else if (t[1] == 'b') s.fill = true;
    else s.fill = 9;
    if (k % 3 == 0) s.sep = "/";
    s.compression = kDosnaCompressions[k % 5];
    s.pycodec = kPythonCodecs[k % 6];
    out.push_back(s);
    ++k;
  }
  return out;
}

Scalar fill_of(const Spec& s) {
  if (s.fill == "NaN") return Scalar(std::nan(""));
  if (s.fill.is_boolean()) return Scalar(s.fill.get<bool>());
  if (s.fill.is_number_float()) return Scalar(s.fill.get<double>());
  return Scalar(s.fill.get<std::int64_t>());
}

NdArray expected(const Spec& s, bool written_only) {
  const DType dt = DType::parse(s.dtype);
  NdArray out = NdArray::filled(dt, s.shape, fill_of(s));
  const std::int64_t cols = s.shape[1];
  for (std::int64_t i = 0; i < s.rows * cols; ++i) {
    const Scalar v = dt.kind() == DTypeKind::kBool ? Scalar(i % 3 == 0) : Scalar(3 * i + 1);
    v.store(dt, out.bytes() + i * dt.itemsize());
  }
  if (!written_only) return out;
  NdArray head = NdArray::uninitialized(dt, {s.rows, cols});
  std::memcpy(head.bytes(), out.bytes(), head.nbytes());
  return head;
}

void write_specs(const fs::path& root) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& s : specs())
    j.push_back({{"name", s.name}, {"dtype", s.dtype}, {"shape", s.shape}, {"chunks", s.chunks},
                 {"fill", s.fill}, {"sep", s.sep}, {"rows", s.rows},
                 {"pycodec", s.pycodec}});
  std::ofstream(root / "specs.json") << j.dump();
}

int run_python(const std::string& cmd, const fs::path& root) {
  const fs::path script = fs::path(__FILE__).parent_path().parent_path() / "interop" / "zarr_v2_interop.py";
  return std::system(("/usr/bin/python3 " + script.string() + " " + cmd + " " + root.string()).c_str());
}

class ZarrV2Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / testing::unique_name("zarr-interop");
    fs::create_directories(root_);
    name_ = testing::unique_name("zi");
    conn_.emplace(name_, Options{{"format", "zarr2"}});
    conn_->connect();
    kv_ = make_kvstore("ram", name_, {});
    write_specs(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  std::string name_;
  std::optional<Connection> conn_;
  std::shared_ptr<KvStore> kv_;
};

TEST_F(ZarrV2Interop, ZarrPythonReadsWhatDosnaWrote) {
  for (const auto& s : specs()) {
    StorageOptions storage;
    if (!s.compression.empty()) storage.compression = s.compression;
    Dataset ds = conn_->create_dataset(s.name, s.shape, DType::parse(s.dtype), s.chunks,
                                       fill_of(s), storage);
    ds.write({slice(0, s.rows)}, expected(s, true));
    const auto zarray = kv_->get(s.name + "/.zarray").value;
    const auto compressor = nlohmann::json::parse(std::string(
        reinterpret_cast<const char*>(zarray->data()), zarray->size()))["compressor"];
    if (s.compression.empty()) EXPECT_TRUE(compressor.is_null()) << s.name;
    else EXPECT_EQ(compressor["id"], s.compression.substr(0, s.compression.find('-'))) << s.name;
    if (s.sep == "/") {  // DosNa writes '.'; also serve zarr-python the '/' layout
      for (const auto& key : kv_->list(s.name + "/")) {
        std::string rel = key.substr(s.name.size() + 1);
        if (rel[0] == '.') continue;
        std::replace(rel.begin(), rel.end(), '.', '/');
        kv_->put(s.name + "/" + rel, kv_->get(key).value);
        kv_->erase(key);
      }
      auto meta = nlohmann::json::parse(std::string(
          reinterpret_cast<const char*>(kv_->get(s.name + "/.zarray").value->data()),
          kv_->get(s.name + "/.zarray").value->size()));
      meta["dimension_separator"] = "/";
      const std::string text = meta.dump();
      auto b = Buffer::allocate(text.size());
      std::memcpy(b->data(), text.data(), text.size());
      kv_->put(s.name + "/.zarray", b);
      EXPECT_EQ(conn_->get_dataset(s.name).read().nbytes(), expected(s, false).nbytes());
    }
  }
  for (const auto& key : kv_->list("")) {
    fs::create_directories((root_ / key).parent_path());
    const auto v = kv_->get(key).value;
    std::ofstream(root_ / key, std::ios::binary)
        .write(reinterpret_cast<const char*>(v->data()), static_cast<std::streamsize>(v->size()));
  }
  EXPECT_EQ(run_python("read", root_), 0);
}

TEST_F(ZarrV2Interop, DosnaReadsWhatZarrPythonWrote) {
  ASSERT_EQ(run_python("write", root_), 0);
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    if (!e.is_regular_file() || e.path().filename() == "specs.json") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    auto b = Buffer::allocate(bytes.size());
    std::memcpy(b->data(), bytes.data(), bytes.size());
    kv_->put(fs::relative(e.path(), root_).generic_string(), b);
  }
  for (const auto& s : specs()) {
    Dataset ds = conn_->get_dataset(s.name);
    EXPECT_EQ(ds.format(), "zarr2");
    const NdArray got = ds.read();
    const NdArray want = expected(s, false);
    ASSERT_EQ(got.dtype(), want.dtype()) << s.name;
    ASSERT_EQ(got.shape(), want.shape()) << s.name;
    bool same = true;
    const std::size_t n = static_cast<std::size_t>(got.size());
    for (std::size_t i = 0; i < n; ++i) {
      const Scalar a = Scalar::load(got.dtype(), got.bytes() + i * got.dtype().itemsize());
      const Scalar b = Scalar::load(want.dtype(), want.bytes() + i * want.dtype().itemsize());
      if (!(a == b) && !(std::isnan(a.as_double()) && std::isnan(b.as_double()))) same = false;
    }
    EXPECT_TRUE(same) << s.name << " (" << s.dtype << ")";
  }
}

}  // namespace
}  // namespace dosna
