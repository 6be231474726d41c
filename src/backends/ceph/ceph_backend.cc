// The `ceph` backend: datasets in a RADOS pool through librados' C API, in
// the layout of docs/format.md (Ceph section):
//   <dataset>          content "DosNa Dataset", xattrs shape/dtype/fillvalue/
//                      chunk_grid/chunk_size (text forms of metadata_codec.h)
//   <dataset>/<i>.<j>  one object per chunk, written with write_full
//
// Every chunk operation is one RADOS round trip: a read is one compound op
// (stat + read, so a short or oversized payload is detected without a second
// trip; ENOENT means absent). Batches go out as librados aio with a window of
// requests in flight.
#include <rados/librados.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "core/builtin.h"
#include "core/metadata_codec.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

constexpr std::size_t kMaxInFlight = 64;

std::string errno_text(int rc) {
  const int e = rc < 0 ? -rc : rc;
  return std::string(std::strerror(e)) + " (errno " + std::to_string(e) + ")";
}

// Maps a negative librados return code to the typed error tree.
[[noreturn]] void throw_rados(int rc, const std::string& what) {
  const std::string msg = "ceph backend: " + what + ": " + errno_text(rc);
  switch (-rc) {
    case EACCES:
    case EPERM:
      throw PermissionDenied(msg);
    case ENOTCONN:
    case ESHUTDOWN:
      throw ConnectionError(msg);
    default:
      throw IoError(msg, -rc);
  }
}

struct CephOptions {
  std::string conffile;
  double timeout = 5;
  std::string client_name = "client.admin";
  double op_timeout = 30;
  // false: partial-chunk writes are a plain read + write_full, safe only
  // between threads of one process (for measuring what the guard costs).
  bool conditional_update = true;
};

CephOptions parse_options(const Options& options) {
  OptionReader reader(options, "ceph backend");
  CephOptions out;
  if (auto conffile = reader.take("conffile")) {
    out.conffile = *conffile;
  } else if (const char* env = std::getenv("CEPH_CONF"); env && *env) {
    out.conffile = env;
  } else {
    out.conffile = "ceph.conf";
  }
  out.timeout = reader.take_double("timeout", 5);
  if (!(out.timeout > 0))
    throw InvalidArgument("ceph backend: timeout must be > 0 seconds, got " +
                          std::to_string(out.timeout));
  std::string id = reader.take_string("client_id", "admin");
  if (id.empty()) throw InvalidArgument("ceph backend: client_id must not be empty");
  out.client_name = id.starts_with("client.") ? id : "client." + id;
  out.op_timeout = reader.take_double("op_timeout", 30);
  if (!(out.op_timeout >= 0))
    throw InvalidArgument("ceph backend: op_timeout must be >= 0 seconds (0 = wait forever), got " +
                          std::to_string(out.op_timeout));
  out.conditional_update = reader.take_bool("conditional_update", true);
  reader.finish();
  return out;
}

std::string seconds_text(double s) {
  std::string t = std::to_string(s);
  t.erase(t.find_last_not_of('0') + 1);
  if (!t.empty() && t.back() == '.') t.pop_back();
  return t;
}

// An open cluster handle and pool context. Closed when the last holder lets
// go: the backend while connected, and every operation in flight.
struct Handles {
  rados_t rados = nullptr;
  rados_ioctx_t io = nullptr;

  Handles() = default;
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  ~Handles() {
    if (io) rados_ioctx_destroy(io);
    if (rados) rados_shutdown(rados);
  }
};

// What the backend and its chunk stores share. disconnect() only drops the
// backend's reference to the handles, so it never waits for operations of
// other threads: they keep theirs until they end.
struct Cluster {
  mutable std::mutex mutex;  // guards `open` (never held during I/O)
  std::shared_ptr<Handles> open;
  std::string pool;
  bool conditional_update = true;

  std::shared_ptr<Handles> current() const {
    std::lock_guard lock(mutex);
    return open;
  }
};

// The handles for one operation; throws ConnectionError once disconnected.
class Session {
 public:
  explicit Session(const Cluster& c) : handles_(c.current()) {
    if (!handles_) throw ConnectionError("ceph backend: pool '" + c.pool + "' is not connected");
  }
  rados_ioctx_t io() const { return handles_->io; }

 private:
  std::shared_ptr<Handles> handles_;
};

class Completion {
 public:
  Completion() {
    if (int rc = rados_aio_create_completion2(nullptr, nullptr, &c_); rc < 0)
      throw_rados(rc, "cannot create an aio completion");
  }
  ~Completion() {
    if (c_) rados_aio_release(c_);
  }
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;
  rados_completion_t get() const { return c_; }
  int wait() {
    rados_aio_wait_for_complete(c_);
    return rados_aio_get_return_value(c_);
  }

 private:
  rados_completion_t c_ = nullptr;
};

// Calls every object in the pool; `fn(name)` for each name in the default
// namespace.
template <class Fn>
void for_each_object(rados_ioctx_t io, const std::string& pool, Fn&& fn) {
  rados_list_ctx_t ctx = nullptr;
  if (int rc = rados_nobjects_list_open(io, &ctx); rc < 0)
    throw_rados(rc, "cannot list pool '" + pool + "'");
  struct Closer {
    rados_list_ctx_t ctx;
    ~Closer() { rados_nobjects_list_close(ctx); }
  } closer{ctx};
  for (;;) {
    const char* entry = nullptr;
    const char* key = nullptr;
    const char* nspace = nullptr;
    int rc = rados_nobjects_list_next(ctx, &entry, &key, &nspace);
    if (rc == -ENOENT) break;
    if (rc < 0) throw_rados(rc, "cannot list pool '" + pool + "'");
    if (nspace && *nspace) continue;
    fn(std::string_view(entry));
  }
}

// One chunk read in flight: stat + read of one or more byte ranges,
// concatenated into one buffer, in a single compound op.
struct ReadOp {
  Completion completion;
  rados_read_op_t op = rados_create_read_op();
  std::shared_ptr<Buffer> buffer;
  std::uint64_t size = 0;
  std::time_t mtime = 0;
  int stat_rval = 0;
  std::vector<ByteRange> ranges;
  std::unique_ptr<std::size_t[]> bytes_read;
  std::unique_ptr<int[]> read_rval;

  ~ReadOp() { rados_release_read_op(op); }

  void submit(rados_ioctx_t io, const std::string& oid, std::vector<ByteRange> wanted) {
    ranges = std::move(wanted);
    std::size_t total = 0;
    for (const auto& r : ranges) total += r.length;
    buffer = Buffer::allocate(total);
    bytes_read = std::make_unique<std::size_t[]>(ranges.size());
    read_rval = std::make_unique<int[]>(ranges.size());
    rados_read_op_stat(op, &size, &mtime, &stat_rval);
    char* out = reinterpret_cast<char*>(buffer->data());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].length == 0) continue;  // librados reads length 0 as "to the end"
      rados_read_op_read(op, ranges[i].offset, ranges[i].length, out, &bytes_read[i],
                         &read_rval[i]);
      out += ranges[i].length;
    }
    if (int rc = rados_aio_read_op_operate(op, io, completion.get(), oid.c_str(),
                                           LIBRADOS_OPERATION_NOFLAG);
        rc < 0)
      throw_rados(rc, "cannot submit the read of object '" + oid + "'");
  }

  // The bytes, nullptr if the object is absent. The whole object must hold
  // `expected_size` bytes and every range must have been read in full.
  ChunkData finish(const std::string& oid, std::uint64_t expected_size) {
    int rc = completion.wait();
    if (rc == -ENOENT) return nullptr;
    if (rc < 0) throw_rados(rc, "read of object '" + oid + "' failed");
    if (stat_rval < 0) throw_rados(stat_rval, "stat of object '" + oid + "' failed");
    bool complete = true;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (read_rval[i] < 0) throw_rados(read_rval[i], "read of object '" + oid + "' failed");
      complete &= bytes_read[i] == ranges[i].length;
    }
    if (size != expected_size || !complete)
      throw IoError("ceph backend: chunk object '" + oid + "' holds " + std::to_string(size) +
                        " bytes, expected " + std::to_string(expected_size),
                    EIO);
    return std::move(buffer);
  }
};

// Runs `n` asynchronous operations with at most kMaxInFlight outstanding.
// `submit(i)` starts operation i and returns a handle; `finish(i, handle)`
// waits for it. The first failure is rethrown after every started operation
// has completed (buffers handed to librados must outlive it).
template <class Handle, class Submit, class Finish>
void run_windowed(std::size_t n, Submit&& submit, Finish&& finish) {
  std::deque<std::pair<std::size_t, std::unique_ptr<Handle>>> in_flight;
  std::exception_ptr first;
  auto drain_one = [&] {
    auto [i, handle] = std::move(in_flight.front());
    in_flight.pop_front();
    try {
      finish(i, *handle);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  };
  for (std::size_t i = 0; i < n && !first; ++i) {
    if (in_flight.size() >= kMaxInFlight) drain_one();
    if (first) break;
    try {
      in_flight.emplace_back(i, submit(i));
    } catch (...) {
      first = std::current_exception();
    }
  }
  while (!in_flight.empty()) drain_one();
  if (first) std::rethrow_exception(first);
}

class CephChunkStore final : public ChunkStore {
 public:
  CephChunkStore(std::shared_ptr<Cluster> cluster, std::string dataset, DatasetMeta meta)
      : cluster_(std::move(cluster)),
        dataset_(std::move(dataset)),
        prefix_(dataset_ + "/"),
        ndim_(meta.shape.size()),
        chunk_nbytes_(meta.chunk_nbytes()) {}

  ChunkData get(const ChunkIndex& index) override {
    Session s(*cluster_);
    const std::string oid = object_name(index);
    ReadOp op;
    op.submit(s.io(), oid, {ByteRange{0, chunk_nbytes_}});
    return op.finish(oid, chunk_nbytes_);
  }

  void put(const ChunkIndex& index, ChunkData data) override {
    Session s(*cluster_);
    const std::string oid = object_name(index);
    check_size(oid, data);
    if (int rc = rados_write_full(s.io(), oid.c_str(), reinterpret_cast<const char*>(data->data()),
                                  data->size());
        rc < 0)
      throw_rados(rc, "write of object '" + oid + "' failed");
  }

  bool has(const ChunkIndex& index) override {
    Session s(*cluster_);
    const std::string oid = object_name(index);
    std::uint64_t size = 0;
    std::time_t mtime = 0;
    int rc = rados_stat(s.io(), oid.c_str(), &size, &mtime);
    if (rc == -ENOENT) return false;
    if (rc < 0) throw_rados(rc, "stat of object '" + oid + "' failed");
    return true;
  }

  bool remove(const ChunkIndex& index) override {
    Session s(*cluster_);
    const std::string oid = object_name(index);
    int rc = rados_remove(s.io(), oid.c_str());
    if (rc == -ENOENT) return false;
    if (rc < 0) throw_rados(rc, "remove of object '" + oid + "' failed");
    return true;
  }

  std::vector<ChunkIndex> list() override {
    Session s(*cluster_);
    std::vector<ChunkIndex> out;
    for_each_object(s.io(), cluster_->pool, [&](std::string_view name) {
      if (!name.starts_with(prefix_)) return;
      if (auto index = codec::split_index(name.substr(prefix_.size()), '.', ndim_))
        out.push_back(std::move(*index));
    });
    return out;
  }

  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    const std::vector<std::vector<ByteRange>> whole(indices.size(), {ByteRange{0, chunk_nbytes_}});
    get_ranges_many(indices, whole, out);
  }

  bool reads_ranges() const override { return true; }

  void get_ranges_many(std::span<const ChunkIndex> indices,
                       std::span<const std::vector<ByteRange>> ranges,
                       std::span<ChunkData> out) override {
    for (const auto& list : ranges)
      for (const auto& r : list) check_range(r.offset, r.length);
    Session s(*cluster_);
    std::vector<std::string> oids(indices.size());
    run_windowed<ReadOp>(
        indices.size(),
        [&](std::size_t i) {
          oids[i] = object_name(indices[i]);
          auto op = std::make_unique<ReadOp>();
          op->submit(s.io(), oids[i], ranges[i]);
          return op;
        },
        [&](std::size_t i, ReadOp& op) { out[i] = op.finish(oids[i], chunk_nbytes_); });
  }

  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    Session s(*cluster_);
    std::vector<std::string> oids(indices.size());
    run_windowed<Completion>(
        indices.size(),
        [&](std::size_t i) {
          oids[i] = object_name(indices[i]);
          check_size(oids[i], data[i]);
          auto c = std::make_unique<Completion>();
          if (int rc = rados_aio_write_full(s.io(), oids[i].c_str(), c->get(),
                                            reinterpret_cast<const char*>(data[i]->data()),
                                            data[i]->size());
              rc < 0)
            throw_rados(rc, "cannot submit the write of object '" + oids[i] + "'");
          return c;
        },
        [&](std::size_t i, Completion& c) {
          if (int rc = c.wait(); rc < 0) throw_rados(rc, "write of object '" + oids[i] + "' failed");
        });
  }

  // Optimistic concurrency: the write is conditional on the object version
  // the read saw (or on the object still being absent), and the whole
  // read-modify-write is retried on conflict, so concurrent writers in other
  // processes (MPI ranks) never lose each other's updates.
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    if (!cluster_->conditional_update) return ChunkStore::update(index, modify);
    Session s(*cluster_);
    const std::string oid = object_name(index);
    constexpr int kMaxAttempts = 1000;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      ReadOp read;
      read.submit(s.io(), oid, {ByteRange{0, chunk_nbytes_}});
      ChunkData current = read.finish(oid, chunk_nbytes_);
      const std::uint64_t version = current ? rados_aio_get_version(read.completion.get()) : 0;
      ChunkData next = modify(current);
      check_size(oid, next);
      rados_write_op_t op = rados_create_write_op();
      if (current) {
        rados_write_op_assert_version(op, version);
      } else {
        rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
      }
      rados_write_op_write_full(op, reinterpret_cast<const char*>(next->data()), next->size());
      int rc = rados_write_op_operate(op, s.io(), oid.c_str(), nullptr, LIBRADOS_OPERATION_NOFLAG);
      rados_release_write_op(op);
      if (rc == 0) return;
      if (rc != -ERANGE && rc != -EOVERFLOW && rc != -EEXIST)
        throw_rados(rc, "conditional write of object '" + oid + "' failed");
    }
    throw IoError("ceph backend: object '" + oid + "' changed under " +
                      std::to_string(kMaxAttempts) + " read-modify-write attempts in a row",
                  EBUSY);
  }

  ChunkData get_range(const ChunkIndex& index, std::size_t offset, std::size_t length) override {
    check_range(offset, length);
    Session s(*cluster_);
    const std::string oid = object_name(index);
    ReadOp op;
    op.submit(s.io(), oid, {ByteRange{offset, length}});
    return op.finish(oid, chunk_nbytes_);
  }

 private:
  std::string object_name(const ChunkIndex& index) const {
    if (index.size() != ndim_)
      throw InvalidArgument("ceph backend: chunk index of rank " + std::to_string(index.size()) +
                            " for dataset '" + dataset_ + "' of rank " + std::to_string(ndim_));
    return prefix_ + codec::join_index(index, '.');
  }

  void check_range(std::size_t offset, std::size_t length) const {
    if (offset > chunk_nbytes_ || length > chunk_nbytes_ - offset)
      throw InvalidArgument("ceph backend: byte range [" + std::to_string(offset) + ", " +
                            std::to_string(offset + length) + ") is outside chunk of " +
                            std::to_string(chunk_nbytes_) + " bytes in dataset '" + dataset_ +
                            "'");
  }

  void check_size(const std::string& oid, const ChunkData& data) const {
    if (!data || data->size() != chunk_nbytes_)
      throw InvalidArgument("ceph backend: payload for '" + oid + "' has " +
                            std::to_string(data ? data->size() : 0) + " bytes, expected " +
                            std::to_string(chunk_nbytes_));
  }

  std::shared_ptr<Cluster> cluster_;
  std::string dataset_;
  std::string prefix_;
  std::size_t ndim_;
  std::size_t chunk_nbytes_;
};

class CephBackend final : public Backend {
 public:
  CephBackend(std::string pool, CephOptions options)
      : pool_(std::move(pool)), options_(std::move(options)), cluster_(std::make_shared<Cluster>()) {
    if (pool_.empty()) throw InvalidArgument("ceph backend: the pool name must not be empty");
    cluster_->pool = pool_;
    cluster_->conditional_update = options_.conditional_update;
  }
  ~CephBackend() override { disconnect(); }

  std::string_view kind() const override { return "ceph"; }
  const std::string& name() const override { return pool_; }

  void connect() override {
    std::lock_guard connecting(connect_mutex_);
    if (connected()) return;
    rados_t rados = nullptr;
    if (int rc = rados_create2(&rados, "ceph", options_.client_name.c_str(), 0); rc < 0)
      throw_rados(rc, "cannot create a cluster handle for " + options_.client_name);
    auto fail = [&](auto error) {
      rados_shutdown(rados);
      throw error;
    };
    if (int rc = rados_conf_read_file(rados, options_.conffile.c_str()); rc < 0) {
      const std::string what =
          "ceph backend: cannot read conffile '" + options_.conffile + "': " + errno_text(rc);
      if (rc == -ENOENT) fail(NotFound(what));
      if (rc == -EACCES) fail(PermissionDenied(what));
      fail(ConnectionError(what));
    }
    const std::string timeout = seconds_text(options_.timeout);
    const std::string op_timeout = seconds_text(options_.op_timeout);
    for (auto [key, value] : {std::pair<const char*, const std::string*>{"client_mount_timeout", &timeout},
                              {"rados_mon_op_timeout", &op_timeout},
                              {"rados_osd_op_timeout", &op_timeout}}) {
      if (int rc = rados_conf_set(rados, key, value->c_str()); rc < 0)
        fail(InvalidArgument("ceph backend: cannot set " + std::string(key) + "=" + *value + ": " +
                             errno_text(rc)));
    }
    if (int rc = rados_connect(rados); rc < 0) {
      const std::string where = " to the cluster of '" + options_.conffile + "' as " +
                                options_.client_name + " (timeout " + timeout + " s)";
      if (rc == -EACCES || rc == -EPERM)
        fail(PermissionDenied("ceph backend: authentication refused connecting" + where + ": " +
                              errno_text(rc)));
      fail(ConnectionError("ceph backend: cannot connect" + where + ": " + errno_text(rc)));
    }
    rados_ioctx_t io = nullptr;
    if (int rc = rados_ioctx_create(rados, pool_.c_str(), &io); rc < 0) {
      if (rc == -ENOENT) fail(NotFound("ceph backend: pool '" + pool_ + "' does not exist"));
      fail(ConnectionError("ceph backend: cannot open pool '" + pool_ + "': " + errno_text(rc)));
    }
    auto handles = std::make_shared<Handles>();
    handles->rados = rados;
    handles->io = io;
    std::lock_guard lock(cluster_->mutex);
    cluster_->open = std::move(handles);
  }

  // Returns at once: operations in flight hold the handles until they end
  // (the last one closes them); later ones throw ConnectionError.
  void disconnect() noexcept override {
    std::shared_ptr<Handles> old;
    {
      std::lock_guard lock(cluster_->mutex);
      old = std::move(cluster_->open);
    }
  }

  bool connected() const override { return cluster_->current() != nullptr; }

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    check_name(dataset);
    meta.validate(dataset);
    const auto fields = codec::encode(meta);
    Session s(*cluster_);
    rados_write_op_t op = rados_create_write_op();
    rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, nullptr);
    rados_write_op_write_full(op, codec::kSignature.data(), codec::kSignature.size());
    for (const auto& [key, value] : fields)
      rados_write_op_setxattr(op, key.c_str(), value.data(), value.size());
    int rc = rados_write_op_operate(op, s.io(), dataset.c_str(), nullptr, LIBRADOS_OPERATION_NOFLAG);
    rados_release_write_op(op);
    if (rc == -EEXIST)
      throw AlreadyExists("ceph backend: dataset '" + dataset + "' already exists in pool '" +
                          pool_ + "'");
    if (rc < 0) throw_rados(rc, "cannot create dataset '" + dataset + "' in pool '" + pool_ + "'");
  }

  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    check_name(dataset);
    auto fields = read_record(dataset);
    if (!fields) return std::nullopt;
    return codec::decode(*fields, dataset);
  }

 private:
  // The xattrs of the dataset object, or nullopt if there is no object with
  // the signature of a dataset.
  std::optional<std::map<std::string, std::string>> read_record(const std::string& dataset) {
    Session s(*cluster_);
    char content[64];
    std::size_t content_len = 0;
    int read_rval = 0;
    int xattr_rval = 0;
    rados_xattrs_iter_t iter = nullptr;
    rados_read_op_t op = rados_create_read_op();
    rados_read_op_read(op, 0, sizeof content, content, &content_len, &read_rval);
    rados_read_op_getxattrs(op, &iter, &xattr_rval);
    int rc = rados_read_op_operate(op, s.io(), dataset.c_str(), LIBRADOS_OPERATION_NOFLAG);
    rados_release_read_op(op);
    std::map<std::string, std::string> fields;
    if (rc == 0 && xattr_rval == 0 && iter) {
      for (;;) {
        const char* name = nullptr;
        const char* value = nullptr;
        std::size_t len = 0;
        if (rados_getxattrs_next(iter, &name, &value, &len) < 0 || !name) break;
        fields.emplace(name, std::string(value, len));
      }
    }
    if (iter) rados_getxattrs_end(iter);
    if (rc == -ENOENT) return std::nullopt;
    if (rc < 0) throw_rados(rc, "cannot read dataset '" + dataset + "' in pool '" + pool_ + "'");
    if (read_rval < 0) throw_rados(read_rval, "cannot read dataset object '" + dataset + "'");
    if (xattr_rval < 0) throw_rados(xattr_rval, "cannot read the xattrs of dataset '" + dataset + "'");
    if (std::string_view(content, content_len) != codec::kSignature) return std::nullopt;
    return fields;
  }

 public:

  // Needs only the signature, not a readable record, so a dataset with
  // garbage xattrs goes too.
  void delete_dataset(const std::string& dataset) override {
    check_name(dataset);
    if (!read_record(dataset))
      throw DatasetNotFound("ceph backend: dataset '" + dataset + "' does not exist in pool '" +
                            pool_ + "'");
    const std::string prefix = dataset + "/";
    Session s(*cluster_);
    std::vector<std::string> oids;
    for_each_object(s.io(), pool_, [&](std::string_view name) {
      if (name.starts_with(prefix)) oids.emplace_back(name);
    });
    run_windowed<Completion>(
        oids.size(),
        [&](std::size_t i) {
          auto c = std::make_unique<Completion>();
          if (int rc = rados_aio_remove(s.io(), oids[i].c_str(), c->get()); rc < 0)
            throw_rados(rc, "cannot submit the removal of object '" + oids[i] + "'");
          return c;
        },
        [&](std::size_t i, Completion& c) {
          if (int rc = c.wait(); rc < 0 && rc != -ENOENT)
            throw_rados(rc, "removal of object '" + oids[i] + "' failed");
        });
    int rc = rados_remove(s.io(), dataset.c_str());
    if (rc < 0 && rc != -ENOENT)
      throw_rados(rc, "cannot remove dataset object '" + dataset + "' in pool '" + pool_ + "'");
  }

  std::vector<std::string> list_datasets() override {
    Session s(*cluster_);
    std::vector<std::string> candidates;
    for_each_object(s.io(), pool_, [&](std::string_view name) {
      if (name.find('/') == std::string_view::npos) candidates.emplace_back(name);
    });
    std::vector<std::string> out;
    run_windowed<ReadOp>(
        candidates.size(),
        [&](std::size_t i) {
          auto op = std::make_unique<ReadOp>();
          op->submit(s.io(), candidates[i], {ByteRange{0, codec::kSignature.size() + 1}});
          return op;
        },
        [&](std::size_t i, ReadOp& op) {
          int rc = op.completion.wait();
          if (rc == -ENOENT) return;  // removed while listing
          if (rc < 0) throw_rados(rc, "cannot read object '" + candidates[i] + "' while listing");
          if (op.read_rval[0] == 0 &&
              std::string_view(reinterpret_cast<const char*>(op.buffer->data()),
                               op.bytes_read[0]) == codec::kSignature)
            out.push_back(candidates[i]);
        });
    std::sort(out.begin(), out.end());
    return out;
  }

  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override {
    return std::make_shared<CephChunkStore>(cluster_, dataset, meta);
  }

 private:
  // Chunk objects are "<dataset>/<i>.<j>", so a dataset name holds no '/':
  // the core's rule (names.h), checked here too since the backend is usable
  // on its own.
  void check_name(const std::string& dataset) const { check_dataset_name(dataset, "ceph backend"); }

  std::string pool_;
  CephOptions options_;
  std::shared_ptr<Cluster> cluster_;
  std::mutex connect_mutex_;
};

}  // namespace

std::shared_ptr<Backend> builtin::make_ceph_backend(const std::string& name, const Options& options) {
  return std::make_shared<CephBackend>(name, parse_options(options));
}

}  // namespace dosna
