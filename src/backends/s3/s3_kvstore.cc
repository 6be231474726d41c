// The s3 byte-key store: key `vol/c/0/0/0` is object `c/0/0/0` of bucket
// `vol` (the first part goes through the dataset -> bucket rule of
// docs/format.md, so keys come back listed under the bucket's name). A put to
// a missing bucket creates it. Generation = the ETag; a conditional put is
// If-Match / If-None-Match: * (ETags hash the content, so a stale generation
// of identical bytes still matches). Ranged reads use the Range header
// (`bytes=a-b`, `bytes=a-`, `bytes=-n`), the total size from Content-Range.
// Batched forms hand every request to the transport at once.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>

#include "backends/s3/s3_common.h"
#include "backends/s3/s3_xml.h"
#include "core/builtin.h"
#include "dosna/errors.h"
#include "dosna/kvstore.h"
#include "dosna/names.h"

namespace dosna {
namespace {

using s3::HttpRequest;
using s3::HttpResponse;

// S3 takes at most 5 GiB in one PUT: no value is larger.
constexpr std::size_t kMaxValueBytes = std::size_t{5} << 30;

struct Location {
  std::string bucket;
  std::string object;
  std::string path;
};

std::string header(const HttpResponse& r, const char* name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

std::string unquote(const std::string& etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

// The total of "bytes a-b/total"; nullopt if absent or "*".
std::optional<std::uint64_t> content_range_total(const HttpResponse& r) {
  const std::string cr = header(r, "content-range");
  const auto slash = cr.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::uint64_t v = 0;
  const char* b = cr.data() + slash + 1;
  const auto [end, ec] = std::from_chars(b, cr.data() + cr.size(), v);
  if (ec != std::errc() || end != cr.data() + cr.size()) return std::nullopt;
  return v;
}

class S3KvStore final : public KvStore {
 public:
  S3KvStore(const std::string& name, const Options& options) : state_(std::make_shared<s3::S3State>()) {
    state_->label = name;
    state_->options = options;
    state_->who = "s3 store";
    state_->open();
  }
  ~S3KvStore() override { close(); }

  std::string_view kind() const override { return "s3"; }
  std::string describe() const override {
    const auto s = state_->current_settings();
    return "s3 " + (s ? s->endpoint_url : state_->label);
  }
  // The first part of the prefix is the bucket, the array is at its root.
  std::string location(std::string_view prefix) const override {
    const auto slash = prefix.find('/');
    const std::string bucket = s3::bucket_of(prefix.substr(0, slash));
    std::string rest = slash == std::string_view::npos ? "" : std::string(prefix.substr(slash + 1));
    const auto s = state_->current_settings();
    return "s3://" + bucket + (rest.empty() ? "" : "/" + rest) + " at " +
           (s ? s->endpoint_url : state_->label);
  }

  ReadResult get(std::string_view key, const ReadRange& range) override {
    return get_as_batch(key, range);
  }

  void get_many(std::span<const ReadRequest> requests, std::span<ReadResult> out) override {
    auto transport = state_->live();
    std::vector<Location> where;
    for (const auto& r : requests) where.push_back(locate(r.key));
    std::vector<HttpRequest> gets;
    for (std::size_t i = 0; i < requests.size(); ++i) gets.push_back(read_request(where[i], requests[i].range));
    auto replies = transport->run(std::move(gets));
    // Ranges the server answered 416 (starting at or past the end) and empty
    // ranges: the generation and size from a HEAD.
    std::vector<std::size_t> heads;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      HttpResponse& r = replies[i];
      const std::string& key = requests[i].key;
      if (r.status == 416 || (r.ok() && gets_nothing(requests[i].range))) {
        heads.push_back(i);
      } else if (r.status == 404) {
        out[i] = {};
      } else if (!r.ok()) {
        state_->fail(r, "GET " + quote(key));
      } else {
        out[i] = take_value(r, key, requests[i].range);
      }
    }
    if (heads.empty()) return;
    std::vector<HttpRequest> head_requests;
    for (std::size_t i : heads) head_requests.push_back(HttpRequest{.method = "HEAD", .path = where[i].path});
    auto head_replies = transport->run(std::move(head_requests));
    for (std::size_t n = 0; n < heads.size(); ++n) {
      const HttpResponse& r = head_replies[n];
      const std::size_t i = heads[n];
      if (r.status == 404) {
        out[i] = {};
        continue;
      }
      if (!r.ok()) state_->fail(r, "HEAD " + quote(requests[i].key));
      out[i] = {Buffer::allocate(0), Generation{header(r, "etag")},
                r.declared_bytes >= 0 ? std::optional<std::uint64_t>(r.declared_bytes) : std::nullopt};
    }
  }

  std::optional<Generation> put(std::string_view key, ChunkData value,
                                const PutCondition& condition) override {
    return put_as_batch(key, std::move(value), condition);
  }

  void put_many(std::span<const PutRequest> requests,
                std::span<std::optional<Generation>> out) override {
    auto transport = state_->live();
    std::vector<Location> where;
    for (const auto& r : requests) {
      where.push_back(locate(r.key));
      if (!r.value) throw InvalidArgument(state_->where() + ": put of key " + quote(r.key) + " without a value");
      if (r.value->size() > kMaxValueBytes)
        throw InvalidArgument(state_->where() + ": value of key " + quote(r.key) + " has " +
                              std::to_string(r.value->size()) + " bytes, more than the 5 GiB S3 takes in one PUT");
    }
    std::vector<std::size_t> pending(requests.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    // Round 1 as asked; round 2 after creating missing buckets or switching
    // the If-Match form; round 3 only for what round 2 still left.
    for (int round = 0; !pending.empty(); ++round) {
      const bool quoted = state_->quoted_if_match.load();
      std::vector<HttpRequest> puts;
      for (std::size_t i : pending) puts.push_back(put_request(where[i], requests[i], quoted));
      auto replies = transport->run(std::move(puts));
      std::set<std::string> missing_buckets;
      std::vector<std::size_t> again, refused;
      for (std::size_t n = 0; n < pending.size(); ++n) {
        const std::size_t i = pending[n];
        const HttpResponse& r = replies[n];
        if (r.ok()) {
          out[i] = Generation{header(r, "etag")};
        } else if (r.status == 412) {
          refused.push_back(i);
        } else if (s3::no_such_bucket(r) && round < 2) {
          missing_buckets.insert(where[i].bucket);
          again.push_back(i);
        } else {
          state_->fail(r, "PUT " + quote(requests[i].key));
        }
      }
      for (const auto& bucket : missing_buckets) create_bucket(*transport, bucket);
      // A 412 on If-Match while the ETag still matches means the server wants
      // the other quoting form (radosgw 16: unquoted; AWS: quoted).
      if (!refused.empty()) {
        std::vector<HttpRequest> heads;
        for (std::size_t i : refused) heads.push_back(HttpRequest{.method = "HEAD", .path = where[i].path});
        auto head_replies = transport->run(std::move(heads));
        bool switched = false;
        for (std::size_t n = 0; n < refused.size(); ++n) {
          const std::size_t i = refused[n];
          const auto& cond = requests[i].condition.if_generation;
          if (cond && !cond->absent() && head_replies[n].ok() && round < 2 &&
              header(head_replies[n], "etag") == cond->token) {
            if (!switched) state_->quoted_if_match = !quoted;
            switched = true;
            again.push_back(i);
          } else {
            out[i] = std::nullopt;
          }
        }
      }
      std::sort(again.begin(), again.end());
      pending = std::move(again);
    }
    // A PUT reply without an ETag: ask for it.
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (out[i] && out[i]->absent()) {
        HttpResponse r = transport->run(HttpRequest{.method = "HEAD", .path = where[i].path});
        if (!r.ok()) state_->fail(r, "HEAD " + quote(requests[i].key));
        out[i] = Generation{header(r, "etag")};
      }
    }
  }

  bool erase(std::string_view key) override {
    auto transport = state_->live();
    const Location loc = locate(key);
    HttpResponse head = transport->run(HttpRequest{.method = "HEAD", .path = loc.path});
    if (head.status == 404) return false;
    if (!head.ok()) state_->fail(head, "HEAD " + quote(key));
    HttpResponse r = transport->run(HttpRequest{.method = "DELETE", .path = loc.path});
    if (!r.ok() && r.status != 404) state_->fail(r, "DELETE " + quote(key));
    return true;
  }

  std::vector<std::string> list(std::string_view prefix) override {
    state_->live();
    std::vector<std::string> out;
    const auto slash = prefix.find('/');
    if (slash == std::string_view::npos) {
      const std::string start = s3::bucket_of(prefix);
      for (const auto& bucket : buckets()) {
        if (bucket.starts_with(start)) append_keys(bucket, "", out);
      }
    } else {
      const std::string bucket = s3::bucket_of(prefix.substr(0, slash));
      if (s3::bucket_problem(bucket).empty()) append_keys(bucket, prefix.substr(slash + 1), out);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> list_children(std::string_view prefix) override {
    state_->live();
    if (prefix.empty()) {
      auto out = buckets();
      std::sort(out.begin(), out.end());
      return out;
    }
    if (!prefix.ends_with('/'))
      throw InvalidArgument(state_->where() + ": list_children prefix " + quote(prefix) + " does not end in '/'");
    const auto slash = prefix.find('/');
    const std::string bucket = s3::bucket_of(prefix.substr(0, slash));
    const std::string rest(prefix.substr(slash + 1));
    if (!s3::bucket_problem(bucket).empty()) return {};
    auto listing = s3::list_objects(*state_, bucket, rest, true, "bucket " + quote(bucket));
    if (!listing) return {};
    std::set<std::string> names;
    for (const auto& k : listing->keys) names.insert(k.substr(rest.size()));
    for (const auto& p : listing->prefixes) {
      std::string name = p.substr(rest.size());
      if (name.ends_with('/')) name.pop_back();
      names.insert(std::move(name));
    }
    names.erase("");
    return {names.begin(), names.end()};
  }

  // A prefix naming a whole bucket ("vol/") removes the bucket too.
  std::size_t erase_prefix(std::string_view prefix) override {
    auto transport = state_->live();
    const std::vector<std::string> keys = list(prefix);
    std::vector<HttpRequest> deletes;
    for (const auto& k : keys) deletes.push_back(HttpRequest{.method = "DELETE", .path = locate(k).path});
    auto replies = transport->run(std::move(deletes));
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (!replies[i].ok() && replies[i].status != 404) state_->fail(replies[i], "DELETE " + quote(keys[i]));
    }
    const auto slash = prefix.find('/');
    if (slash != std::string_view::npos && slash + 1 == prefix.size()) {
      const std::string bucket = s3::bucket_of(prefix.substr(0, slash));
      if (s3::bucket_problem(bucket).empty()) {
        HttpResponse r = transport->run(HttpRequest{.method = "DELETE", .path = "/" + bucket});
        if (!r.ok() && r.status != 404 && r.status != 409) state_->fail(r, "DELETE bucket " + quote(bucket));
      }
    }
    return keys.size();
  }

  void close() noexcept override { state_->close(); }

 private:
  // The bucket and object of a key; InvalidArgument naming it otherwise.
  Location locate(std::string_view key) const {
    check_key(key);
    const auto slash = key.find('/');
    if (slash == std::string_view::npos)
      throw InvalidArgument(state_->where() + ": key " + quote(key) +
                            " names no object (an s3 key is <bucket>/<object key>)");
    Location loc{s3::bucket_of(key.substr(0, slash)), std::string(key.substr(slash + 1)), ""};
    if (auto why = s3::bucket_problem(loc.bucket); !why.empty())
      throw InvalidArgument(state_->where() + ": key " + quote(key) + ": bucket '" + loc.bucket + "' " + why);
    loc.path = s3::object_path(loc.bucket, loc.object);
    return loc;
  }

  // An empty range: read as a HEAD (a Range header cannot ask for 0 bytes).
  static bool gets_nothing(const ReadRange& range) {
    return range.offset >= 0 && range.length == std::optional<std::size_t>(0);
  }

  static HttpRequest read_request(const Location& loc, const ReadRange& range) {
    HttpRequest q{.method = "GET", .path = loc.path, .expect_bytes = kMaxValueBytes};
    if (range.is_whole()) return q;
    if (range.offset < 0) {
      q.headers.push_back("Range: bytes=-" + std::to_string(-range.offset));
    } else if (gets_nothing(range)) {
      q.method = "HEAD";
      q.expect_bytes = 0;
    } else {
      const auto begin = static_cast<std::uint64_t>(range.offset);
      std::string spec = "Range: bytes=" + std::to_string(begin) + "-";
      if (range.length && *range.length <= kMaxValueBytes) spec += std::to_string(begin + *range.length - 1);
      q.headers.push_back(spec);
    }
    return q;
  }

  // The value of a 200/206 GET reply, cut to `range` if the server sent more.
  ReadResult take_value(HttpResponse& r, const std::string& key, const ReadRange& range) {
    if (r.alloc_failed || r.overflow)
      throw IoError(state_->where() + ": GET " + quote(key) + ": the value cannot be received (" +
                        (r.alloc_failed ? "out of memory" : "larger than 5 GiB") + ")",
                    static_cast<int>(r.status));
    std::shared_ptr<Buffer> data = r.data;
    const std::size_t got = r.data_size;
    ReadResult out;
    out.generation = Generation{header(r, "etag")};
    std::size_t begin = 0, end = got;
    if (r.status == 206) {
      out.total_size = content_range_total(r);
    } else {
      out.total_size = got;
      std::tie(begin, end) = range.within(got);  // the server ignored Range
    }
    if (data && begin == 0 && end == data->size()) {
      out.value = std::move(data);
    } else {
      auto value = Buffer::allocate(end - begin);
      if (end > begin) std::memcpy(value->data(), data->data() + begin, end - begin);
      out.value = std::move(value);
    }
    return out;
  }

  HttpRequest put_request(const Location& loc, const PutRequest& r, bool quoted) const {
    HttpRequest q{.method = "PUT", .path = loc.path, .headers = {"Content-Type: application/octet-stream"},
                  .body = r.value};
    if (const auto& g = r.condition.if_generation) {
      if (g->absent()) q.headers.push_back("If-None-Match: *");
      else q.headers.push_back("If-Match: " + (quoted ? g->token : unquote(g->token)));
    }
    return q;
  }

  void create_bucket(s3::Transport& transport, const std::string& bucket) {
    HttpResponse r = transport.run(s3::create_bucket_request(*state_, bucket));
    if (r.ok()) return;
    const auto code = s3::parse_error(r.text).first;
    if (code == "BucketAlreadyOwnedByYou") return;
    if (code == "BucketAlreadyExists")
      throw AlreadyExists(state_->where() + ": bucket '" + bucket + "' is taken by another account");
    state_->fail(r, "create bucket '" + bucket + "'");
  }

  std::vector<std::string> buckets() {
    auto all = s3::list_buckets(*state_);
    std::erase_if(all, [](const std::string& b) { return !s3::bucket_problem(b).empty(); });
    return all;
  }

  void append_keys(const std::string& bucket, std::string_view rest, std::vector<std::string>& out) {
    auto listing = s3::list_objects(*state_, bucket, rest, false, "bucket " + quote(bucket));
    if (!listing) return;
    for (const auto& k : listing->keys) out.push_back(bucket + "/" + k);
  }

  std::shared_ptr<s3::S3State> state_;
};

}  // namespace

std::shared_ptr<KvStore> builtin::make_s3_kvstore(const std::string& name, const Options& options) {
  return std::make_shared<S3KvStore>(name, options);
}

}  // namespace dosna
