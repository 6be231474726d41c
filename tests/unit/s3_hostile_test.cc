// What another writer (or an attacker with write access to the buckets) can
// put on the store, against a real radosgw: corrupt metadata headers, a
// record declaring a huge chunk, chunk objects of the wrong size, stray keys
// in a dataset's bucket. Each gives a typed error naming the dataset -- never
// a crash, a hang or silently wrong data -- and rm touches only DosNa's keys.
#include <algorithm>
#include <mutex>

#include "backends/s3/s3_config.h"
#include "backends/s3/s3_transport.h"
#include "backends/s3/s3_xml.h"
#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/warnings.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

using s3::HttpRequest;
using s3::HttpResponse;

// Raw S3 requests with the store's keys, bypassing the backend.
class RawS3 {
 public:
  explicit RawS3(const Options& options)
      : transport_(s3::resolve_settings("raw", {{"endpoint_url", options.at("endpoint_url")}})) {}

  long put(const std::string& bucket, const std::string& key, const std::string& body,
           std::vector<std::string> headers = {}) {
    return transport_
        .run(HttpRequest{.method = "PUT", .path = path(bucket, key), .headers = std::move(headers),
                         .body_text = body})
        .status;
  }
  long remove(const std::string& bucket, const std::string& key) {
    return transport_.run(HttpRequest{.method = "DELETE", .path = path(bucket, key)}).status;
  }
  long head(const std::string& bucket, const std::string& key) {
    return transport_.run(HttpRequest{.method = "HEAD", .path = path(bucket, key)}).status;
  }
  HttpResponse get(const std::string& bucket, const std::string& key, std::size_t expect_bytes) {
    return transport_.run(
        HttpRequest{.method = "GET", .path = path(bucket, key), .expect_bytes = expect_bytes});
  }
  // Rewrites dataset_root with these x-amz-meta-* headers (name -> value).
  long set_record(const std::string& bucket, const std::map<std::string, std::string>& meta) {
    std::vector<std::string> headers;
    for (const auto& [k, v] : meta) headers.push_back("x-amz-meta-" + k + ": " + v);
    return put(bucket, "dataset_root", "DosNa Dataset", headers);
  }
  std::vector<std::string> keys(const std::string& bucket) {
    HttpResponse r = transport_.run(HttpRequest{.method = "GET", .path = "/" + bucket, .query = "list-type=2"});
    if (r.status == 404) return {};
    return s3::parse_list_objects(r.text).keys;
  }
  void drop_bucket(const std::string& bucket) {
    for (const auto& k : keys(bucket)) remove(bucket, k);
    transport_.run(HttpRequest{.method = "DELETE", .path = "/" + bucket});
  }

 private:
  static std::string path(const std::string& bucket, const std::string& key) {
    return "/" + bucket + "/" + s3::uri_encode(key, true);
  }
  s3::Transport transport_;
};

// The record dosna writes for shape (100, 100) <f4 chunks (10, 10).
std::map<std::string, std::string> good_record() {
  return {{"shape", "100::100"}, {"dtype", "<f4"}, {"fillvalue", "0.0"},
          {"chunk-grid", "10::10"}, {"chunk-size", "10::10"}};
}

class S3Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    DOSNA_S3_STORE_OR_SKIP(store);
    store_ = store;
    con_ = std::make_unique<Connection>(store_.config.name, store_.config.options, "s3");
    con_->connect();
    raw_ = std::make_unique<RawS3>(store_.config.options);
  }
  void TearDown() override {
    if (raw_) {
      for (const auto& b : buckets_) raw_->drop_bucket(b);
    }
  }
  // A dataset (100, 100) <f4 chunks (10, 10) with every chunk written.
  std::string make_full(const std::string& hint) {
    const std::string name = s3_dataset_name(hint);
    buckets_.push_back(name);
    Dataset ds = con_->create_dataset(name, {100, 100}, DType::parse("<f4"), {10, 10}, Scalar(0));
    NdArray a = NdArray::uninitialized(DType::parse("<f4"), {100, 100});
    auto v = a.values<float>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    ds.load(a.view());
    return name;
  }
  // Runs fn, which must throw IoError naming `dataset`.
  template <class F>
  void expect_io_error(const std::string& dataset, F&& fn, const std::string& must_hold = "") {
    try {
      fn();
      ADD_FAILURE() << "no error for dataset " << dataset;
    } catch (const IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dataset), std::string::npos) << what;
      EXPECT_NE(what.find(must_hold), std::string::npos) << what;
      EXPECT_LT(what.size(), 2000u) << "the message echoes too much";
    }
  }

  TestStore store_;
  std::unique_ptr<Connection> con_;
  std::unique_ptr<RawS3> raw_;
  std::vector<std::string> buckets_;
};

TEST_F(S3Hostile, RecordDeclaringAHugeChunkIsTypedAndAllocatesNothing) {
  const std::string name = make_full("huge");
  // 1 GiB chunks over 400-byte chunk objects: the reads fail on the size,
  // allocating no GiB for them.
  auto record = good_record();
  record["chunk-size"] = "16384::16384";
  record["chunk-grid"] = "1::1";
  ASSERT_EQ(raw_->set_record(name, record), 200);
  Dataset ds = con_->get_dataset(name);
  expect_io_error(name, [&] { (void)ds.read(); }, "chunk 0.0 holds 400 bytes, expected 1073741824");
  expect_io_error(name, [&] { (void)ds.read(Selection::parse("0:2,0:2")); }, "holds 400 bytes");
  // 400 TB chunks: refused when the record is read (S3 takes 5 GiB per PUT).
  record["shape"] = "100000000::100000000";
  record["chunk-size"] = "10000000::10000000";
  record["chunk-grid"] = "10::10";
  ASSERT_EQ(raw_->set_record(name, record), 200);
  expect_io_error(name, [&] { (void)con_->get_dataset(name); }, "5 GiB");
  // The transport sizes the receive buffer by the object, not by the 1 PiB
  // asked for: no std::bad_alloc.
  HttpResponse r = raw_->get(name, "0.0", std::size_t{1} << 50);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.data_size, 400u);
  EXPECT_FALSE(r.alloc_failed);
}

TEST_F(S3Hostile, CreatingChunksOverFiveGibIsRefusedBeforeAnything) {
  const std::string name = s3_dataset_name("hugecreate");
  buckets_.push_back(name);
  // Past the core's max_chunk_bytes, so the store's own limit is what speaks.
  auto options = store_.config.options;
  options["max_chunk_bytes"] = "10000000000000000";
  Connection con(store_.config.name, options, "s3");
  con.connect();
  try {
    (void)con.create_dataset(name, {100000, 100000, 100000}, DType::parse("|u1"),
                               {100000, 100000, 100000}, Scalar(0));
    ADD_FAILURE() << "chunks of 10^15 bytes accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("5 GiB"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  EXPECT_FALSE(con_->has_dataset(name));
  EXPECT_EQ(raw_->keys(name), std::vector<std::string>{}) << "a bucket was made";
}

TEST_F(S3Hostile, CorruptMetadataHeadersAreIoErrorsNamingTheDataset) {
  const std::string name = make_full("corrupt");
  const std::vector<std::pair<std::string, std::string>> corruptions = {
      {"shape", "abc"},
      {"shape", "-1::100"},
      {"dtype", "<f999"},
      {"dtype", "?"},
      {"fillvalue", "nan("},
      {"chunk-size", "0::10"},
      {"chunk-size", "10::10::10"},
      {"chunk-grid", "3::3"},
  };
  for (const auto& [field, value] : corruptions) {
    auto record = good_record();
    record[field] = value;
    ASSERT_EQ(raw_->set_record(name, record), 200) << field;
    expect_io_error(name, [&] { (void)con_->get_dataset(name); });
    // The other datasets stay listed and readable.
    EXPECT_NO_THROW((void)con_->list_datasets()) << field << "=" << value.substr(0, 40);
  }
  auto record = good_record();
  record.erase("chunk-size");
  ASSERT_EQ(raw_->set_record(name, record), 200);
  expect_io_error(name, [&] { (void)con_->get_dataset(name); }, "chunk_size");
}

TEST_F(S3Hostile, WrongSizeChunkObjectsAreIoErrorsNamingDatasetAndChunk) {
  const std::string name = make_full("wrongsize");
  Dataset ds = con_->get_dataset(name);
  for (const std::string& body : {std::string(3, 'x'), std::string(401, 'x'), std::string()}) {
    ASSERT_EQ(raw_->put(name, "1.2", body), 200);
    expect_io_error(name, [&] { (void)ds.read(); }, "chunk 1.2 holds " + std::to_string(body.size()));
    expect_io_error(name, [&] { (void)ds.read(Selection::parse("10:12,20:22")); }, "1.2");
  }
}

TEST_F(S3Hostile, MissingOrForeignObjectsAreTypedNeverAnotherDatasetsData) {
  const std::string name = make_full("missing");
  Dataset ds = con_->get_dataset(name);
  // A chunk object gone reads as the fill value (the layout cannot tell it
  // from one never written) and is no longer counted.
  ASSERT_EQ(raw_->remove(name, "3.4"), 204);
  EXPECT_EQ(ds.stored_chunks(), 99);
  EXPECT_EQ(ds.read(Selection::parse("30:31,40:41")).values<float>()[0], 0.0f);
  EXPECT_EQ(ds.read(Selection::parse("30:31,50:51")).values<float>()[0], 3050.0f);

  // A dataset_root that is not the signature -- another body, or 65 MiB of
  // it, more than any reply text is allowed -- is not a dataset: not listed,
  // DatasetNotFound naming it, not downloaded whole.
  for (const std::string& body : {std::string("DosNa Dataset, not"), std::string((65u << 20) + 1, 'x')}) {
    ASSERT_EQ(raw_->put(name, "dataset_root", body), 200);
    const auto names = con_->list_datasets();
    EXPECT_EQ(std::find(names.begin(), names.end(), name), names.end()) << body.size();
    EXPECT_FALSE(con_->has_dataset(name)) << body.size();
    try {
      (void)con_->get_dataset(name);
      ADD_FAILURE() << "a dataset_root of " << body.size() << " bytes opened";
    } catch (const DatasetNotFound& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  // No dataset_root: the same; rm says so and leaves the bucket's objects.
  ASSERT_EQ(raw_->remove(name, "dataset_root"), 204);
  EXPECT_FALSE(con_->has_dataset(name));
  EXPECT_THROW(con_->del_dataset(name), DatasetNotFound);
  EXPECT_EQ(raw_->head(name, "0.0"), 200);

  // The bucket gone behind an open handle: DatasetNotFound naming the
  // dataset on read and write, never the fill value.
  raw_->drop_bucket(name);
  try {
    (void)ds.read();
    ADD_FAILURE() << "read of a dataset whose bucket is gone succeeded";
  } catch (const DatasetNotFound& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  EXPECT_THROW(ds.write(Selection::parse("0:10,0:10"), Scalar(1)), DatasetNotFound);
}

TEST_F(S3Hostile, StrayKeysAreNeitherCountedNorDeleted) {
  const std::string name = s3_dataset_name("stray");
  buckets_.push_back(name);
  Dataset ds = con_->create_dataset(name, {4, 4, 4}, DType::parse("|u1"), {2, 2, 2}, Scalar(7));
  NdArray block = NdArray::uninitialized(DType::parse("|u1"), {2, 2, 2});
  for (auto& b : block.values<std::uint8_t>()) b = 1;
  ds.write(Selection::parse("0:2,0:2,0:2"), block.view());
  const std::vector<std::string> stray = {"9.9.9", "00.0.0", "0.0", "1.1.1.1", "-1.0.0",
                                          "1.1.1x", "notes.txt", "a/b"};
  for (const auto& k : stray) ASSERT_EQ(raw_->put(name, k, "not dosna's"), 200) << k;
  EXPECT_EQ(ds.stored_chunks(), 1);
  EXPECT_EQ(ds.read().values<std::uint8_t>()[0], 1);

  std::vector<std::string> warnings;
  std::mutex mutex;
  WarningHandler old = set_warning_handler([&](const std::string& m) {
    std::lock_guard lock(mutex);
    warnings.push_back(m);
  });
  EXPECT_NO_THROW(con_->del_dataset(name));
  set_warning_handler(std::move(old));
  EXPECT_FALSE(con_->has_dataset(name));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("not DosNa's"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("8 object(s)"), std::string::npos) << warnings[0];
  auto left = raw_->keys(name);
  std::sort(left.begin(), left.end());
  auto want = stray;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(left, want) << "rm deleted objects that are not DosNa's, or left DosNa's";

  // Keys named like chunks of a new dataset keep it from being created there.
  try {
    con_->create_dataset(name, {4, 4, 4}, DType::parse("|u1"), {2, 2, 2}, Scalar(7));
    ADD_FAILURE() << "a dataset was created over stray chunk-like keys";
  } catch (const AlreadyExists& e) {
    EXPECT_NE(std::string(e.what()).find("9.9.9"), std::string::npos) << e.what();
  }
  // Foreign keys that cannot be chunks do not.
  for (const char* k : {"9.9.9", "0.0", "1.1.1.1"}) EXPECT_EQ(raw_->remove(name, k), 204) << k;
  Dataset again = con_->create_dataset(name, {4, 4, 4}, DType::parse("|u1"), {2, 2, 2}, Scalar(7));
  EXPECT_EQ(again.stored_chunks(), 0);
  EXPECT_EQ(again.read().values<std::uint8_t>()[0], 7);
  EXPECT_EQ(raw_->head(name, "notes.txt"), 200);
}

}  // namespace
}  // namespace dosna::testing
