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
#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <utility>

#include "backends/ceph/rados_io.h"
#include "core/builtin.h"
#include "core/metadata_codec.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

using namespace ceph;

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
    auto handles = open_pool(options_, pool_);
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

  std::string read_attributes(const std::string& dataset) override {
    auto fields = existing_record(dataset);
    auto it = fields.find(codec::kAttributesXattr);
    return it == fields.end() ? "{}" : it->second;
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    existing_record(dataset);
    set_xattrs(dataset, {{codec::kAttributesXattr, json_object}});
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    existing_record(dataset);
    set_xattrs(dataset, codec::encode(meta));
  }

 private:
  // Chunk objects are "<dataset>/<i>.<j>", so a dataset name holds no '/':
  // the core's rule (names.h), checked here too since the backend is usable
  // on its own.
  void check_name(const std::string& dataset) const { check_dataset_name(dataset, "ceph backend"); }

  std::map<std::string, std::string> existing_record(const std::string& dataset) {
    check_name(dataset);
    auto fields = read_record(dataset);
    if (!fields)
      throw DatasetNotFound("ceph backend: dataset '" + dataset + "' does not exist in pool '" +
                            pool_ + "'");
    return *fields;
  }
  // Sets the xattrs of the dataset object in one atomic write operation.
  void set_xattrs(const std::string& dataset, const std::map<std::string, std::string>& xattrs) {
    Session s(*cluster_);
    rados_write_op_t op = rados_create_write_op();
    rados_write_op_assert_exists(op);
    for (const auto& [key, value] : xattrs)
      rados_write_op_setxattr(op, key.c_str(), value.data(), value.size());
    int rc = rados_write_op_operate(op, s.io(), dataset.c_str(), nullptr, LIBRADOS_OPERATION_NOFLAG);
    rados_release_write_op(op);
    if (rc == -ENOENT)
      throw DatasetNotFound("ceph backend: dataset '" + dataset + "' does not exist in pool '" +
                            pool_ + "'");
    if (rc < 0) throw_rados(rc, "cannot update dataset '" + dataset + "' in pool '" + pool_ + "'");
  }

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
