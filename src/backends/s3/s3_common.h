// What the s3 backend (s3_backend.cc) and the s3 byte-key store
// (s3_kvstore.cc) share on top of the transport: the bucket naming rule of
// docs/format.md, the live connection and its error mapping, and paginated
// ListObjectsV2.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/s3/s3_config.h"
#include "backends/s3/s3_transport.h"

namespace dosna::s3 {

// The bucket of a dataset name (docs/format.md): `_` -> `-`, upper -> lower case.
std::string bucket_of(std::string_view dataset);

// Why `bucket` breaks S3's bucket naming rules, or "" if it does not.
std::string bucket_problem(const std::string& bucket);

// "/bucket/<key percent-encoded, its slashes kept>".
std::string object_path(const std::string& bucket, std::string_view key);

// Whether `r` is S3's 404 NoSuchBucket.
bool no_such_bucket(const HttpResponse& r);

// The connection of a backend or store and what its operations share: the
// live transport, so that an operation fails with ConnectionError once it
// was disconnected.
struct S3State {
  std::string label;
  Options options;
  std::string who = "s3 backend";  // message prefix: "<who> '<label>'"
  std::mutex mutex;
  std::shared_ptr<const S3Settings> settings;  // of the current connection
  std::shared_ptr<Transport> transport;
  // Whether If-Match carries the ETag with its quotes (see S3ChunkStore::update).
  std::atomic<bool> quoted_if_match{false};

  // Resolves the settings, probes the endpoint with ListBuckets and makes
  // the transport live. Throws as resolve_settings does, or the typed error
  // of a refused probe.
  void open();
  // Drops the transport; operations in flight keep theirs.
  void close() noexcept;
  bool is_open();

  // The live transport; ConnectionError once closed.
  std::shared_ptr<Transport> live();
  std::string where() const { return who + " '" + label + "'"; }
  std::shared_ptr<const S3Settings> current_settings();

  // Throws the typed error for a failed response. `what` names the dataset,
  // bucket and operation ("dataset 'a' (bucket 'a'): PUT 0.1.2").
  [[noreturn]] void fail(const HttpResponse& r, const std::string& what);
};

struct Listing {
  std::vector<std::string> keys;      // <Contents><Key>, every page
  std::vector<std::string> prefixes;  // <CommonPrefixes><Prefix> when delimited
};

// Every key of `bucket` starting with `prefix` (ListObjectsV2, all pages);
// with `delimited`, keys holding a '/' after the prefix are rolled up into
// `prefixes`. nullopt when the bucket does not exist. `what` names the bucket
// in messages ("dataset 'a' (bucket 'a')").
std::optional<Listing> list_objects(S3State& state, const std::string& bucket, std::string_view prefix,
                                    bool delimited, const std::string& what);

// The PUT creating `bucket` in the connection's region.
HttpRequest create_bucket_request(S3State& state, const std::string& bucket);

// The buckets of the endpoint (ListBuckets), in the reply's order.
std::vector<std::string> list_buckets(S3State& state);

}  // namespace dosna::s3
