// The zarr v3/v2 format over the byte-key store: the on-store keys, the
// metadata documents (and corrupt ones), format choice and detection, and
// the conditional read-modify-write of partial chunk writes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dosna/dosna.h"
#include "dosna/kvstore.h"
#include "formats/zarr/metadata.h"
#include "support/stores.h"

namespace dosna {
namespace {

std::string text(const ChunkData& d) { return {reinterpret_cast<const char*>(d->data()), d->size()}; }
ChunkData bytes(const std::string& s) {
  auto b = Buffer::allocate(s.size());
  std::memcpy(b->data(), s.data(), s.size());
  return b;
}

StorageOptions storage(std::string format, std::optional<std::string> compression = {},
                       std::string codecs = "") {
  StorageOptions o;
  o.format = std::move(format);
  o.compression = std::move(compression);
  o.codecs = std::move(codecs);
  return o;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

class ZarrFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = testing::unique_name("zarr");
    conn_.emplace(name_);
    conn_->connect();
    kv_ = make_kvstore("ram", name_, {});
  }
  std::string name_;
  std::optional<Connection> conn_;
  std::shared_ptr<KvStore> kv_;
};

TEST_F(ZarrFormat, V3KeysAndDocument) {
  Dataset ds = conn_->create_dataset("vol", {5, 4}, DType::of<std::uint16_t>(), {2, 4}, 7,
                                     storage("zarr3"));
  EXPECT_EQ(ds.format(), "zarr3");
  EXPECT_NE(ds.location().find("vol/"), std::string::npos);
  NdArray a = NdArray::uninitialized(DType::of<std::uint16_t>(), {5, 4});
  for (std::size_t i = 0; i < 20; ++i) a.values<std::uint16_t>()[i] = static_cast<std::uint16_t>(i);
  ds.write({}, a);
  EXPECT_EQ(kv_->list("vol/"), (std::vector<std::string>{"vol/c/0/0", "vol/c/1/0", "vol/c/2/0",
                                                          "vol/zarr.json"}));
  // An edge chunk is stored as the whole chunk block (zarr), padded with fill.
  EXPECT_EQ(kv_->get("vol/c/2/0").value->size(), 2u * 4u * 2u);
  const auto doc = nlohmann::json::parse(text(kv_->get("vol/zarr.json").value));
  EXPECT_EQ(doc["data_type"], "uint16");
  EXPECT_EQ(doc["fill_value"], 7);
  EXPECT_EQ(doc["chunk_grid"]["configuration"]["chunk_shape"], nlohmann::json({2, 4}));
  Dataset again = conn_->get_dataset("vol");
  EXPECT_EQ(again.read().values<std::uint16_t>()[19], 19);
  EXPECT_EQ(conn_->list_datasets(), std::vector<std::string>{"vol"});
  conn_->del_dataset("vol");
  EXPECT_TRUE(kv_->list("").empty());
  EXPECT_FALSE(conn_->has_dataset("vol"));
}

TEST_F(ZarrFormat, V2KeysAndDocument) {
  Dataset ds = conn_->create_dataset("v", {3, 3}, DType::of<double>(), {2, 2}, NAN,
                                     storage("zarr2"));
  EXPECT_EQ(ds.format(), "zarr2");
  ds.write({}, Scalar(1.5));
  EXPECT_EQ(kv_->list("v/"), (std::vector<std::string>{"v/.zarray", "v/0.0", "v/0.1", "v/1.0",
                                                        "v/1.1"}));
  const auto doc = nlohmann::json::parse(text(kv_->get("v/.zarray").value));
  EXPECT_EQ(doc["dtype"], "<f8");
  EXPECT_EQ(doc["fill_value"], "NaN");
  EXPECT_TRUE(doc["compressor"].is_null());
  EXPECT_TRUE(std::isnan(conn_->get_dataset("v").fillvalue().as_double()));
}

TEST_F(ZarrFormat, ReadsV2WithSlashSeparatorAndNullFill) {
  kv_->put("w/.zarray", bytes(R"({"zarr_format":2,"shape":[3],"chunks":[2],"dtype":"<i4",
      "compressor":null,"fill_value":null,"order":"C","filters":null,"dimension_separator":"/"})"));
  kv_->put("w/.zattrs", bytes(R"({"unit":"nm"})"));
  const std::int32_t v[2] = {5, -6};
  auto b = Buffer::allocate(8);
  std::memcpy(b->data(), v, 8);
  kv_->put("w/1", b);
  NdArray got = conn_->get_dataset("w").read();
  EXPECT_EQ(got.values<std::int32_t>()[0], 0);
  EXPECT_EQ(got.values<std::int32_t>()[2], 5);
  EXPECT_EQ(conn_->get_dataset("w").stored_chunks(), 1);
}

TEST_F(ZarrFormat, CorruptDocumentNamesDatasetAndField) {
  kv_->put("bad/zarr.json", bytes(R"({"zarr_format":3,"node_type":"array","shape":[4],
      "data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[0]}},
      "fill_value":0,"codecs":[{"name":"bytes"}]})"));
  const std::string e = error_of([&] { conn_->get_dataset("bad"); });
  EXPECT_NE(e.find("'bad'"), std::string::npos) << e;
  EXPECT_NE(e.find("chunk_shape"), std::string::npos) << e;
  EXPECT_THROW(conn_->get_dataset("bad"), IoError);
  kv_->put("bad2/.zarray", bytes("{not json"));
  EXPECT_THROW(conn_->get_dataset("bad2"), IoError);
  // Broken arrays list and delete.
  auto names = conn_->list_datasets();
  EXPECT_EQ(names, (std::vector<std::string>{"bad", "bad2"}));
  conn_->del_dataset("bad");
  conn_->del_dataset("bad2");
  EXPECT_TRUE(kv_->list("").empty());
}

TEST_F(ZarrFormat, FillValuesRoundTrip) {
  using zarr::fill_from_json;
  using zarr::fill_to_json;
  const DType f4 = DType::of<float>();
  EXPECT_EQ(fill_to_json(INFINITY, f4), "Infinity");
  EXPECT_EQ(fill_to_json(-INFINITY, f4), "-Infinity");
  EXPECT_TRUE(std::isinf(fill_from_json("-Infinity", f4, "x").as_double()));
  EXPECT_EQ(fill_to_json(true, DType::of<bool>()), true);
  EXPECT_EQ(fill_to_json(std::uint64_t{18446744073709551615u}, DType::of<std::uint64_t>()),
            nlohmann::json(std::uint64_t{18446744073709551615u}));
  EXPECT_THROW(fill_from_json("nope", f4, "x"), IoError);
  EXPECT_THROW(fill_from_json(300, DType::of<std::uint8_t>(), "x"), IoError);
}

TEST_F(ZarrFormat, RejectedCreatesWriteNothing) {
  const std::string e = error_of([&] {
    conn_->create_dataset("d", {4}, DType::of<float>(), {2}, 0,
                          storage("dosna", "zstd"));
  });
  EXPECT_NE(e.find("original"), std::string::npos) << e;
  EXPECT_THROW(conn_->create_dataset("d", {4}, DType::of<float>(), {2}, 0,
                                     storage("", "zstd")),
               InvalidArgument);
  EXPECT_THROW(conn_->create_dataset("d", {4}, DType::of<float>(), {2}, 0,
                                     storage("zarr3", "lzma")),
               NotSupported);
  const std::string u = error_of([&] {
    conn_->create_dataset("d", {4}, DType::of<float>(), {2}, 0,
                          storage("zarr3", {}, R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"frobnicate"}])"));
  });
  EXPECT_NE(u.find("frobnicate"), std::string::npos) << u;
  EXPECT_THROW(conn_->create_dataset("d", {4}, DType::of<float>(), {2}, 0,
                                     storage("zarr4")),
               InvalidArgument);
  EXPECT_TRUE(kv_->list("").empty());
  EXPECT_TRUE(conn_->list_datasets().empty());
}

TEST_F(ZarrFormat, NamesAreUniqueAcrossFormats) {
  conn_->create_dataset("n", {4}, DType::of<float>(), {2});
  EXPECT_THROW(conn_->create_dataset("n", {4}, DType::of<float>(), {2}, 0,
                                       storage("zarr3")),
               AlreadyExists);
  conn_->create_dataset("z", {4}, DType::of<float>(), {2}, 0, storage("zarr2"));
  EXPECT_THROW(conn_->create_dataset("z", {4}, DType::of<float>(), {2}), AlreadyExists);
  EXPECT_THROW(conn_->create_dataset("z", {4}, DType::of<float>(), {2}, 0,
                                       storage("zarr3")),
               AlreadyExists);
  EXPECT_EQ(conn_->get_dataset("n").format(), "dosna");
  EXPECT_EQ(conn_->list_datasets(), (std::vector<std::string>{"n", "z"}));
}

TEST_F(ZarrFormat, ConnectionOptionChoosesDefault) {
  Connection c(name_ + "-opt", {{"format", "zarr2"}});
  c.connect();
  EXPECT_EQ(c.create_dataset("a", {4}, DType::of<float>(), {2}).format(), "zarr2");
  EXPECT_THROW(Connection(name_, {{"format", "zarr9"}}), InvalidArgument);
}

// Many threads modify one chunk through ChunkStore::update at once (no
// in-process chunk lock in between): the conditional put keeps every change.
TEST_F(ZarrFormat, ConcurrentUpdatesLoseNothing) {
  conn_->create_dataset("p", {64}, DType::of<std::int32_t>(), {64}, 0, storage("zarr3"));
  const DatasetMeta meta = *conn_->backend().read_dataset("p");
  auto store = conn_->backend().chunks("p", meta);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 64; i += 4) {
        store->update({0}, [&](const ChunkData& current) -> ChunkData {
          auto next = Buffer::allocate(meta.chunk_nbytes());
          if (current) std::memcpy(next->data(), current->data(), next->size());
          else std::memset(next->data(), 0, next->size());
          const std::int32_t v = i + 1;
          std::this_thread::yield();
          std::memcpy(next->data() + 4 * i, &v, 4);
          return next;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  NdArray got = conn_->get_dataset("p").read();
  for (int i = 0; i < 64; ++i) EXPECT_EQ(got.values<std::int32_t>()[i], i + 1) << i;
}

}  // namespace
}  // namespace dosna

namespace dosna {
namespace {

// A compressed chunk cut short or emptied reads as an IoError naming the
// dataset and the chunk, never as wrong data; a crc32c mismatch likewise.
// (A flipped byte inside a zstd or blosc stream without checksum can decode
// to other data: the crc32c codec is what detects that.)
TEST_F(ZarrFormat, DamagedCompressedChunksAreIoErrorsNamingDatasetAndChunk) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"zarr3", "zstd"}, {"zarr3", "gzip"}, {"zarr3", "blosc-lz4"}, {"zarr2", "blosc-zstd"},
      {"zarr2", "zstd"}, {"zarr2", "gzip"}};
  int k = 0;
  for (const auto& [format, compression] : cases) {
    const std::string name = "c" + std::to_string(k++);
    Dataset ds = conn_->create_dataset(name, {64}, DType::of<std::uint32_t>(), {64}, 0,
                                       storage(format, compression));
    NdArray data = NdArray::uninitialized(DType::of<std::uint32_t>(), {64});
    for (int i = 0; i < 64; ++i) reinterpret_cast<std::uint32_t*>(data.bytes())[i] = i * 7u;
    ds.write({slice(0, 64)}, data);
    const std::string key = name + (format == "zarr3" ? "/c/0" : "/0");
    const std::string good = text(kv_->get(key).value);
    for (const std::string& bad : {good.substr(0, good.size() / 2), std::string()}) {
      kv_->put(key, bytes(bad));
      const std::string e = error_of([&] { conn_->get_dataset(name).read(); });
      EXPECT_NE(e.find(name), std::string::npos) << format << " " << compression << ": " << e;
      EXPECT_NE(e.find("chunk"), std::string::npos) << e;
    }
  }
  const std::string codecs =
      R"([{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}])";
  Dataset ds = conn_->create_dataset("crc", {8}, DType::of<std::uint8_t>(), {8}, 0,
                                     storage("zarr3", {}, codecs));
  ds.write({slice(0, 8)}, NdArray::filled(DType::of<std::uint8_t>(), {8}, Scalar(3)));
  std::string stored = text(kv_->get("crc/c/0").value);
  ASSERT_EQ(stored.size(), 12u);
  stored[0] = 4;
  kv_->put("crc/c/0", bytes(stored));
  EXPECT_THROW(conn_->get_dataset("crc").read(), IoError);
}

}  // namespace
}  // namespace dosna
