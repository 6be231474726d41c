// The s3 backend: the layout of docs/format.md, S3 section (a bucket per dataset,
// `dataset_root` holding the signature and the metadata as x-amz-meta-*
// headers, chunk keys "i.j.k"), over the libcurl transport in s3_transport.h.
//
// Reads never write: a missing chunk is a 404, answered as nullptr. Batched
// reads and writes hand all their requests to the transport at once, which
// keeps up to max_in_flight of them on the wire.
//
// A bucket may hold objects that are not DosNa's (another tool's, a stray
// `notes.txt` or `9.9.9`): only the layout's keys -- `dataset_root` and the
// canonical "i.j.k" of an index inside the chunk grid, and the attributes
// object `dosna_attributes.json` -- are counted, read or deleted.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "backends/s3/s3_common.h"
#include "backends/s3/s3_config.h"
#include "backends/s3/s3_transport.h"
#include "backends/s3/s3_xml.h"
#include "core/builtin.h"
#include "core/metadata_codec.h"
#include "dosna/errors.h"
#include "dosna/warnings.h"

namespace dosna {
namespace {

using s3::bucket_of;
using s3::bucket_problem;
using s3::no_such_bucket;
using s3::object_path;
using s3::S3State;
using s3::HttpRequest;
using s3::HttpResponse;
using s3::S3Settings;
using s3::Transport;

constexpr const char* kRootKey = "dataset_root";
constexpr const char* kMetaPrefix = "x-amz-meta-";
// S3 takes at most 5 GiB in one PUT: a chunk object can never be larger, so
// a record declaring larger chunks is refused before anything is allocated.
constexpr std::size_t kMaxChunkBytes = std::size_t{5} << 30;

// Metadata header names: docs/format.md uses hyphens on S3 ("chunk-grid").
std::string meta_header_name(const std::string& field) {
  std::string out = field;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

// The chunk index a key of the layout names: the canonical "i.j.k" (no sign,
// no leading zero) of rank `grid.size()` inside `grid`; an empty grid (the
// record is unreadable) accepts any rank and extent. nullopt for any other key.
std::optional<ChunkIndex> layout_index(std::string_view key, const Shape& grid) {
  const std::size_t ndim =
      grid.empty() ? static_cast<std::size_t>(std::count(key.begin(), key.end(), '.')) + 1 : grid.size();
  auto index = codec::split_index(key, '.', ndim);
  if (!index || codec::join_index(*index, '.') != key) return std::nullopt;
  for (std::size_t d = 0; d < grid.size(); ++d) {
    if ((*index)[d] >= grid[d]) return std::nullopt;
  }
  return index;
}

// GET of a bucket's dataset_root. A body longer than the signature is not
// one: no more of it than 64 bytes is received (a hostile 1 GB dataset_root
// is read as "not a dataset", not downloaded).
HttpRequest get_root(const std::string& bucket) {
  return HttpRequest{.method = "GET", .path = object_path(bucket, kRootKey), .expect_bytes = 64};
}

// "a, b, c and 7 more"
std::string some_of(const std::vector<std::string>& names, std::size_t shown = 5) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) {
    out += (i ? ", " : "") + std::string("'") + names[i].substr(0, 64) + "'";
  }
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

class S3ChunkStore final : public ChunkStore {
 public:
  S3ChunkStore(std::shared_ptr<S3State> state, std::string dataset, const DatasetMeta& meta)
      : state_(std::move(state)),
        dataset_(std::move(dataset)),
        bucket_(bucket_of(dataset_)),
        ndim_(meta.shape.size()),
        nbytes_(meta.chunk_nbytes()),
        grid_(meta.chunk_grid()) {}

  ChunkData get(const ChunkIndex& index) override {
    ChunkData out;
    get_many(std::span(&index, 1), std::span(&out, 1));
    return out;
  }

  void put(const ChunkIndex& index, ChunkData data) override {
    put_many(std::span(&index, 1), std::span(&data, 1));
  }

  bool has(const ChunkIndex& index) override {
    const std::string key = key_of(index);
    HttpResponse r = state_->live()->run(HttpRequest{.method = "HEAD", .path = object_path(bucket_, key)});
    if (r.ok()) return true;
    if (r.status == 404) return false;
    state_->fail(r, what("HEAD " + key));
  }

  bool remove(const ChunkIndex& index) override {
    if (!has(index)) return false;
    const std::string key = key_of(index);
    HttpResponse r = state_->live()->run(HttpRequest{.method = "DELETE", .path = object_path(bucket_, key)});
    if (r.ok() || r.status == 404) return true;
    state_->fail(r, what("DELETE " + key));
  }

  std::vector<ChunkIndex> list() override {
    std::vector<ChunkIndex> out;
    for (const auto& key : list_keys(*state_, bucket_, dataset_)) {
      if (auto idx = layout_index(key, grid_)) out.push_back(std::move(*idx));
    }
    return out;
  }

  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    auto transport = state_->live();
    std::vector<HttpRequest> requests;
    requests.reserve(indices.size());
    for (const auto& index : indices) {
      requests.push_back(HttpRequest{.method = "GET",
                                     .path = object_path(bucket_, key_of(index)),
                                     .expect_bytes = nbytes_});
    }
    auto responses = transport->run(std::move(requests));
    for (std::size_t i = 0; i < responses.size(); ++i) {
      out[i] = take_chunk(responses[i], indices[i], nbytes_, "GET ");
    }
  }

  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    auto transport = state_->live();
    std::vector<HttpRequest> requests;
    requests.reserve(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const std::string key = key_of(indices[i]);
      if (!data[i] || data[i]->size() != nbytes_) {
        throw InvalidArgument(where_dataset() + ": chunk " + key + " payload has " +
                              std::to_string(data[i] ? data[i]->size() : 0) + " bytes, expected " +
                              std::to_string(nbytes_));
      }
      requests.push_back(HttpRequest{.method = "PUT",
                                     .path = object_path(bucket_, key),
                                     .headers = {"Content-Type: application/octet-stream"},
                                     .body = data[i]});
    }
    auto responses = transport->run(std::move(requests));
    for (std::size_t i = 0; i < responses.size(); ++i) {
      const HttpResponse& r = responses[i];
      if (r.ok()) continue;
      if (no_such_bucket(r)) throw DatasetNotFound(where_dataset() + ": bucket does not exist");
      state_->fail(r, what("PUT " + key_of(indices[i])));
    }
  }

  // A partial read of a chunk is one Range GET spanning the ranges asked of
  // it (S3 serves one range per request), the chunks of a batch in flight
  // together; the requested ranges are then cut out of each span.
  bool reads_ranges() const override { return true; }

  void get_ranges_many(std::span<const ChunkIndex> indices,
                       std::span<const std::vector<ByteRange>> ranges,
                       std::span<ChunkData> out) override {
    std::vector<ByteRange> spans(indices.size());
    std::vector<HttpRequest> requests;
    requests.reserve(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
      std::size_t lo = nbytes_, hi = 0;
      for (const auto& r : ranges[i]) {
        if (r.offset > nbytes_ || r.length > nbytes_ - r.offset) {
          throw InvalidArgument(where_dataset() + ": byte range [" + std::to_string(r.offset) +
                                ", " + std::to_string(r.offset + r.length) +
                                ") outside the chunk of " + std::to_string(nbytes_) + " bytes");
        }
        if (r.length == 0) continue;
        lo = std::min(lo, r.offset);
        hi = std::max(hi, r.offset + r.length);
      }
      if (hi <= lo) lo = hi = 0;
      spans[i] = ByteRange{lo, hi - lo};
      const std::string path = object_path(bucket_, key_of(indices[i]));
      if (spans[i].length == 0) {  // no bytes wanted: only whether it exists
        requests.push_back(HttpRequest{.method = "HEAD", .path = path});
      } else {
        requests.push_back(HttpRequest{.method = "GET",
                                       .path = path,
                                       .expect_bytes = spans[i].length,
                                       .ranged = spans[i].length != nbytes_,
                                       .range_offset = lo});
      }
    }
    auto responses = state_->live()->run(std::move(requests));
    for (std::size_t i = 0; i < indices.size(); ++i) {
      check_object_size(responses[i], indices[i]);
      ChunkData span = take_chunk(responses[i], indices[i], spans[i].length, "GET (range) ");
      out[i] = span ? cut_ranges(std::move(span), spans[i].offset, ranges[i]) : nullptr;
    }
  }

  // A conditional write: PUT with If-Match: <ETag read> (If-None-Match: *
  // when the chunk was absent) and, on 412, read and modify again, so that
  // writers in other processes never lose each other's updates. radosgw 16
  // matches only the unquoted ETag on PUT, AWS documents the quoted one: the
  // form is switched once if the server refuses an ETag that did not change.
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    const std::string key = key_of(index);
    constexpr int kAttempts = 16;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      auto transport = state_->live();
      HttpResponse got = transport->run(
          HttpRequest{.method = "GET", .path = object_path(bucket_, key), .expect_bytes = nbytes_});
      const auto etag_it = got.headers.find("etag");
      const std::string etag = etag_it == got.headers.end() ? "" : etag_it->second;
      ChunkData current = take_chunk(got, index, nbytes_, "GET ");
      ChunkData next = modify(current);
      if (!next || next->size() != nbytes_) {
        throw InvalidArgument(where_dataset() + ": update of chunk " + key + " produced " +
                              std::to_string(next ? next->size() : 0) + " bytes, expected " +
                              std::to_string(nbytes_));
      }
      HttpRequest put{.method = "PUT",
                      .path = object_path(bucket_, key),
                      .headers = {"Content-Type: application/octet-stream"},
                      .body = next};
      const bool quoted = state_->quoted_if_match.load();
      if (!current) {
        put.headers.push_back("If-None-Match: *");
      } else if (!etag.empty()) {
        put.headers.push_back("If-Match: " + (quoted ? etag : unquote(etag)));
      }
      HttpResponse r = transport->run(std::move(put));
      if (r.ok()) return;
      if (r.status == 412) {
        if (current && !etag.empty() && attempt > 0 && etag == last_refused_etag_of(index)) {
          state_->quoted_if_match = !quoted;  // same ETag refused twice: other form
        }
        remember_refused(index, etag);
        continue;
      }
      if (no_such_bucket(r)) throw DatasetNotFound(where_dataset() + ": bucket does not exist");
      state_->fail(r, what("PUT " + key + " (conditional)"));
    }
    throw IoError(where_dataset() + ": chunk " + key + " kept changing under a conditional write (" +
                  std::to_string(kAttempts) + " attempts)");
  }

  // Every key of a bucket; DatasetNotFound when the bucket does not exist.
  static std::vector<std::string> list_keys(S3State& state, const std::string& bucket,
                                            const std::string& dataset) {
    const std::string what = "dataset '" + dataset + "' (bucket '" + bucket + "')";
    auto listing = s3::list_objects(state, bucket, "", false, what);
    if (!listing) throw DatasetNotFound(state.where() + ": " + what + " does not exist");
    return std::move(listing->keys);
  }

 private:
  std::string key_of(const ChunkIndex& index) const {
    if (index.size() != ndim_) {
      throw InvalidArgument(where_dataset() + ": chunk index of rank " +
                            std::to_string(index.size()) + ", expected " + std::to_string(ndim_));
    }
    for (std::size_t d = 0; d < ndim_; ++d) {
      if (index[d] < 0 || index[d] >= grid_[d]) {
        throw InvalidArgument(where_dataset() + ": chunk index " + codec::join_index(index, '.') +
                              " outside the chunk grid " + codec::format_ints(grid_));
      }
    }
    return codec::join_index(index, '.');
  }

  static std::string unquote(const std::string& etag) {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
    return etag;
  }
  std::string last_refused_etag_of(const ChunkIndex& index) {
    std::lock_guard lock(refused_mutex_);
    auto it = refused_.find(index);
    return it == refused_.end() ? "" : it->second;
  }
  void remember_refused(const ChunkIndex& index, const std::string& etag) {
    std::lock_guard lock(refused_mutex_);
    if (refused_.size() > 1024) refused_.clear();
    refused_[index] = etag;
  }

  std::string where_dataset() const {
    return state_->where() + ": dataset '" + dataset_ + "' (bucket '" + bucket_ + "')";
  }
  std::string what(const std::string& op) const {
    return "dataset '" + dataset_ + "' (bucket '" + bucket_ + "'): " + op;
  }

  // A ranged GET's Content-Range names the object's size: a short object is
  // corrupt, not a range.
  void check_object_size(const HttpResponse& r, const ChunkIndex& index) const {
    const auto it = r.headers.find("content-range");
    if (r.status != 206 || it == r.headers.end()) return;
    const auto slash = it->second.rfind('/');
    if (slash != std::string::npos && it->second.substr(slash + 1) != std::to_string(nbytes_)) {
      throw IoError(where_dataset() + ": chunk " + key_of(index) + " holds " +
                    it->second.substr(slash + 1) + " bytes, expected " + std::to_string(nbytes_));
    }
  }

  // The bytes of `ranges` (chunk offsets), concatenated, out of `span`, which
  // holds the chunk's bytes from `span_offset` on.
  static ChunkData cut_ranges(ChunkData span, std::size_t span_offset,
                              const std::vector<ByteRange>& ranges) {
    if (ranges.size() == 1 && ranges[0].length == span->size()) return span;
    std::size_t total = 0;
    for (const auto& r : ranges) total += r.length;
    auto part = Buffer::allocate(total);
    std::size_t pos = 0;
    for (const auto& r : ranges) {
      if (r.length) std::memcpy(part->data() + pos, span->data() + (r.offset - span_offset), r.length);
      pos += r.length;
    }
    return part;
  }

  ChunkData take_chunk(HttpResponse& r, const ChunkIndex& index, std::size_t expected,
                       const char* op) const {
    if (r.status >= 200 && r.status < 300 && r.alloc_failed) {
      throw IoError(where_dataset() + ": chunk " + codec::join_index(index, '.') +
                        ": cannot allocate " + std::to_string(expected) +
                        " bytes for it (the chunk size its record declares)",
                    static_cast<int>(r.status));
    }
    if (r.ok()) {
      if (r.overflow || r.data_size != expected || (expected > 0 && !r.data)) {
        const std::string held = r.declared_bytes >= 0 ? std::to_string(r.declared_bytes)
                                 : r.overflow         ? "more than " + std::to_string(expected)
                                                      : std::to_string(r.data_size);
        throw IoError(where_dataset() + ": chunk " + codec::join_index(index, '.') + " holds " +
                          held + " bytes, expected " + std::to_string(expected),
                      static_cast<int>(r.status));
      }
      if (!r.data) return Buffer::allocate(0);
      return std::move(r.data);
    }
    if (r.status == 404) {
      if (no_such_bucket(r)) throw DatasetNotFound(where_dataset() + ": bucket does not exist");
      return nullptr;
    }
    state_->fail(r, what(op + codec::join_index(index, '.')));
  }

  std::shared_ptr<S3State> state_;
  std::mutex refused_mutex_;
  std::map<ChunkIndex, std::string> refused_;  // last ETag a conditional PUT was refused with
  std::string dataset_;
  std::string bucket_;
  std::size_t ndim_;
  std::size_t nbytes_;
  Shape grid_;
};

class S3Backend final : public Backend {
 public:
  S3Backend(const std::string& name, const Options& options) : state_(std::make_shared<S3State>()) {
    state_->label = name;
    state_->options = options;
    // Option errors surface now; missing credentials wait for connect().
    try {
      (void)s3::resolve_settings(name, options);
    } catch (const InvalidArgument&) {
      throw;
    } catch (const Error&) {
    }
  }

  ~S3Backend() override { disconnect(); }

  std::string_view kind() const override { return "s3"; }
  const std::string& name() const override { return state_->label; }

  void connect() override {
    std::lock_guard connect_lock(connect_mutex_);
    if (connected()) return;
    state_->open();
  }

  void disconnect() noexcept override { state_->close(); }

  bool connected() const override { return state_->is_open(); }

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    meta.validate(dataset);
    const std::string bucket = bucket_of(dataset);
    if (auto why = bucket_problem(bucket); !why.empty()) {
      throw InvalidArgument(state_->where() + ": dataset name '" + dataset + "' cannot be an S3 bucket ('" +
                            bucket + "' " + why + ")");
    }
    if (meta.chunk_nbytes() > kMaxChunkBytes) {
      throw InvalidArgument(state_->where() + ": dataset '" + dataset + "': chunks of " +
                            std::to_string(meta.chunk_nbytes()) +
                            " bytes are larger than the 5 GiB S3 takes in one PUT");
    }
    if (read_dataset(dataset)) {
      throw AlreadyExists(state_->where() + ": dataset '" + dataset + "' (bucket '" + bucket +
                          "') already exists");
    }
    auto transport = state_->live();
    const std::string what = "dataset '" + dataset + "' (bucket '" + bucket + "'): ";
    HttpResponse r = transport->run(s3::create_bucket_request(*state_, bucket));
    if (!r.ok()) {
      const auto code = s3::parse_error(r.text).first;
      if (code == "BucketAlreadyExists") {
        throw AlreadyExists(state_->where() + ": " + what + "the bucket name is taken by another account");
      }
      if (code == "InvalidBucketName") {
        throw InvalidArgument(state_->where() + ": " + what + "the store refuses this bucket name");
      }
      if (code != "BucketAlreadyOwnedByYou") state_->fail(r, what + "create bucket");
    }
    // The bucket may have been ours already (S3 answers 200 or
    // BucketAlreadyOwnedByYou): keys in it that would read as chunks of the
    // new dataset (another tool's, an old dataset's) must not become its data.
    std::vector<std::string> stale;
    for (const auto& key : S3ChunkStore::list_keys(*state_, bucket, dataset)) {
      if (layout_index(key, {})) stale.push_back(key);
    }
    if (!stale.empty()) {
      throw AlreadyExists(state_->where() + ": " + what + "the bucket exists and holds " +
                          std::to_string(stale.size()) + " object(s) named like chunks (" +
                          some_of(stale) + "); remove them or pick another name");
    }
    put_root(bucket, meta, what);
  }

  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    const std::string bucket = bucket_of(dataset);
    if (!bucket_problem(bucket).empty()) return std::nullopt;
    HttpResponse r = state_->live()->run(get_root(bucket));
    if (r.status == 404) return std::nullopt;
    if (!r.ok()) state_->fail(r, "dataset '" + dataset + "' (bucket '" + bucket + "'): GET dataset_root");
    if (!is_signature(r)) return std::nullopt;
    std::map<std::string, std::string> fields;
    for (const char* field : {codec::kShape, codec::kDtype, codec::kFillvalue, codec::kChunkGrid,
                              codec::kChunkSize}) {
      auto it = r.headers.find(kMetaPrefix + meta_header_name(field));
      if (it != r.headers.end()) fields[field] = it->second;
    }
    DatasetMeta meta;
    try {
      meta = codec::decode(fields, dataset);
    } catch (const IoError& e) {
      throw IoError(state_->where() + ": " + e.what());
    }
    if (meta.chunk_nbytes() > kMaxChunkBytes) {
      throw IoError(state_->where() + ": dataset '" + dataset + "' (bucket '" + bucket +
                    "'): corrupt metadata: chunk-size " + codec::format_ints(meta.chunk_size) +
                    " declares chunks of " + std::to_string(meta.chunk_nbytes()) +
                    " bytes, more than the 5 GiB S3 takes in one PUT");
    }
    return meta;
  }

  // Deletes the layout's keys only: the chunks (any the core's clear() left),
  // then dataset_root -- from then on the dataset is gone -- then the
  // bucket. Objects that are not DosNa's stay, and so does the bucket holding
  // them (with a warning). A record that cannot be parsed still names a
  // DosNa dataset: its chunks are then every "i.j.k" key.
  void delete_dataset(const std::string& dataset) override {
    const std::string bucket = bucket_of(dataset);
    const std::string what = "dataset '" + dataset + "' (bucket '" + bucket + "'): ";
    Shape grid;
    try {
      auto meta = read_dataset(dataset);
      if (!meta) throw DatasetNotFound(state_->where() + ": dataset '" + dataset + "' does not exist");
      grid = meta->chunk_grid();
    } catch (const IoError&) {
      if (!has_signature(bucket)) throw;
    }
    auto transport = state_->live();
    for (int round = 0;; ++round) {
      std::vector<std::string> foreign;
      std::vector<HttpRequest> deletes;
      bool has_root = false;
      for (const auto& key : S3ChunkStore::list_keys(*state_, bucket, dataset)) {
        if (key == kRootKey) {
          has_root = true;
        } else if (key == codec::kAttributesObject || layout_index(key, grid)) {
          deletes.push_back(HttpRequest{.method = "DELETE", .path = object_path(bucket, key)});
        } else {
          foreign.push_back(key);
        }
      }
      for (auto& r : transport->run(std::move(deletes))) {
        if (!r.ok() && r.status != 404) state_->fail(r, what + "delete chunk");
      }
      if (has_root) {
        HttpResponse r = transport->run(HttpRequest{.method = "DELETE", .path = object_path(bucket, kRootKey)});
        if (!r.ok() && r.status != 404) state_->fail(r, what + "DELETE dataset_root");
      }
      if (!foreign.empty()) {
        warn(state_->where() + ": " + what + "removed; the bucket is kept: it holds " +
             std::to_string(foreign.size()) + " object(s) that are not DosNa's (" + some_of(foreign) + ")");
        return;
      }
      HttpResponse r = transport->run(HttpRequest{.method = "DELETE", .path = "/" + bucket});
      if (r.ok() || r.status == 404) return;
      // A writer raced us and the bucket is not empty yet: sweep again.
      if (r.status == 409 && round < 3) continue;
      // The dataset is gone already (no dataset_root): only the bucket stays.
      try {
        state_->fail(r, what + "removed, but DELETE bucket failed");
      } catch (const Error& e) {
        warn(e.what());
      }
      return;
    }
  }

  std::vector<std::string> list_datasets() override {
    auto transport = state_->live();
    std::vector<std::string> buckets = s3::list_buckets(*state_);
    // A name no dataset can have (another tool's, or a hostile reply's) is
    // not asked for.
    std::erase_if(buckets, [](const std::string& b) { return !bucket_problem(b).empty(); });
    // Only buckets holding a dataset_root with the signature are datasets.
    std::vector<HttpRequest> heads;
    for (const auto& b : buckets) {
      heads.push_back(get_root(b));
    }
    auto replies = transport->run(std::move(heads));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (is_signature(replies[i])) {
        out.push_back(buckets[i]);
      } else if (!replies[i].ok() && replies[i].status != 404 && replies[i].status != 403) {
        state_->fail(replies[i], "bucket '" + buckets[i] + "': GET dataset_root");
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override {
    state_->live();
    return std::make_shared<S3ChunkStore>(state_, dataset, meta);
  }

  std::string read_attributes(const std::string& dataset) override {
    const std::string bucket = existing_bucket(dataset);
    HttpResponse r = state_->live()->run(
        HttpRequest{.method = "GET", .path = object_path(bucket, codec::kAttributesObject)});
    if (r.status == 404) return "{}";
    if (!r.ok()) state_->fail(r, "dataset '" + dataset + "': GET " + codec::kAttributesObject);
    return r.text;
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    const std::string bucket = existing_bucket(dataset);
    HttpResponse r = state_->live()->run(HttpRequest{.method = "PUT",
                                                     .path = object_path(bucket, codec::kAttributesObject),
                                                     .headers = {"Content-Type: application/json"},
                                                     .body_text = json_object});
    if (!r.ok()) state_->fail(r, "dataset '" + dataset + "': PUT " + codec::kAttributesObject);
  }
  // One PUT of dataset_root with the new metadata headers: atomic.
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    const std::string bucket = existing_bucket(dataset);
    put_root(bucket, meta, "dataset '" + dataset + "' (bucket '" + bucket + "'): ");
  }

 private:
  std::string existing_bucket(const std::string& dataset) {
    if (!read_dataset(dataset))
      throw DatasetNotFound(state_->where() + ": dataset '" + dataset + "' does not exist");
    return bucket_of(dataset);
  }

  // PUT of dataset_root: the signature and `meta` as x-amz-meta-* headers.
  void put_root(const std::string& bucket, const DatasetMeta& meta, const std::string& what) {
    HttpRequest root{.method = "PUT",
                     .path = object_path(bucket, kRootKey),
                     .headers = {"Content-Type: binary/octet-stream"},
                     .body_text = std::string(codec::kSignature)};
    for (const auto& [field, value] : codec::encode(meta)) {
      for (char c : value) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
          throw InvalidArgument(state_->where() + ": " + what + "metadata field " + field +
                                " is not printable ASCII");
        }
      }
      root.headers.push_back(kMetaPrefix + meta_header_name(field) + ": " + value);
    }
    HttpResponse r = state_->live()->run(std::move(root));
    if (!r.ok()) state_->fail(r, what + "PUT dataset_root");
  }

  // Whether a reply to get_root() holds the signature.
  static bool is_signature(const HttpResponse& r) {
    if (!r.ok() || r.overflow) return false;
    const std::string_view body(r.data ? reinterpret_cast<const char*>(r.data->data()) : "", r.data_size);
    return body == codec::kSignature;
  }

  bool has_signature(const std::string& bucket) {
    return is_signature(state_->live()->run(get_root(bucket)));
  }

  std::shared_ptr<S3State> state_;
  std::mutex connect_mutex_;
};

}  // namespace

namespace builtin {

std::shared_ptr<Backend> make_s3_backend(const std::string& name, const Options& options) {
  return std::make_shared<S3Backend>(name, options);
}

}  // namespace builtin
}  // namespace dosna
