// The hdf5 backend at the storage seam: conformance (round trip, binary
// safety, missing chunks, idempotent removal, listing), dataset name
// validation, connection errors and options. Real files in a temp directory.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/stores.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / testing::unique_name("hdf5-seam")) {
    fs::create_directories(path_ / "store");
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path store() const { return path_ / "store"; }

 private:
  fs::path path_;
};

std::shared_ptr<Backend> open_backend(const TempDir& dir, Options extra = {}) {
  extra["directory"] = dir.path().string();
  auto backend = make_backend("hdf5", "store", extra);
  backend->connect();
  return backend;
}

DatasetMeta meta_of(Shape shape, DType dtype, Shape chunks, Scalar fill) {
  DatasetMeta m;
  m.shape = std::move(shape);
  m.dtype = dtype;
  m.chunk_size = std::move(chunks);
  m.fillvalue = fill;
  return m;
}

ChunkData random_payload(std::size_t size, unsigned seed) {
  auto buf = Buffer::allocate(size);
  std::mt19937 gen(seed);
  for (std::size_t i = 0; i < size; ++i) buf->data()[i] = static_cast<std::byte>(gen() & 0xFF);
  // Bytes that break text-based or C-string handling.
  if (size >= 4) {
    buf->data()[0] = std::byte{0};
    buf->data()[1] = std::byte{0xFF};
    buf->data()[2] = std::byte{'\n'};
    buf->data()[size - 1] = std::byte{0};
  }
  return buf;
}

bool same_bytes(const ChunkData& a, const ChunkData& b) {
  return a && b && a->size() == b->size() && std::memcmp(a->data(), b->data(), a->size()) == 0;
}

TEST(Hdf5Backend, KindNameAndConnect) {
  TempDir dir;
  auto b = make_backend("hdf5", "store", {{"directory", dir.path().string()}});
  EXPECT_EQ(b->kind(), "hdf5");
  EXPECT_EQ(b->name(), "store");
  EXPECT_FALSE(b->connected());
  b->connect();
  b->connect();  // no-op
  EXPECT_TRUE(b->connected());
  b->disconnect();
  b->disconnect();
  EXPECT_FALSE(b->connected());
  EXPECT_THROW(b->list_datasets(), ConnectionError);
}

// The ext2/3/4 "top of directory hierarchies" flag of `dir`, or nullopt on
// another file system.
std::optional<bool> topdir_flag(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << dir;
  struct statfs info {};
  int flags = 0;
  std::optional<bool> out;
  if (::fstatfs(fd, &info) == 0 && info.f_type == EXT4_SUPER_MAGIC &&
      ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0)
    out = (flags & FS_TOPDIR_FL) != 0;
  ::close(fd);
  return out;
}

TEST(Hdf5Backend, ConnectSpreadsDatasetDirectoriesOnExt4) {
  TempDir dir;
  const auto before = topdir_flag(dir.store());
  fs::create_directories(dir.path() / "plain");
  auto plain = make_backend("hdf5", "plain",
                            {{"directory", dir.path().string()}, {"spread_datasets", "false"}});
  plain->connect();
  open_backend(dir);
  if (!before) {  // not ext2/3/4: nothing to set, and connecting still works
    EXPECT_FALSE(topdir_flag(dir.store()).has_value());
    return;
  }
  EXPECT_FALSE(*before);
  EXPECT_TRUE(*topdir_flag(dir.store())) << "connect did not set chattr +T on " << dir.store();
  EXPECT_FALSE(*topdir_flag(dir.path() / "plain")) << "spread_datasets=false still set it";
}

TEST(Hdf5Backend, MissingDirectoryIsNotFoundNamingThePath) {
  TempDir dir;
  auto b = make_backend("hdf5", "nope", {{"directory", dir.path().string()}});
  try {
    b->connect();
    FAIL() << "connect() to a missing directory succeeded";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "nope").string()), std::string::npos)
        << e.what();
  }
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_THROW(make_backend("hdf5", "file", {{"directory", dir.path().string()}})->connect(),
               NotFound);
}

TEST(Hdf5Backend, OptionsAreTypedAndUnknownKeysRejected) {
  TempDir dir;
  EXPECT_THROW(make_backend("hdf5", "store", {{"directory", dir.path().string()}, {"bogus", "1"}}),
               InvalidArgument);
  EXPECT_THROW(
      make_backend("hdf5", "store", {{"directory", dir.path().string()}, {"durable", "maybe"}}),
      InvalidArgument);
  // Default directory ".": the connection directory is relative to the cwd.
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  auto b = make_backend("hdf5", "store", {});
  EXPECT_NO_THROW(b->connect());
  fs::current_path(old);
}

TEST(Hdf5Backend, DatasetRecordRoundTripsForEveryDtype) {
  TempDir dir;
  auto b = open_backend(dir);
  const std::vector<std::pair<std::string, DatasetMeta>> cases = {
      {"f4", meta_of({70, 50, 30}, DType::parse("<f4"), {32, 32, 16}, 0.5)},
      {"f8", meta_of({10}, DType::parse("<f8"), {3}, std::nan(""))},
      {"i1", meta_of({5, 5}, DType::parse("|i1"), {2, 2}, -3)},
      {"i8", meta_of({5, 5}, DType::parse("<i8"), {5, 5}, std::int64_t{-1} << 40)},
      {"u8", meta_of({4}, DType::parse("<u8"), {4}, std::uint64_t{18446744073709551615ULL})},
      {"u2", meta_of({9, 9}, DType::parse("<u2"), {4, 4}, 7)},
      {"b1", meta_of({6, 6}, DType::parse("|b1"), {4, 4}, true)},
      {"c8", meta_of({3, 3}, DType::parse("<c8"), {2, 2}, std::complex<double>(1, 2))},
      {"c16", meta_of({3}, DType::parse("<c16"), {2}, std::complex<double>(-0.5, 3))},
  };
  for (const auto& [name, meta] : cases) {
    SCOPED_TRACE(name);
    b->create_dataset(name, meta);
    EXPECT_TRUE(fs::is_regular_file(dir.store() / name / "dataset.h5"));
    auto back = b->read_dataset(name);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->shape, meta.shape);
    EXPECT_EQ(back->chunk_size, meta.chunk_size);
    EXPECT_EQ(back->dtype, meta.dtype);
    EXPECT_EQ(back->fillvalue.repr(meta.dtype), meta.fillvalue.repr(meta.dtype));
    // A fresh backend reads it from disk, not from the cache.
    auto other = open_backend(dir);
    auto again = other->read_dataset(name);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->fillvalue.repr(meta.dtype), meta.fillvalue.repr(meta.dtype));
    // Chunk file templates build for every dtype and round trip a payload.
    auto store = b->chunks(name, meta);
    ChunkIndex first(meta.shape.size(), 0);
    auto payload = random_payload(meta.chunk_nbytes(), 7);
    store->put(first, payload);
    EXPECT_TRUE(same_bytes(store->get(first), payload));
  }
  EXPECT_THROW(b->create_dataset("f4", cases[0].second), AlreadyExists);
}

TEST(Hdf5Backend, ChunkConformance) {
  TempDir dir;
  auto b = open_backend(dir);
  const DatasetMeta meta = meta_of({70, 50, 30}, DType::parse("<f4"), {32, 32, 16}, 0);
  b->create_dataset("data", meta);
  auto store = b->chunks("data", meta);
  const ChunkIndex a{0, 0, 0}, c{2, 1, 1};

  EXPECT_EQ(store->get(a), nullptr);
  EXPECT_EQ(testing::read_range(*store, a, 0, 16), nullptr);
  EXPECT_FALSE(store->has(a));
  EXPECT_FALSE(store->remove(a));
  EXPECT_TRUE(store->list().empty());

  auto pa = random_payload(meta.chunk_nbytes(), 1);
  auto pc = random_payload(meta.chunk_nbytes(), 2);
  store->put(a, pa);
  store->put(c, pc);
  EXPECT_TRUE(store->has(a));
  EXPECT_TRUE(same_bytes(store->get(a), pa));
  EXPECT_TRUE(same_bytes(store->get(c), pc));
  EXPECT_TRUE(fs::is_regular_file(dir.store() / "data" / "chunk_2_1_1.h5"));

  auto part = testing::read_range(*store, c, 1000, 5000);
  ASSERT_NE(part, nullptr);
  ASSERT_EQ(part->size(), 5000u);
  EXPECT_EQ(std::memcmp(part->data(), pc->data() + 1000, 5000), 0);
  EXPECT_EQ(testing::read_range(*store, c, 0, 0)->size(), 0u);
  EXPECT_THROW(testing::read_range(*store, c, meta.chunk_nbytes() - 1, 2), InvalidArgument);

  // Overwrite replaces the whole payload.
  auto pa2 = random_payload(meta.chunk_nbytes(), 3);
  store->put(a, pa2);
  EXPECT_TRUE(same_bytes(store->get(a), pa2));

  auto listed = store->list();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<ChunkIndex>{a, c}));

  EXPECT_TRUE(store->remove(a));
  EXPECT_FALSE(store->remove(a));
  EXPECT_EQ(store->get(a), nullptr);
  EXPECT_EQ(store->list(), (std::vector<ChunkIndex>{c}));

  // Batched calls.
  std::vector<ChunkIndex> idx{{0, 1, 0}, {1, 0, 1}, {0, 0, 0}};
  std::vector<ChunkData> in{random_payload(meta.chunk_nbytes(), 4),
                            random_payload(meta.chunk_nbytes(), 5), nullptr};
  store->put_many(std::span(idx).first(2), std::span<const ChunkData>(in).first(2));
  std::vector<ChunkData> out(3);
  store->get_many(idx, out);
  EXPECT_TRUE(same_bytes(out[0], in[0]));
  EXPECT_TRUE(same_bytes(out[1], in[1]));
  EXPECT_EQ(out[2], nullptr);

  // Bad indices and payload sizes are rejected before touching the disk.
  EXPECT_THROW(store->put({3, 0, 0}, pa), InvalidArgument);
  EXPECT_THROW(store->put({0, 0}, pa), InvalidArgument);
  EXPECT_THROW(store->put({-1, 0, 0}, pa), InvalidArgument);
  EXPECT_THROW(store->put(a, Buffer::allocate(10)), InvalidArgument);
  EXPECT_THROW(store->get({0, 0, 2}), InvalidArgument);

  // No temporary files are left behind.
  for (const auto& entry : fs::directory_iterator(dir.store() / "data")) {
    const std::string f = entry.path().filename().string();
    EXPECT_TRUE(f == "dataset.h5" || (f.starts_with("chunk_") && f.ends_with(".h5"))) << f;
  }

  b->disconnect();
  EXPECT_THROW(store->get(c), ConnectionError);
  EXPECT_THROW(store->put(c, pc), ConnectionError);
}

TEST(Hdf5Backend, RangedReads) {
  TempDir dir;
  auto b = open_backend(dir);
  const DatasetMeta meta = meta_of({64, 64, 64}, DType::parse("<f4"), {64, 64, 64}, 0);
  b->create_dataset("r", meta);
  auto store = b->chunks("r", meta);
  EXPECT_TRUE(store->reads_ranges());
  const std::size_t n = meta.chunk_nbytes();
  auto p = random_payload(n, 21);
  store->put({0, 0, 0}, p);
  const std::vector<std::vector<ByteRange>> cases = {
      {{0, n}},                                          // everything
      {{0, 10}, {10, 20}},                               // adjacent
      {{100, 50}, {300, 8}, {5000, 1000}},               // small gaps: one read
      {{16, 4}, {n / 2, 64}, {n - 8, 8}},                // large gaps: several reads
      {{4096, 0}, {8, 8}, {0, 4}},                       // empty and out of order
      {},                                                // nothing
  };
  const std::vector<ChunkIndex> idx(cases.size(), ChunkIndex{0, 0, 0});
  std::vector<ChunkData> out(cases.size());
  store->get_ranges_many(idx, cases, out);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(c);
    std::vector<std::byte> want;
    for (const auto& r : cases[c]) {
      want.insert(want.end(), p->data() + r.offset, p->data() + r.offset + r.length);
    }
    ASSERT_NE(out[c], nullptr);
    ASSERT_EQ(out[c]->size(), want.size());
    if (!want.empty()) {
      EXPECT_EQ(std::memcmp(out[c]->data(), want.data(), want.size()), 0);
    }
  }
  // Many ranges (more than IOV_MAX iovecs in total).
  std::vector<std::vector<ByteRange>> many(1);
  for (std::size_t k = 0; k < 3000; ++k) many[0].push_back({k * 300, 7});
  std::vector<ChunkData> one(1);
  store->get_ranges_many(std::span(idx).first(1), many, one);
  ASSERT_NE(one[0], nullptr);
  ASSERT_EQ(one[0]->size(), 3000u * 7);
  for (std::size_t k = 0; k < 3000; ++k) {
    ASSERT_EQ(std::memcmp(one[0]->data() + k * 7, p->data() + k * 300, 7), 0) << k;
  }
  // Absent chunks give nullptr; ranges outside the payload are rejected.
  std::vector<ChunkIndex> absent{{0, 0, 0}};
  store->remove({0, 0, 0});
  store->get_ranges_many(absent, std::span(cases).first(1), one);
  EXPECT_EQ(one[0], nullptr);
  store->put({0, 0, 0}, p);
  const std::vector<std::vector<ByteRange>> bad = {{{n - 4, 8}}};
  EXPECT_THROW(store->get_ranges_many(absent, bad, one), InvalidArgument);
}

TEST(Hdf5Backend, ListAndDeleteDatasets) {
  TempDir dir;
  auto b = open_backend(dir);
  const DatasetMeta meta = meta_of({8, 8}, DType::parse("<i4"), {4, 4}, 0);
  EXPECT_TRUE(b->list_datasets().empty());
  EXPECT_FALSE(b->read_dataset("zeta").has_value());
  for (const char* n : {"zeta", "alpha", "Mid_1"}) b->create_dataset(n, meta);
  fs::create_directories(dir.store() / "not-a-dataset");
  std::ofstream(dir.store() / "stray.txt") << "x";
  EXPECT_EQ(b->list_datasets(), (std::vector<std::string>{"Mid_1", "alpha", "zeta"}));

  auto store = b->chunks("alpha", meta);
  store->put({1, 1}, random_payload(meta.chunk_nbytes(), 9));
  b->delete_dataset("alpha");
  EXPECT_FALSE(fs::exists(dir.store() / "alpha"));
  EXPECT_FALSE(b->read_dataset("alpha").has_value());
  EXPECT_THROW(b->delete_dataset("alpha"), DatasetNotFound);
  EXPECT_THROW(b->delete_dataset("not-a-dataset"), DatasetNotFound);
  EXPECT_EQ(b->list_datasets(), (std::vector<std::string>{"Mid_1", "zeta"}));

  // A name can be reused after deletion, and the old record is not served
  // from the cache.
  const DatasetMeta other = meta_of({3}, DType::parse("<f8"), {2}, 1.5);
  b->create_dataset("alpha", other);
  auto back = b->read_dataset("alpha");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->shape, other.shape);
  EXPECT_EQ(back->dtype, other.dtype);
  EXPECT_EQ(b->chunks("alpha", other)->get({0}), nullptr);

  // Existing non-dataset directories are not taken over; empty ones are.
  std::ofstream(dir.store() / "not-a-dataset" / "keep") << "x";
  EXPECT_THROW(b->create_dataset("not-a-dataset", meta), AlreadyExists);
  fs::create_directories(dir.store() / "empty");
  EXPECT_NO_THROW(b->create_dataset("empty", meta));
}

TEST(Hdf5Backend, RecordChangedByAnotherWriterIsReread) {
  TempDir dir;
  auto a = open_backend(dir);
  auto b = open_backend(dir);
  a->create_dataset("x", meta_of({8}, DType::parse("<f4"), {4}, 0));
  ASSERT_TRUE(b->read_dataset("x").has_value());
  a->delete_dataset("x");
  EXPECT_FALSE(b->read_dataset("x").has_value());
  a->create_dataset("x", meta_of({9}, DType::parse("<i2"), {3}, 2));
  auto back = b->read_dataset("x");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->shape, (Shape{9}));
  EXPECT_EQ(back->dtype, DType::parse("<i2"));
}

TEST(Hdf5Backend, DatasetNamesAreValidated) {
  TempDir dir;
  auto b = open_backend(dir);
  const DatasetMeta meta = meta_of({4}, DType::parse("<f4"), {2}, 0);
  const std::vector<std::string> bad = {
      "", ".", "..", "/abs", "/", "a/b", "../escape", "a\\b", std::string("a\0b", 3),
      ".dosna-trash-x"};
  for (const auto& name : bad) {
    SCOPED_TRACE(name);
    EXPECT_THROW(b->create_dataset(name, meta), InvalidArgument);
    EXPECT_THROW(b->read_dataset(name), InvalidArgument);
    EXPECT_THROW(b->delete_dataset(name), InvalidArgument);
    EXPECT_THROW(b->chunks(name, meta), InvalidArgument);
  }
  // Nothing escaped the connection directory.
  std::set<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    entries.insert(e.path().filename().string());
  }
  EXPECT_EQ(entries, (std::set<std::string>{"store"}));
  EXPECT_TRUE(fs::is_empty(dir.store()));
  // Ordinary names with dots, dashes and spaces are fine.
  for (const char* ok : {"a.b", "with space", "-x", "...", "ünïcode"}) {
    EXPECT_NO_THROW(b->create_dataset(ok, meta)) << ok;
  }
}

TEST(Hdf5Backend, DurableWritesWork) {
  TempDir dir;
  auto b = open_backend(dir, {{"durable", "true"}});
  const DatasetMeta meta = meta_of({4, 4}, DType::parse("<f8"), {2, 2}, 0);
  b->create_dataset("d", meta);
  auto store = b->chunks("d", meta);
  auto p = random_payload(meta.chunk_nbytes(), 11);
  store->put({1, 1}, p);
  EXPECT_TRUE(same_bytes(store->get({1, 1}), p));
  EXPECT_TRUE(store->remove({1, 1}));
  b->delete_dataset("d");
}

TEST(Hdf5Backend, ConcurrentWritersAndReadersNeverSeeATornChunk) {
  TempDir dir;
  auto b = open_backend(dir);
  const DatasetMeta meta = meta_of({64, 64}, DType::parse("<i4"), {64, 64}, 0);
  b->create_dataset("c", meta);
  auto store = b->chunks("c", meta);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::vector<std::thread> threads;
  for (int w = 1; w <= 3; ++w) {
    threads.emplace_back([&, w] {
      for (int k = 0; k < 40; ++k) {
        auto buf = Buffer::allocate(meta.chunk_nbytes());
        std::int32_t* v = reinterpret_cast<std::int32_t*>(buf->data());
        std::fill(v, v + 64 * 64, w * 1000 + k);
        store->put({0, 0}, buf);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop) {
        ChunkData d = store->get({0, 0});
        if (!d) continue;
        const std::int32_t* v = reinterpret_cast<const std::int32_t*>(d->data());
        if (!std::all_of(v, v + 64 * 64, [&](std::int32_t x) { return x == v[0]; })) ++torn;
        ChunkData part = testing::read_range(*store, {0, 0}, 4096, 4096);
        if (part) {
          const std::int32_t* p = reinterpret_cast<const std::int32_t*>(part->data());
          if (!std::all_of(p, p + 1024, [&](std::int32_t x) { return x == p[0]; })) ++torn;
        }
        ++reads;
      }
    });
  }
  for (int i = 0; i < 3; ++i) threads[static_cast<std::size_t>(i)].join();
  stop = true;
  for (std::size_t i = 3; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST(Hdf5Backend, ThroughConnectionAndDataset) {
  TempDir dir;
  Connection con("store", {{"directory", dir.path().string()}}, "hdf5");
  con.connect();
  std::vector<float> values(20 * 30);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.25f;
  auto input = NdArray::from_vector(values, {20, 30});
  Dataset ds = con.create_dataset("arr", input, {8, 8}, 2.5);
  EXPECT_EQ(ds.stored_chunks(), 3 * 4);
  NdArray all = ds.read();
  ASSERT_EQ(all.shape(), (Shape{20, 30}));
  EXPECT_EQ(std::memcmp(all.bytes(), input.bytes(), input.nbytes()), 0);
  NdArray part = ds.read(Selection::parse("3:5, 10:13"));
  EXPECT_EQ(part.at<float>({1, 2}), values[4 * 30 + 12]);
  Dataset again = con.get_dataset("arr");
  EXPECT_EQ(again.fillvalue().repr(again.dtype()), "2.5");
  con.del_dataset("arr");
  EXPECT_FALSE(con.has_dataset("arr"));
}

}  // namespace
}  // namespace dosna
