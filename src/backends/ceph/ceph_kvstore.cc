// The ceph byte-key store: one RADOS object per key in the connection's pool
// (the key is the object name), on the transport of rados_io.h.
//
// Generation = the object version RADOS reports for the operation (a read's
// or a write's aio completion), which grows on every write and never repeats
// for a name. A conditional put is one write op asserting that version (or
// creating exclusively); write_full replaces the value atomically. A read is
// one compound op (stat + the first kFirstRead bytes of the range); what that
// did not cover is read by a second op asserting the version the first saw
// (retried from the start if the value changed in between).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "backends/ceph/rados_io.h"
#include "core/builtin.h"
#include "dosna/errors.h"
#include "dosna/kvstore.h"
#include "dosna/names.h"

namespace dosna {
namespace {

using namespace ceph;

constexpr const char* kWho = "ceph store";
constexpr std::size_t kFirstRead = std::size_t{1} << 20;
constexpr int kMaxReadAttempts = 100;

Generation token(std::uint64_t version) { return {std::to_string(version)}; }

// The version a token of this store names; 0 for a token it never issued.
std::uint64_t version_of(const Generation& g) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(g.token.data(), g.token.data() + g.token.size(), v);
  return ec == std::errc() && end == g.token.data() + g.token.size() ? v : 0;
}

bool condition_failed(int rc) { return rc == -ERANGE || rc == -EOVERFLOW || rc == -EEXIST || rc == -ENOENT; }

// One get, in one or two compound read ops.
struct Get {
  const ReadRequest* request;
  ReadResult* out;
  std::unique_ptr<ReadOp> op;
  std::uint64_t version = 0;  // set while the second op is due
  std::size_t begin = 0, end = 0;

  void submit(rados_ioctx_t io) {
    op = std::make_unique<ReadOp>();
    if (version) {
      op->submit(io, request->key, {ByteRange{begin, end - begin}}, version);
      return;
    }
    const ReadRange& r = request->range;
    ByteRange first{0, kFirstRead};
    if (r.offset >= 0) first = {static_cast<std::size_t>(r.offset), std::min(r.length.value_or(kFirstRead), kFirstRead)};
    op->submit(io, request->key, {first});
  }

  // Whether the result is in `out` (else submit again).
  bool finish() {
    const std::string& key = request->key;
    const int rc = op->completion.wait();
    if (version && (rc == -ERANGE || rc == -EOVERFLOW || rc == -ENOENT)) {
      version = 0;  // changed or removed since the first op: start over
      return false;
    }
    if (rc == -ENOENT) {
      *out = {};
      return true;
    }
    if (rc < 0) throw_rados(rc, "read of key " + quote(key) + " failed", kWho);
    if (op->stat_rval < 0) throw_rados(op->stat_rval, "stat of key " + quote(key) + " failed", kWho);
    if (op->read_rval[0] < 0) throw_rados(op->read_rval[0], "read of key " + quote(key) + " failed", kWho);
    const std::size_t got_begin = op->ranges[0].offset;
    const std::size_t got_end = got_begin + (op->ranges[0].length ? op->bytes_read[0] : 0);
    if (!version) {
      version = op->completion.version();
      std::tie(begin, end) = request->range.within(op->size);
    } else if (got_end - got_begin != end - begin) {
      throw IoError(std::string(kWho) + ": key " + quote(key) + " returned " +
                        std::to_string(got_end - got_begin) + " bytes of a range of " +
                        std::to_string(end - begin) + " at version " + std::to_string(version),
                    EIO);
    }
    if (begin < got_begin || end > got_end) {
      if (end == begin) {
        finish_with(Buffer::allocate(0));
        return true;
      }
      return false;  // the second op reads [begin, end)
    }
    if (begin == got_begin && end - begin == op->buffer->size()) {
      finish_with(std::move(op->buffer));
    } else {
      auto value = Buffer::allocate(end - begin);
      std::memcpy(value->data(), op->buffer->data() + (begin - got_begin), end - begin);
      finish_with(std::move(value));
    }
    return true;
  }

  void finish_with(std::shared_ptr<Buffer> value) {
    *out = {std::move(value), token(version), op->size};
  }
};

struct Put {
  Completion completion;
  rados_write_op_t op = rados_create_write_op();
  bool conditional = false;
  ~Put() { rados_release_write_op(op); }
};

class CephKvStore final : public KvStore {
 public:
  CephKvStore(const std::string& pool, const CephOptions& options) : cluster_(std::make_shared<Cluster>()) {
    if (pool.empty()) throw InvalidArgument(std::string(kWho) + ": the pool name must not be empty");
    cluster_->pool = pool;
    cluster_->who = kWho;
    cluster_->open = open_pool(options, pool, kWho);
  }
  ~CephKvStore() override { close(); }

  std::string_view kind() const override { return "ceph"; }
  std::string describe() const override { return "ceph pool " + quote(cluster_->pool); }

  ReadResult get(std::string_view key, const ReadRange& range) override {
    return get_as_batch(key, range);
  }

  void get_many(std::span<const ReadRequest> requests, std::span<ReadResult> out) override {
    Session s(*cluster_);
    for (const auto& r : requests) check_key(r.key);
    std::vector<Get> pending;
    for (std::size_t i = 0; i < requests.size(); ++i) pending.push_back(Get{.request = &requests[i], .out = &out[i], .op = nullptr});
    for (int attempt = 0; !pending.empty(); ++attempt) {
      if (attempt == kMaxReadAttempts)
        throw IoError(std::string(kWho) + ": key " + quote(pending.front().request->key) +
                          " changed under " + std::to_string(kMaxReadAttempts) + " reads in a row",
                      EBUSY);
      std::vector<bool> done(pending.size());
      run_windowed<Get*>(
          pending.size(),
          [&](std::size_t i) {
            pending[i].submit(s.io());
            return std::make_unique<Get*>(&pending[i]);
          },
          [&](std::size_t i, Get*& g) { done[i] = g->finish(); });
      std::vector<Get> again;
      for (std::size_t i = 0; i < pending.size(); ++i)
        if (!done[i]) again.push_back(std::move(pending[i]));
      pending = std::move(again);
    }
  }

  std::optional<Generation> put(std::string_view key, ChunkData value,
                                const PutCondition& condition) override {
    return put_as_batch(key, std::move(value), condition);
  }

  void put_many(std::span<const PutRequest> requests,
                std::span<std::optional<Generation>> out) override {
    Session s(*cluster_);
    for (const auto& r : requests) {
      check_key(r.key);
      if (!r.value) throw InvalidArgument(std::string(kWho) + ": put of key " + quote(r.key) + " without a value");
    }
    run_windowed<Put>(
        requests.size(),
        [&](std::size_t i) {
          const PutRequest& r = requests[i];
          auto p = std::make_unique<Put>();
          if (!r.condition.if_generation) {
            rados_write_op_create(p->op, LIBRADOS_CREATE_IDEMPOTENT, nullptr);
          } else if (r.condition.if_generation->absent()) {
            p->conditional = true;
            rados_write_op_create(p->op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
          } else {
            p->conditional = true;
            const std::uint64_t v = version_of(*r.condition.if_generation);
            // A token this store never issued matches no value: assert a
            // version no object has.
            rados_write_op_assert_version(p->op, v ? v : UINT64_MAX);
          }
          rados_write_op_write_full(p->op, reinterpret_cast<const char*>(r.value->data()), r.value->size());
          if (int rc = rados_aio_write_op_operate(p->op, s.io(), p->completion.get(), r.key.c_str(),
                                                  nullptr, LIBRADOS_OPERATION_NOFLAG);
              rc < 0)
            throw_rados(rc, "cannot submit the write of key " + quote(r.key), kWho);
          return p;
        },
        [&](std::size_t i, Put& p) {
          const int rc = p.completion.wait();
          if (rc == 0) {
            out[i] = token(p.completion.version());
          } else if (p.conditional && condition_failed(rc)) {
            out[i] = std::nullopt;
          } else {
            throw_rados(rc, "write of key " + quote(requests[i].key) + " failed", kWho);
          }
        });
  }

  bool erase(std::string_view key) override {
    Session s(*cluster_);
    check_key(key);
    const std::string oid(key);
    const int rc = rados_remove(s.io(), oid.c_str());
    if (rc == -ENOENT) return false;
    if (rc < 0) throw_rados(rc, "remove of key " + quote(key) + " failed", kWho);
    return true;
  }

  std::vector<std::string> list(std::string_view prefix) override {
    Session s(*cluster_);
    std::vector<std::string> out;
    for_each_object(
        s.io(), cluster_->pool,
        [&](std::string_view name) {
          if (name.starts_with(prefix)) out.emplace_back(name);
        },
        kWho);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::size_t erase_prefix(std::string_view prefix) override {
    const std::vector<std::string> keys = list(prefix);
    Session s(*cluster_);
    std::size_t removed = 0;
    run_windowed<Completion>(
        keys.size(),
        [&](std::size_t i) {
          auto c = std::make_unique<Completion>();
          if (int rc = rados_aio_remove(s.io(), keys[i].c_str(), c->get()); rc < 0)
            throw_rados(rc, "cannot submit the removal of key " + quote(keys[i]), kWho);
          return c;
        },
        [&](std::size_t i, Completion& c) {
          const int rc = c.wait();
          if (rc == 0) ++removed;
          else if (rc != -ENOENT) throw_rados(rc, "removal of key " + quote(keys[i]) + " failed", kWho);
        });
    return removed;
  }

  void close() noexcept override {
    std::shared_ptr<Handles> old;
    std::lock_guard lock(cluster_->mutex);
    old = std::move(cluster_->open);
  }

 private:
  std::shared_ptr<Cluster> cluster_;
};

}  // namespace

std::shared_ptr<KvStore> builtin::make_ceph_kvstore(const std::string& name, const Options& options) {
  return std::make_shared<CephKvStore>(name, parse_options(options, kWho));
}

}  // namespace dosna
