// The storage seam: what a backend implements. A backend stores a dataset's
// metadata record and whole chunks as bytes. It never sees selections, dtype
// arithmetic or fill values: the core does all of that on top of this seam.
//
// Thread safety: every method of Backend and ChunkStore may be called from
// many threads at once after connect() returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/dtype.h"
#include "dosna/format.h"
#include "dosna/scalar.h"
#include "dosna/selection.h"

namespace dosna {

// Backend and engine options: key=value strings, parsed once by their owner
// into a typed struct. Unknown keys are an InvalidArgument.
using Options = std::map<std::string, std::string>;

// Most dimensions a dataset may have (numpy's limit).
inline constexpr std::size_t kMaxRank = 32;

// Default of the connection option max_chunk_bytes (Backend::max_chunk_bytes).
inline constexpr std::uint64_t kDefaultMaxChunkBytes = std::uint64_t{2} << 30;  // 2 GiB

// The five fields every layout in FORMAT.md stores.
struct DatasetMeta {
  Shape shape;
  DType dtype;
  Scalar fillvalue;  // converted to dtype when used
  Shape chunk_size;

  Shape chunk_grid() const;             // ceil(shape / chunk_size) per axis
  std::int64_t total_chunks() const;    // product of chunk_grid()
  std::size_t chunk_nbytes() const;     // full chunk_size block, itemsize bytes each
  // Throws InvalidArgument naming `dataset` if shape/chunk_size are invalid
  // (no axis or more than kMaxRank, rank mismatch, negative extent, chunk
  // extent < 1, byte size overflow). Only the structure: the size limit is
  // check_chunk_limit().
  void validate(std::string_view dataset) const;
  // Throws InvalidArgument naming `dataset` if one chunk holds more than
  // `max_bytes` bytes (call after validate()). `stored`: the record came
  // from the store (the message says how to open it) rather than a caller.
  void check_chunk_limit(std::string_view dataset, std::uint64_t max_bytes, bool stored) const;
};

// An immutable byte buffer shared between the core and a backend; chunk
// payloads travel as these so the RAM backend can keep them without copying.
class Buffer {
 public:
  // Uninitialised storage of `size` bytes.
  static std::shared_ptr<Buffer> allocate(std::size_t size);
  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_.get(), size_}; }
  std::span<std::byte> bytes() { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};
using ChunkData = std::shared_ptr<const Buffer>;

// A contiguous byte range of a chunk payload.
struct ByteRange {
  std::size_t offset = 0;
  std::size_t length = 0;
};

// One dataset's chunks in one backend. Chunk payloads are the full chunk_size
// block in C order (FORMAT.md); a chunk never written is absent.
class ChunkStore {
 public:
  virtual ~ChunkStore() = default;

  // The chunk's bytes, or nullptr if it was never written (never an error,
  // never a has-then-get pair). Throws IoError/ConnectionError on failure and
  // IoError if the stored payload has the wrong size.
  virtual ChunkData get(const ChunkIndex& index) = 0;

  // Replaces the whole chunk atomically: a reader sees the old or the new
  // payload, never a mix, even if the writer dies. `data` has chunk_nbytes().
  virtual void put(const ChunkIndex& index, ChunkData data) = 0;

  // Whether the chunk exists.
  virtual bool has(const ChunkIndex& index) = 0;

  // Removes the chunk; returns whether it existed. Idempotent.
  virtual bool remove(const ChunkIndex& index) = 0;

  // Indices of every stored chunk, in no particular order.
  virtual std::vector<ChunkIndex> list() = 0;

  // Batched get/put: same contracts, element-wise. Backends with asynchronous
  // I/O override these to keep many requests in flight; the defaults loop.
  virtual void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out);
  virtual void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data);

  // Batched whole-chunk reads into the caller's memory: out[i] (chunk_nbytes()
  // bytes) receives the payload of chunk indices[i]; the result tells which
  // chunks exist (an absent one leaves its out[i] unspecified). Same errors as
  // get(). Backends that can read straight into `out` override this so a read
  // needs no chunk-sized buffer of its own (hdf5); the default calls
  // get_many() and copies.
  virtual std::vector<bool> get_many_into(std::span<const ChunkIndex> indices,
                                          std::span<const std::span<std::byte>> out);

  // Whether get_ranges_many() fetches only the requested bytes from the store,
  // so reading part of a chunk costs less than reading all of it (ceph, s3,
  // hdf5). The core reads partial chunks through it only when this is true.
  virtual bool reads_ranges() const { return false; }

  // The one partial-read entry point, batched: out[i] = the bytes of
  // ranges[i] of chunk indices[i], concatenated in order, or nullptr if that
  // chunk is absent. Throws InvalidArgument for a range outside the chunk and
  // IoError if the stored payload has the wrong size. Stores that read ranges
  // override this and keep all chunks of the batch in flight at once; the
  // default reads whole chunks and copies the ranges.
  virtual void get_ranges_many(std::span<const ChunkIndex> indices,
                               std::span<const std::vector<ByteRange>> ranges,
                               std::span<ChunkData> out);

  // Removes each chunk (as remove() does, absent ones ignored). Stores that
  // keep several chunks in one object override it to change each object
  // once; the default loops.
  virtual void remove_many(std::span<const ChunkIndex> indices);

  // Chunks per axis that the store keeps together in one object (a zarr
  // shard); empty: each chunk on its own. The core hands every chunk of
  // such a block that one write or load stores to a single put_many call,
  // so a store can write a whole block as one object.
  virtual Shape write_group() const { return {}; }

  // Read-modify-write of one chunk: `modify` gets the current payload (nullptr
  // when absent) and returns the new one. Backends that can make the write
  // conditional on what was read override this and retry on conflict; the
  // default is get then put (safe only under the core's in-process lock).
  virtual void update(const ChunkIndex& index,
                      const std::function<ChunkData(const ChunkData& current)>& modify);
};

// A connection to one store (a pool, a directory, a label for S3 buckets).
class Backend {
 public:
  virtual ~Backend() = default;

  // Registry name: "ram", "hdf5", "ceph", "s3".
  virtual std::string_view kind() const = 0;
  // The connection name (pool, directory name, label).
  virtual const std::string& name() const = 0;

  // Opens the store. Throws ConnectionError / NotFound (missing pool or
  // directory, naming it) / PermissionDenied. Calling it twice is a no-op.
  virtual void connect() = 0;
  // Closes the store; idempotent; never throws. Returns without waiting for
  // operations other threads have in flight: those finish (or fail) as they
  // would have, every operation that starts afterwards throws
  // ConnectionError, and the store's resources are released when the last
  // operation in flight ends.
  virtual void disconnect() noexcept = 0;
  virtual bool connected() const = 0;

  // Writes the metadata record of a new dataset. Throws AlreadyExists, or
  // InvalidArgument for a name the store cannot hold.
  virtual void create_dataset(const std::string& dataset, const DatasetMeta& meta) = 0;
  // The same in the layout `options` asks for (include/dosna/format.h). The
  // default holds the dosna format only: check_dosna_options(), then the
  // call above; stores holding zarr too (the format wrapper) override it.
  virtual void create_dataset(const std::string& dataset, const DatasetMeta& meta,
                              const StorageOptions& options);
  // The format of an existing dataset: "dosna", "zarr3" or "zarr2".
  virtual std::string dataset_format(const std::string& dataset);
  // Where another zarr reader opens the dataset ("/data/store/vol",
  // "ceph pool 'tomo' prefix vol/"); "" for the dosna format.
  virtual std::string dataset_location(const std::string& dataset);
  // The metadata record, or nullopt if there is no such dataset. Throws
  // IoError if the record exists but cannot be parsed (naming the field).
  virtual std::optional<DatasetMeta> read_dataset(const std::string& dataset) = 0;
  // Removes every chunk, then the record, also of a dataset whose record
  // cannot be read. Throws DatasetNotFound.
  virtual void delete_dataset(const std::string& dataset) = 0;
  // Names of every dataset, sorted, also those whose record cannot be read
  // (read_dataset throws for them; delete_dataset removes them all the same).
  virtual std::vector<std::string> list_datasets() = 0;

  // The chunks of an existing dataset whose record is `meta`.
  virtual std::shared_ptr<ChunkStore> chunks(const std::string& dataset,
                                             const DatasetMeta& meta) = 0;

  // The dataset's user attributes as the text of a JSON object ("{}" when it
  // has none; where each layout keeps them: docs/format.md "Attributes").
  // Throws DatasetNotFound, IoError if the stored text is not a JSON object.
  // The default (a store without attributes) throws NotSupported.
  virtual std::string read_attributes(const std::string& dataset);
  // Replaces the attributes by `json_object` (the text of a JSON object) in
  // one atomic write. Throws DatasetNotFound; default NotSupported.
  virtual void write_attributes(const std::string& dataset, const std::string& json_object);
  // Rewrites the record of an existing dataset as `meta`, which differs from
  // the stored record in shape only (Dataset::resize calls it after removing
  // the chunks outside the new shape). A reader sees the old or the new
  // record, never a mix. chunks() called afterwards gives the chunk store of
  // the new shape. Throws DatasetNotFound; default NotSupported.
  virtual void resize_dataset(const std::string& dataset, const DatasetMeta& meta);

  // The largest chunk, in bytes, the core lets a dataset of this store have:
  // Connection::create_dataset refuses larger chunks and get_dataset refuses
  // to open a stored record declaring them, before anything of that size is
  // allocated. make_backend sets it from the connection option
  // max_chunk_bytes (which no backend sees); default kDefaultMaxChunkBytes.
  // Set it before the backend is shared between threads.
  std::uint64_t max_chunk_bytes() const { return max_chunk_bytes_; }
  void set_max_chunk_bytes(std::uint64_t bytes) { max_chunk_bytes_ = bytes; }

 private:
  std::uint64_t max_chunk_bytes_ = kDefaultMaxChunkBytes;
};

// A Backend passing every call to `inner`: the base of backend decorators
// (the chunk cache, the tests' counting and fault-injecting wrappers), which
// override only what they change. It starts with inner's max_chunk_bytes.
class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::shared_ptr<Backend> inner) : inner_(std::move(inner)) {
    set_max_chunk_bytes(inner_->max_chunk_bytes());
  }
  const std::shared_ptr<Backend>& inner() const { return inner_; }

  std::string_view kind() const override { return inner_->kind(); }
  const std::string& name() const override { return inner_->name(); }
  void connect() override { inner_->connect(); }
  void disconnect() noexcept override { inner_->disconnect(); }
  bool connected() const override { return inner_->connected(); }
  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    inner_->create_dataset(dataset, meta);
  }
  void create_dataset(const std::string& dataset, const DatasetMeta& meta,
                      const StorageOptions& options) override {
    inner_->create_dataset(dataset, meta, options);
  }
  std::string dataset_format(const std::string& dataset) override {
    return inner_->dataset_format(dataset);
  }
  std::string dataset_location(const std::string& dataset) override {
    return inner_->dataset_location(dataset);
  }
  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    return inner_->read_dataset(dataset);
  }
  void delete_dataset(const std::string& dataset) override { inner_->delete_dataset(dataset); }
  std::vector<std::string> list_datasets() override { return inner_->list_datasets(); }
  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override {
    return inner_->chunks(dataset, meta);
  }
  std::string read_attributes(const std::string& dataset) override {
    return inner_->read_attributes(dataset);
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    inner_->write_attributes(dataset, json_object);
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    inner_->resize_dataset(dataset, meta);
  }

 protected:
  std::shared_ptr<Backend> inner_;
};

}  // namespace dosna
