// The storage seam contract (include/dosna/backend.h) checked directly on
// every compiled backend: metadata round trips, binary-safe chunk payloads,
// a missing chunk is a value (nullptr) and never an error, idempotent
// removal, batched and ranged calls, concurrent use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dosna/backend.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/stores.h"

namespace dosna {
namespace {

std::shared_ptr<Buffer> payload(std::size_t n, unsigned seed) {
  auto b = Buffer::allocate(n);
  for (std::size_t i = 0; i < n; ++i) b->data()[i] = std::byte((i * 131 + seed * 17 + i / 256) & 0xff);
  return b;
}

bool same(const ChunkData& a, const ChunkData& b) {
  return a && b && a->size() == b->size() && std::memcmp(a->data(), b->data(), a->size()) == 0;
}

std::vector<std::byte> stored_fill(const DatasetMeta& m) {
  std::vector<std::byte> out(m.dtype.itemsize());
  m.fillvalue.store(m.dtype, out.data());
  return out;
}

class BackendConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = testing::make_test_store(GetParam());
    if (!store_.skip_reason.empty()) {
      if (testing::services_required()) FAIL() << store_.skip_reason;
      GTEST_SKIP() << store_.skip_reason;
    }
    backend_ = make_backend(store_.config.backend, store_.config.name, store_.config.options);
    backend_->connect();
  }
  void TearDown() override {
    if (backend_ && backend_->connected()) {
      for (const auto& name : created_) {
        try {
          if (backend_->read_dataset(name)) backend_->delete_dataset(name);
        } catch (const std::exception&) {
        }
      }
      backend_->disconnect();
    }
    store_.cleanup();
  }
  std::string fresh(const std::string& hint) {
    created_.push_back(testing::unique_name(hint));
    return created_.back();
  }
  DatasetMeta meta(Shape shape, DType dtype, Scalar fill, Shape chunks) {
    return {std::move(shape), dtype, fill, std::move(chunks)};
  }

  testing::TestStore store_;
  std::shared_ptr<Backend> backend_;
  std::vector<std::string> created_;
};

TEST_P(BackendConformance, Identity) {
  EXPECT_EQ(backend_->kind(), GetParam());
  EXPECT_EQ(backend_->name(), store_.config.name);
  EXPECT_TRUE(backend_->connected());
  backend_->connect();  // a second connect is a no-op
  EXPECT_TRUE(backend_->connected());
}

TEST_P(BackendConformance, MetadataRoundTrips) {
  const std::vector<DatasetMeta> metas = {
      meta({100, 100, 100}, DType::parse("<f4"), 0, {32, 32, 32}),
      meta({7}, DType::parse("<f8"), std::nan(""), {3}),
      meta({5, 6}, DType::parse("<f8"), 0.5, {5, 6}),
      meta({2, 3, 4, 5}, DType::parse("<i8"), -1, {1, 2, 3, 4}),
      meta({9}, DType::parse("|b1"), true, {4}),
      meta({9}, DType::parse("|u1"), 255, {9}),
      meta({4, 4}, DType::parse("<c16"), std::complex<double>(1, -2), {2, 2}),
  };
  for (const auto& m : metas) {
    const std::string name = fresh("meta");
    SCOPED_TRACE(name + " " + m.dtype.str());
    backend_->create_dataset(name, m);
    const auto got = backend_->read_dataset(name);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->shape, m.shape);
    EXPECT_EQ(got->dtype, m.dtype);
    EXPECT_EQ(got->chunk_size, m.chunk_size);
    if (m.dtype.kind() == DTypeKind::kFloat && std::isnan(m.fillvalue.as_double())) {
      EXPECT_TRUE(std::isnan(got->fillvalue.as_double()));
    } else {
      EXPECT_EQ(stored_fill(*got), stored_fill(m)) << got->fillvalue.repr(m.dtype);
    }
  }
}

TEST_P(BackendConformance, DatasetLifecycle) {
  // Names valid on every store as they are (S3 lists sanitised bucket names:
  // "a_b" comes back as "a-b").
  const std::string a = fresh("life-a"), b = fresh("life-b");
  EXPECT_FALSE(backend_->read_dataset(a).has_value());
  const DatasetMeta m = meta({4, 4}, DType::parse("<i4"), 0, {2, 2});
  backend_->create_dataset(a, m);
  backend_->create_dataset(b, m);
  EXPECT_THROW(backend_->create_dataset(a, m), AlreadyExists);
  const auto names = backend_->list_datasets();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), a), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), b), names.end());
  backend_->delete_dataset(a);
  EXPECT_FALSE(backend_->read_dataset(a).has_value());
  EXPECT_THROW(backend_->delete_dataset(a), DatasetNotFound);
  const auto after = backend_->list_datasets();
  EXPECT_EQ(std::find(after.begin(), after.end(), a), after.end());
  EXPECT_TRUE(backend_->read_dataset(b).has_value());
}

TEST_P(BackendConformance, ChunkRoundTrips) {
  const std::string name = fresh("chunks");
  const DatasetMeta m = meta({10, 12}, DType::parse("<f8"), 0, {4, 8});
  backend_->create_dataset(name, m);
  auto store = backend_->chunks(name, m);
  const std::size_t n = m.chunk_nbytes();
  EXPECT_EQ(store->get({0, 0}), nullptr);
  EXPECT_FALSE(store->has({0, 0}));
  EXPECT_FALSE(store->remove({0, 0}));
  EXPECT_TRUE(store->list().empty());

  auto zeros = Buffer::allocate(n);
  std::memset(zeros->data(), 0, n);
  const ChunkData p1 = payload(n, 1), p2 = payload(n, 2);
  store->put({0, 0}, p1);
  store->put({2, 1}, zeros);
  EXPECT_TRUE(same(store->get({0, 0}), p1));
  EXPECT_TRUE(same(store->get({2, 1}), zeros)) << "an all-zero payload is data, not absence";
  EXPECT_TRUE(store->has({2, 1}));
  store->put({0, 0}, p2);  // replace
  EXPECT_TRUE(same(store->get({0, 0}), p2));

  auto listed = store->list();
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<ChunkIndex>{{0, 0}, {2, 1}}));

  // A second handle on the same dataset sees the same chunks.
  auto again = backend_->chunks(name, m);
  EXPECT_TRUE(same(again->get({0, 0}), p2));

  EXPECT_TRUE(store->remove({0, 0}));
  EXPECT_FALSE(store->remove({0, 0}));
  EXPECT_EQ(store->get({0, 0}), nullptr);
  EXPECT_EQ(store->list(), (std::vector<ChunkIndex>{{2, 1}}));
}

TEST_P(BackendConformance, BatchedRangedAndUpdate) {
  const std::string name = fresh("batch");
  const DatasetMeta m = meta({9, 9, 9}, DType::parse("<u2"), 3, {3, 3, 3});
  backend_->create_dataset(name, m);
  auto store = backend_->chunks(name, m);
  const std::size_t n = m.chunk_nbytes();
  std::vector<ChunkIndex> idx = {{0, 0, 0}, {1, 2, 0}, {2, 2, 2}};
  std::vector<ChunkData> data = {payload(n, 3), payload(n, 4), payload(n, 5)};
  store->put_many(idx, data);
  std::vector<ChunkIndex> want_idx = {{2, 2, 2}, {0, 1, 0}, {0, 0, 0}, {1, 2, 0}};
  std::vector<ChunkData> got(want_idx.size());
  store->get_many(want_idx, got);
  EXPECT_TRUE(same(got[0], data[2]));
  EXPECT_EQ(got[1], nullptr);
  EXPECT_TRUE(same(got[2], data[0]));
  EXPECT_TRUE(same(got[3], data[1]));

  const ChunkData part = testing::read_range(*store, {1, 2, 0}, 10, 17);
  ASSERT_TRUE(part);
  ASSERT_EQ(part->size(), 17u);
  EXPECT_EQ(std::memcmp(part->data(), data[1]->data() + 10, 17), 0);
  EXPECT_EQ(testing::read_range(*store, {0, 1, 0}, 0, 4), nullptr);

  bool saw_absent = false;
  store->update({2, 0, 0}, [&](const ChunkData& current) -> ChunkData {
    saw_absent = current == nullptr;
    return payload(n, 6);
  });
  EXPECT_TRUE(saw_absent);
  ChunkData seen;
  store->update({2, 0, 0}, [&](const ChunkData& current) -> ChunkData {
    seen = current;
    return payload(n, 7);
  });
  EXPECT_TRUE(same(seen, payload(n, 6)));
  EXPECT_TRUE(same(store->get({2, 0, 0}), payload(n, 7)));
}

TEST_P(BackendConformance, DeleteRemovesChunksToo) {
  const std::string name = fresh("gone");
  const DatasetMeta m = meta({4}, DType::parse("|i1"), 0, {2});
  backend_->create_dataset(name, m);
  backend_->chunks(name, m)->put({1}, payload(2, 8));
  backend_->delete_dataset(name);
  backend_->create_dataset(name, m);
  auto store = backend_->chunks(name, m);
  EXPECT_EQ(store->get({1}), nullptr) << "a recreated dataset saw an old chunk";
  EXPECT_TRUE(store->list().empty());
}

TEST_P(BackendConformance, ConcurrentUseOfDifferentChunks) {
  const std::string name = fresh("threads");
  const DatasetMeta m = meta({8, 64}, DType::parse("<i8"), 0, {1, 64});
  backend_->create_dataset(name, m);
  auto store = backend_->chunks(name, m);
  const std::size_t n = m.chunk_nbytes();
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t r = t; r < 8; r += 4) {
        store->put({r, 0}, payload(n, static_cast<unsigned>(r)));
        ChunkData back = store->get({r, 0});
        EXPECT_TRUE(same(back, payload(n, static_cast<unsigned>(r))));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->list().size(), 8u);
}

INSTANTIATE_TEST_SUITE_P(Available, BackendConformance, ::testing::ValuesIn(available_backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dosna
