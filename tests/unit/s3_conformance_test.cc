// The storage seam contract on the s3 backend against a real radosgw: round
// trips, binary-safe payloads, missing = nullptr, reads never write,
// idempotent delete, batches, byte ranges, names, credentials and options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "s3_test_util.h"
#include "support/stores.h"

namespace dosna::testing {
namespace {

ChunkData make_payload(std::size_t n, unsigned seed) {
  auto buf = Buffer::allocate(n);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < n; ++i) buf->data()[i] = static_cast<std::byte>(rng() & 0xff);
  return buf;
}

bool same(const ChunkData& a, const ChunkData& b) {
  return a && b && a->size() == b->size() && std::memcmp(a->data(), b->data(), a->size()) == 0;
}

DatasetMeta meta_3d() {
  DatasetMeta m;
  m.shape = {10, 12, 7};
  m.dtype = DType::parse("<f8");
  m.fillvalue = Scalar(-1.5);
  m.chunk_size = {4, 5, 7};
  return m;
}

class S3Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    DOSNA_S3_STORE_OR_SKIP(store);
    store_ = store;
    backend_ = make_backend("s3", store_.config.name, store_.config.options);
    backend_->connect();
  }
  void TearDown() override {
    if (!backend_) return;
    for (const auto& name : created_) {
      try {
        backend_->delete_dataset(name);
      } catch (const Error&) {
      }
    }
    backend_->disconnect();
  }
  std::string create(const std::string& hint, const DatasetMeta& meta) {
    std::string name = s3_dataset_name(hint);
    backend_->create_dataset(name, meta);
    created_.push_back(name);
    return name;
  }

  TestStore store_;
  std::shared_ptr<Backend> backend_;
  std::vector<std::string> created_;
};

TEST_F(S3Conformance, MetadataRoundTripAndListing) {
  const DatasetMeta m = meta_3d();
  const std::string name = create("meta", m);
  auto back = backend_->read_dataset(name);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->shape, m.shape);
  EXPECT_EQ(back->chunk_size, m.chunk_size);
  EXPECT_EQ(back->dtype.str(), "<f8");
  EXPECT_EQ(back->fillvalue.as_double(), -1.5);  // not truncated by int()
  auto names = backend_->list_datasets();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end());
  EXPECT_THROW(backend_->create_dataset(name, m), AlreadyExists);
  EXPECT_FALSE(backend_->read_dataset(s3_dataset_name("never")));
}

TEST_F(S3Conformance, ChunkRoundTripMissingAndDelete) {
  const DatasetMeta m = meta_3d();
  const std::string name = create("chunks", m);
  auto chunks = backend_->chunks(name, m);
  const ChunkIndex idx{1, 2, 0};
  EXPECT_EQ(chunks->get(idx), nullptr);
  EXPECT_FALSE(chunks->has(idx));  // the GET above did not create it
  EXPECT_TRUE(chunks->list().empty());
  const ChunkData payload = make_payload(m.chunk_nbytes(), 1);
  chunks->put(idx, payload);
  EXPECT_TRUE(chunks->has(idx));
  EXPECT_TRUE(same(chunks->get(idx), payload));
  // Overwrite replaces the whole payload.
  const ChunkData payload2 = make_payload(m.chunk_nbytes(), 2);
  chunks->put(idx, payload2);
  EXPECT_TRUE(same(chunks->get(idx), payload2));
  auto listed = chunks->list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0], idx);
  EXPECT_TRUE(chunks->remove(idx));
  EXPECT_FALSE(chunks->remove(idx));  // idempotent
  EXPECT_EQ(chunks->get(idx), nullptr);
  // Out-of-grid indices and wrong payload sizes are caller errors.
  EXPECT_THROW(chunks->get({3, 0, 0}), InvalidArgument);
  EXPECT_THROW(chunks->put(idx, make_payload(3, 3)), InvalidArgument);
}

TEST_F(S3Conformance, BatchesKeepOrderAndMissingSlots) {
  DatasetMeta m;
  m.shape = {64, 64};
  m.dtype = DType::parse("<u1");
  m.fillvalue = Scalar(0);
  m.chunk_size = {8, 8};
  const std::string name = create("batch", m);
  auto chunks = backend_->chunks(name, m);
  std::vector<ChunkIndex> all, even;
  std::vector<ChunkData> payloads;
  for (std::int64_t i = 0; i < 8; ++i) {
    for (std::int64_t j = 0; j < 8; ++j) {
      all.push_back({i, j});
      if ((i + j) % 2 == 0) {
        even.push_back({i, j});
        payloads.push_back(make_payload(m.chunk_nbytes(), static_cast<unsigned>(i * 8 + j)));
      }
    }
  }
  chunks->put_many(even, payloads);
  std::vector<ChunkData> out(all.size());
  chunks->get_many(all, out);
  std::size_t k = 0;
  for (std::size_t n = 0; n < all.size(); ++n) {
    if ((all[n][0] + all[n][1]) % 2 == 0) {
      EXPECT_TRUE(same(out[n], payloads[k++])) << n;
    } else {
      EXPECT_EQ(out[n], nullptr) << n;
    }
  }
  EXPECT_EQ(chunks->list().size(), even.size());
}

TEST_F(S3Conformance, ByteRanges) {
  const DatasetMeta m = meta_3d();
  const std::string name = create("range", m);
  auto chunks = backend_->chunks(name, m);
  const ChunkData payload = make_payload(m.chunk_nbytes(), 7);
  EXPECT_EQ(testing::read_range(*chunks, {0, 0, 0}, 8, 16), nullptr);
  chunks->put({0, 0, 0}, payload);
  auto part = testing::read_range(*chunks, {0, 0, 0}, 100, 333);
  ASSERT_TRUE(part);
  ASSERT_EQ(part->size(), 333u);
  EXPECT_EQ(std::memcmp(part->data(), payload->data() + 100, 333), 0);
  auto tail = testing::read_range(*chunks, {0, 0, 0}, m.chunk_nbytes() - 8, 8);
  ASSERT_TRUE(tail);
  EXPECT_EQ(std::memcmp(tail->data(), payload->data() + m.chunk_nbytes() - 8, 8), 0);
  EXPECT_THROW(testing::read_range(*chunks, {0, 0, 0}, m.chunk_nbytes() - 8, 9), InvalidArgument);
}

TEST_F(S3Conformance, WrongSizedObjectIsAnIoError) {
  const DatasetMeta m = meta_3d();
  const std::string name = create("size", m);
  DatasetMeta small = m;
  small.chunk_size = {2, 5, 7};
  // A store view with a smaller chunk writes a short object under the same key.
  backend_->chunks(name, small)->put({0, 0, 0}, make_payload(small.chunk_nbytes(), 1));
  auto chunks = backend_->chunks(name, m);
  EXPECT_THROW(chunks->get({0, 0, 0}), IoError);
}

TEST_F(S3Conformance, DeleteRemovesEverything) {
  const DatasetMeta m = meta_3d();
  const std::string name = s3_dataset_name("del");
  backend_->create_dataset(name, m);
  auto chunks = backend_->chunks(name, m);
  chunks->put({0, 0, 0}, make_payload(m.chunk_nbytes(), 1));
  chunks->put({2, 1, 0}, make_payload(m.chunk_nbytes(), 2));
  backend_->delete_dataset(name);
  EXPECT_FALSE(backend_->read_dataset(name));
  auto names = backend_->list_datasets();
  EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end());
  EXPECT_THROW(backend_->delete_dataset(name), DatasetNotFound);
  // Chunk writes into a deleted dataset do not resurrect its bucket.
  EXPECT_THROW(chunks->put({0, 0, 0}, make_payload(m.chunk_nbytes(), 1)), DatasetNotFound);
}

TEST_F(S3Conformance, NamesAreSanitisedAndValidated) {
  const DatasetMeta m = meta_3d();
  std::string upper = "Up_" + s3_dataset_name("name");
  backend_->create_dataset(upper, m);
  std::string bucket = upper;
  for (char& c : bucket) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  created_.push_back(bucket);
  EXPECT_TRUE(backend_->read_dataset(upper));
  EXPECT_TRUE(backend_->read_dataset(bucket));
  auto names = backend_->list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), bucket), names.end());
  EXPECT_THROW(backend_->create_dataset("ab", m), InvalidArgument);
  EXPECT_THROW(backend_->create_dataset("bad/name", m), InvalidArgument);
  EXPECT_THROW(backend_->create_dataset("-leading", m), InvalidArgument);
  EXPECT_FALSE(backend_->read_dataset("bad/name"));
}

TEST_F(S3Conformance, ManyThreadsShareTheConnection) {
  DatasetMeta m;
  m.shape = {32, 32};
  m.dtype = DType::parse("<i4");
  m.fillvalue = Scalar(0);
  m.chunk_size = {4, 4};
  const std::string name = create("threads", m);
  auto chunks = backend_->chunks(name, m);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t j = 0; j < 8; ++j) {
        const ChunkIndex idx{t, j};
        auto p = make_payload(m.chunk_nbytes(), static_cast<unsigned>(t * 8 + j));
        chunks->put(idx, p);
        if (!same(chunks->get(idx), p)) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(chunks->list().size(), 64u);
}

// Read-modify-write from independent connections (as separate processes
// would be: no shared in-process lock) loses no update.
TEST_F(S3Conformance, ConditionalUpdatesFromManyConnectionsLoseNothing) {
  DatasetMeta m;
  m.shape = {16};
  m.dtype = DType::parse("<i8");
  m.fillvalue = Scalar(0);
  m.chunk_size = {16};
  const std::string name = create("update", m);
  constexpr int kWriters = 4, kEach = 6;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&] {
      try {
        auto backend = make_backend("s3", store_.config.name, store_.config.options);
        backend->connect();
        auto chunks = backend->chunks(name, m);
        for (int i = 0; i < kEach; ++i) {
          chunks->update({0}, [&](const ChunkData& current) -> ChunkData {
            auto next = Buffer::allocate(m.chunk_nbytes());
            std::int64_t count = 0;
            if (current) std::memcpy(&count, current->data(), sizeof count);
            std::memset(next->data(), 0, next->size());
            ++count;
            std::memcpy(next->data(), &count, sizeof count);
            return next;
          });
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto data = backend_->chunks(name, m)->get({0});
  ASSERT_TRUE(data);
  std::int64_t count = 0;
  std::memcpy(&count, data->data(), sizeof count);
  EXPECT_EQ(count, kWriters * kEach);
}

TEST_F(S3Conformance, DisconnectedStoreFails) {
  const DatasetMeta m = meta_3d();
  const std::string name = create("disc", m);
  auto chunks = backend_->chunks(name, m);
  backend_->disconnect();
  EXPECT_FALSE(backend_->connected());
  EXPECT_THROW(chunks->get({0, 0, 0}), ConnectionError);
  backend_->connect();
  EXPECT_EQ(chunks->get({0, 0, 0}), nullptr);
}

TEST(S3Settings, WrongSecretIsPermissionDeniedWithoutTheSecret) {
  DOSNA_S3_STORE_OR_SKIP(store);
  const std::string secret = "Wr0ngSecretKeyThatMustNeverBePrinted1234";
  ScopedEnv ak("AWS_ACCESS_KEY_ID", std::getenv("AWS_ACCESS_KEY_ID"));
  ScopedEnv sk("AWS_SECRET_ACCESS_KEY", secret);
  auto backend = make_backend("s3", store.config.name, store.config.options);
  try {
    backend->connect();
    FAIL() << "connect with a wrong secret succeeded";
  } catch (const PermissionDenied& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find(secret), std::string::npos) << what;
    EXPECT_NE(what.find("s3 backend"), std::string::npos) << what;
    EXPECT_NE(what.find("403"), std::string::npos) << what;
  }
}

TEST(S3Settings, UnknownAccessKeyAndProfileFile) {
  DOSNA_S3_STORE_OR_SKIP(store);
  const std::string secret = "AnotherSecretThatMustNotLeak5678";
  auto dir = std::filesystem::temp_directory_path() / unique_name("aws");
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "credentials");
    f << "[default]\naws_access_key_id = NOSUCHKEY\naws_secret_access_key = " << secret
      << "\n\n[good]\naws_access_key_id = " << std::getenv("AWS_ACCESS_KEY_ID")
      << "\naws_secret_access_key = " << std::getenv("AWS_SECRET_ACCESS_KEY") << "\n";
  }
  ScopedEnv creds("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string());
  ScopedEnv ak("AWS_ACCESS_KEY_ID", std::nullopt);
  ScopedEnv sk("AWS_SECRET_ACCESS_KEY", std::nullopt);
  {
    auto backend = make_backend("s3", store.config.name, store.config.options);
    try {
      backend->connect();
      FAIL() << "connect with an unknown access key succeeded";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
  }
  {
    Options opts = store.config.options;
    opts["profile_name"] = "good";
    auto backend = make_backend("s3", store.config.name, opts);
    EXPECT_NO_THROW(backend->connect());
    EXPECT_NO_THROW(backend->list_datasets());
  }
  {
    Options opts = store.config.options;
    opts["profile_name"] = "missing";
    EXPECT_THROW(make_backend("s3", store.config.name, opts)->connect(), NotFound);
  }
  std::filesystem::remove_all(dir);
}

TEST(S3Settings, OptionsAreChecked) {
  EXPECT_THROW(make_backend("s3", "x", {{"no_such_option", "1"}}), InvalidArgument);
  EXPECT_THROW(make_backend("s3", "x", {{"endpoint_url", "ftp://host"}}), InvalidArgument);
  EXPECT_THROW(make_backend("s3", "x", {{"verify", "/no/such/ca-bundle.pem"}}), InvalidArgument);
  EXPECT_THROW(make_backend("s3", "x", {{"max_in_flight", "0"}}), InvalidArgument);
}

TEST(S3Settings, UnreachableEndpointIsAConnectionError) {
  ScopedEnv ak("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  ScopedEnv sk("AWS_SECRET_ACCESS_KEY", "secretsecret");
  // Port 9 (discard) on loopback: connection refused. An endpoint that never
  // answered is not retried (a wrong port does not heal).
  auto backend = make_backend("s3", "x", {{"endpoint_url", "http://127.0.0.1:9"}});
  try {
    backend->connect();
    FAIL() << "connect to a closed port succeeded";
  } catch (const ConnectionError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:9"), std::string::npos) << what;
    EXPECT_NE(what.find("1 attempt in"), std::string::npos) << what;
    EXPECT_NE(what.find("not retried"), std::string::npos) << what;
    EXPECT_EQ(what.find("secretsecret"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace dosna::testing
