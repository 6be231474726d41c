// The storage-seam contract of the ceph backend, against a real cluster.
#include <gtest/gtest.h>
#include <rados/librados.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>
#include <thread>

#include "ceph_test_util.h"
#include "dosna/backend.h"
#include "dosna/errors.h"
#include "support/stores.h"

namespace dosna::testing {
namespace {

// Raw librados access to the same pool, to plant and inspect objects.
class RawPool {
 public:
  RawPool() {
    EXPECT_EQ(rados_create2(&rados_, "ceph", "client.admin", 0), 0);
    EXPECT_EQ(rados_conf_read_file(rados_, ceph_conf().c_str()), 0);
    EXPECT_EQ(rados_connect(rados_), 0);
    EXPECT_EQ(rados_ioctx_create(rados_, ceph_pool().c_str(), &io_), 0);
  }
  ~RawPool() {
    if (io_) rados_ioctx_destroy(io_);
    rados_shutdown(rados_);
  }
  int write_full(const std::string& oid, const std::string& data) {
    return rados_write_full(io_, oid.c_str(), data.data(), data.size());
  }
  std::string xattr(const std::string& oid, const char* name) {
    char buf[256];
    int n = rados_getxattr(io_, oid.c_str(), name, buf, sizeof buf);
    return n < 0 ? "<errno " + std::to_string(-n) + ">" : std::string(buf, n);
  }
  bool exists(const std::string& oid) {
    std::uint64_t size;
    std::time_t mtime;
    return rados_stat(io_, oid.c_str(), &size, &mtime) == 0;
  }
  void remove(const std::string& oid) { rados_remove(io_, oid.c_str()); }

 private:
  rados_t rados_ = nullptr;
  rados_ioctx_t io_ = nullptr;
};

std::shared_ptr<Buffer> bytes_of(const std::string& s) {
  auto b = Buffer::allocate(s.size());
  std::memcpy(b->data(), s.data(), s.size());
  return b;
}

std::string text_of(const ChunkData& d) {
  return d ? std::string(reinterpret_cast<const char*>(d->data()), d->size()) : "<absent>";
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  s[0] = '\0';  // binary-safe: NULs included
  return s;
}

class CephConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    DOSNA_REQUIRE_CEPH();
    backend_ = make_backend("ceph", ceph_pool(), {{"conffile", ceph_conf()}});
    backend_->connect();
  }
  void TearDown() override {
    if (!backend_) return;
    for (const auto& name : created_) {
      try {
        backend_->delete_dataset(name);
      } catch (const DatasetNotFound&) {
      }
    }
  }
  std::string make(const DatasetMeta& meta, const std::string& hint = "ds") {
    std::string name = unique_name(hint);
    backend_->create_dataset(name, meta);
    created_.push_back(name);
    return name;
  }
  // int32 2x3 chunks over a 5x7 dataset: 24-byte chunks, a 3x3 grid.
  static DatasetMeta small_meta() { return {{5, 7}, DType::parse("<i4"), Scalar(-1), {2, 3}}; }

  std::shared_ptr<Backend> backend_;
  std::vector<std::string> created_;
};

TEST_F(CephConformance, ConnectIsIdempotentAndDisconnectCloses) {
  EXPECT_EQ(backend_->kind(), "ceph");
  EXPECT_EQ(backend_->name(), ceph_pool());
  backend_->connect();
  EXPECT_TRUE(backend_->connected());
  auto other = make_backend("ceph", ceph_pool(), {{"conffile", ceph_conf()}});
  other->connect();
  auto chunks = other->chunks("anything", small_meta());
  other->disconnect();
  other->disconnect();
  EXPECT_FALSE(other->connected());
  EXPECT_THROW(other->list_datasets(), ConnectionError);
  EXPECT_THROW(chunks->get({0, 0}), ConnectionError);
}

TEST_F(CephConformance, MissingPoolIsNotFoundNamingIt) {
  auto b = make_backend("ceph", "no-such-pool-dosna", {{"conffile", ceph_conf()}});
  try {
    b->connect();
    FAIL() << "connect to a missing pool succeeded";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-pool-dosna'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(b->connected());
}

TEST_F(CephConformance, MissingConffileIsNotFound) {
  auto b = make_backend("ceph", ceph_pool(), {{"conffile", "/nonexistent/dosna.conf"}});
  try {
    b->connect();
    FAIL() << "connect with a missing conffile succeeded";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dosna.conf"), std::string::npos);
  }
}

TEST_F(CephConformance, UnreachableMonitorIsConnectionErrorWithinTimeout) {
  const auto conf = std::filesystem::temp_directory_path() / (unique_name("nomon") + ".conf");
  {
    std::ofstream out(conf);
    out << "[global]\nmon host = 127.0.0.1:9\nauth client required = none\n"
        << "[client]\nadmin socket =\nlog file =\n";
  }
  auto b = make_backend("ceph", ceph_pool(), {{"conffile", conf.string()}, {"timeout", "2"}});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(b->connect(), ConnectionError);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LE(waited, 4.0);
  std::filesystem::remove(conf);
}

TEST_F(CephConformance, CephConfEnvironmentIsHonouredWithoutConffile) {
  auto b = make_backend("ceph", ceph_pool(), {{"timeout", "5"}, {"client_id", "admin"}});
  b->connect();
  EXPECT_TRUE(b->connected());
}

TEST_F(CephConformance, OptionsAreChecked) {
  EXPECT_THROW(make_backend("ceph", ceph_pool(), {{"colour", "red"}}), InvalidArgument);
  EXPECT_THROW(make_backend("ceph", ceph_pool(), {{"timeout", "soon"}}), InvalidArgument);
  EXPECT_THROW(make_backend("ceph", ceph_pool(), {{"timeout", "0"}}), InvalidArgument);
  EXPECT_THROW(make_backend("ceph", ceph_pool(), {{"op_timeout", "-1"}}), InvalidArgument);
}

TEST_F(CephConformance, UnknownClientIsRefused) {
  auto b = make_backend("ceph", ceph_pool(),
                        {{"conffile", ceph_conf()}, {"client_id", "nobody"}, {"timeout", "3"}});
  try {
    b->connect();
    ADD_FAILURE() << "client.nobody connected";
  } catch (const PermissionDenied& e) {
    EXPECT_NE(std::string(e.what()).find("client.nobody"), std::string::npos) << e.what();
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("client.nobody"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(b->connected());
}

TEST_F(CephConformance, DatasetLifecycle) {
  DatasetMeta meta{{100, 50, 3}, DType::parse("<f8"), Scalar(0.5), {32, 32, 3}};
  const std::string name = make(meta);
  auto got = backend_->read_dataset(name);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->shape, meta.shape);
  EXPECT_EQ(got->dtype, meta.dtype);
  EXPECT_EQ(got->chunk_size, meta.chunk_size);
  EXPECT_EQ(got->fillvalue.repr(got->dtype), "0.5");
  EXPECT_THROW(backend_->create_dataset(name, meta), AlreadyExists);
  auto names = backend_->list_datasets();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());

  backend_->delete_dataset(name);
  EXPECT_FALSE(backend_->read_dataset(name));
  EXPECT_THROW(backend_->delete_dataset(name), DatasetNotFound);
  names = backend_->list_datasets();
  EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end());
}

TEST_F(CephConformance, LayoutIsFormatMd) {
  DatasetMeta meta{{100, 100, 100}, DType::parse("<f4"), Scalar(0.5), {32, 32, 32}};
  const std::string name = make(meta);
  RawPool raw;
  EXPECT_EQ(raw.xattr(name, "shape"), "100::100::100");
  EXPECT_EQ(raw.xattr(name, "dtype"), "<f4");
  EXPECT_EQ(raw.xattr(name, "fillvalue"), "0.5");
  EXPECT_EQ(raw.xattr(name, "chunk_grid"), "4::4::4");
  EXPECT_EQ(raw.xattr(name, "chunk_size"), "32::32::32");
  auto chunks = backend_->chunks(name, meta);
  chunks->put({0, 3, 1}, Buffer::allocate(meta.chunk_nbytes()));
  EXPECT_TRUE(raw.exists(name + "/0.3.1"));
}

TEST_F(CephConformance, ChunkRoundTrip) {
  const auto meta = small_meta();
  const std::string name = make(meta);
  auto chunks = backend_->chunks(name, meta);
  EXPECT_EQ(chunks->get({1, 2}), nullptr);
  EXPECT_FALSE(chunks->has({1, 2}));
  const std::string payload = random_bytes(24, 1);
  chunks->put({1, 2}, bytes_of(payload));
  EXPECT_EQ(text_of(chunks->get({1, 2})), payload);
  EXPECT_TRUE(chunks->has({1, 2}));
  const std::string second = random_bytes(24, 2);
  chunks->put({1, 2}, bytes_of(second));
  EXPECT_EQ(text_of(chunks->get({1, 2})), second);
  chunks->put({0, 0}, bytes_of(payload));
  auto listed = chunks->list();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<ChunkIndex>{{0, 0}, {1, 2}}));
  EXPECT_TRUE(chunks->remove({1, 2}));
  EXPECT_FALSE(chunks->remove({1, 2}));
  EXPECT_EQ(chunks->get({1, 2}), nullptr);
  EXPECT_THROW(chunks->put({0, 1}, bytes_of("short")), InvalidArgument);
  EXPECT_THROW(chunks->get({0}), InvalidArgument);
}

TEST_F(CephConformance, ChunksOfOtherDatasetsAreNotListed) {
  const auto meta = small_meta();
  const std::string a = make(meta, "a");
  const std::string b = a + "b";  // "<a>b/0.0" shares the prefix "<a>" but not "<a>/"
  backend_->create_dataset(b, meta);
  created_.push_back(b);
  backend_->chunks(b, meta)->put({0, 0}, bytes_of(random_bytes(24, 3)));
  EXPECT_TRUE(backend_->chunks(a, meta)->list().empty());
  backend_->delete_dataset(a);
  EXPECT_EQ(backend_->chunks(b, meta)->list().size(), 1u);
}

TEST_F(CephConformance, BatchedGetAndPut) {
  DatasetMeta meta{{40, 40}, DType::parse("<u1"), Scalar(0), {4, 4}};  // 100 chunks
  const std::string name = make(meta);
  auto chunks = backend_->chunks(name, meta);
  std::vector<ChunkIndex> all, even;
  std::vector<ChunkData> data;
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 10; ++j) {
      all.push_back({i, j});
      if ((i + j) % 2 == 0) {
        even.push_back({i, j});
        data.push_back(bytes_of(random_bytes(16, i * 10 + j)));
      }
    }
  chunks->put_many(even, data);
  std::vector<ChunkData> out(all.size());
  chunks->get_many(all, out);
  std::size_t k = 0;
  for (std::size_t n = 0; n < all.size(); ++n) {
    if ((all[n][0] + all[n][1]) % 2 == 0) {
      EXPECT_EQ(text_of(out[n]), text_of(data[k++])) << n;
    } else {
      EXPECT_EQ(out[n], nullptr) << n;
    }
  }
  EXPECT_EQ(chunks->list().size(), even.size());
  std::vector<ChunkData> bad{bytes_of("x")};
  std::vector<ChunkIndex> one{{0, 1}};
  EXPECT_THROW(chunks->put_many(one, bad), InvalidArgument);
}

TEST_F(CephConformance, RangedRead) {
  const auto meta = small_meta();
  const std::string name = make(meta);
  auto chunks = backend_->chunks(name, meta);
  EXPECT_EQ(testing::read_range(*chunks, {2, 2}, 4, 8), nullptr);
  const std::string payload = random_bytes(24, 4);
  chunks->put({2, 2}, bytes_of(payload));
  EXPECT_EQ(text_of(testing::read_range(*chunks, {2, 2}, 4, 8)), payload.substr(4, 8));
  EXPECT_EQ(text_of(testing::read_range(*chunks, {2, 2}, 0, 24)), payload);
  EXPECT_EQ(text_of(testing::read_range(*chunks, {2, 2}, 24, 0)), "");
  EXPECT_THROW(testing::read_range(*chunks, {2, 2}, 20, 8), InvalidArgument);
}

TEST_F(CephConformance, WrongSizedPayloadIsIoError) {
  const auto meta = small_meta();
  const std::string name = make(meta);
  RawPool raw;
  ASSERT_EQ(raw.write_full(name + "/0.0", "too short"), 0);
  ASSERT_EQ(raw.write_full(name + "/0.1", std::string(25, 'x')), 0);
  auto chunks = backend_->chunks(name, meta);
  EXPECT_THROW(chunks->get({0, 0}), IoError);
  EXPECT_THROW(chunks->get({0, 1}), IoError);
  std::vector<ChunkIndex> idx{{0, 0}, {0, 1}, {0, 2}};
  std::vector<ChunkData> out(3);
  EXPECT_THROW(chunks->get_many(idx, out), IoError);
}

TEST_F(CephConformance, DeleteRemovesChunksThenRecord) {
  const auto meta = small_meta();
  const std::string name = make(meta);
  auto chunks = backend_->chunks(name, meta);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) chunks->put({i, j}, bytes_of(random_bytes(24, i + j)));
  backend_->delete_dataset(name);
  RawPool raw;
  EXPECT_FALSE(raw.exists(name));
  EXPECT_FALSE(raw.exists(name + "/1.1"));
  backend_->create_dataset(name, meta);
  EXPECT_TRUE(backend_->chunks(name, meta)->list().empty());
}

TEST_F(CephConformance, ObjectsWithoutSignatureAreNotDatasets) {
  const std::string name = unique_name("plain");
  RawPool raw;
  ASSERT_EQ(raw.write_full(name, "not a dataset"), 0);
  EXPECT_FALSE(backend_->read_dataset(name));
  auto names = backend_->list_datasets();
  EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end());
  EXPECT_THROW(backend_->delete_dataset(name), DatasetNotFound);
  EXPECT_THROW(backend_->create_dataset(name, small_meta()), AlreadyExists);
  raw.remove(name);
}

TEST_F(CephConformance, CorruptRecordIsIoErrorNamingField) {
  const std::string name = unique_name("corrupt");
  RawPool raw;
  ASSERT_EQ(raw.write_full(name, "DosNa Dataset"), 0);
  try {
    backend_->read_dataset(name);
    ADD_FAILURE() << "a record without xattrs was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  raw.remove(name);
}

TEST_F(CephConformance, BadNamesAreInvalidArgument) {
  EXPECT_THROW(backend_->create_dataset("a/b", small_meta()), InvalidArgument);
  EXPECT_THROW(backend_->create_dataset("", small_meta()), InvalidArgument);
  EXPECT_THROW(backend_->read_dataset(""), InvalidArgument);  // the core's rule (names.h)
}

TEST_F(CephConformance, OddNamesRoundTrip) {
  const std::string name = unique_name("odd name.with-ü");
  backend_->create_dataset(name, small_meta());
  created_.push_back(name);
  EXPECT_TRUE(backend_->read_dataset(name));
  auto names = backend_->list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());
}

TEST_F(CephConformance, ConcurrentWritersAndReaders) {
  DatasetMeta meta{{64, 64}, DType::parse("<f4"), Scalar(0), {8, 8}};
  const std::string name = make(meta);
  auto chunks = backend_->chunks(name, meta);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < 8; ++j) {
        const std::string payload = random_bytes(256, t * 8 + j);
        chunks->put({t, j}, bytes_of(payload));
        EXPECT_EQ(text_of(chunks->get({t, j})), payload);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(chunks->list().size(), 32u);
}

TEST_F(CephConformance, UpdateIsConditionalUnderConcurrentWriters) {
  DatasetMeta meta{{4}, DType::parse("<i8"), Scalar(0), {4}};  // one 32-byte chunk
  const std::string name = make(meta);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // A store per thread, as separate processes would have.
      auto b = make_backend("ceph", ceph_pool(), {{"conffile", ceph_conf()}});
      b->connect();
      auto chunks = b->chunks(name, meta);
      for (int k = 0; k < kEach; ++k) {
        chunks->update({0}, [&](const ChunkData& current) -> ChunkData {
          auto next = Buffer::allocate(32);
          if (current) {
            std::memcpy(next->data(), current->data(), 32);
          } else {
            std::memset(next->data(), 0, 32);
          }
          auto* v = reinterpret_cast<std::int64_t*>(next->data());
          v[t] += 1;
          return next;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  auto data = backend_->chunks(name, meta)->get({0});
  ASSERT_TRUE(data);
  const auto* v = reinterpret_cast<const std::int64_t*>(data->data());
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(v[t], kEach) << t;
}

}  // namespace
}  // namespace dosna::testing
