// Connection: the entry point. Owns one backend (a store) and one engine (how
// per-chunk work runs); creates, opens, lists and deletes datasets.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/array.h"
#include "dosna/backend.h"
#include "dosna/dataset.h"
#include "dosna/engine.h"
#include "dosna/store_uri.h"

namespace dosna {

struct ConnectionConfig {
  std::string name;              // pool, directory name or label
  std::string backend = "ram";   // ram | file | hdf5 | ceph | s3
  Options options;               // backend options (FORMAT/README names)
  std::string engine = "cpu";    // cpu | threads (jl, joblib) | mpi
  Options engine_options;        // e.g. njobs=4
  // Budget of the decoded-chunk cache (include/dosna/chunk_cache.h) shared
  // by this connection's datasets; 0 = no cache.
  std::size_t chunk_cache_bytes = 0;
};

// One dataset of a store as Connection::list_datasets_status() finds it.
// Contract for whoever displays a store (the CLI's `ls`): there is one entry
// per dataset the store holds, in name order, broken ones included. Either
// `meta` is set (get_dataset(name) opens it) or `problem` says, in one line
// with stored values escaped and shortened, why it cannot be opened: the
// message of the typed error get_dataset(name) throws (a corrupt or
// unreadable record, a record over max_chunk_bytes), or why `name` itself
// is not a valid dataset name. del_dataset(name) removes every entry whose
// name is valid, broken or not. `name` is the stored bytes: show it with
// dosna::escape() (names.h).
struct DatasetStatus {
  std::string name;
  std::optional<DatasetMeta> meta;
  std::string problem;
};

// RAII: the destructor disconnects. Not copyable; Datasets keep what they need
// alive, but fail with ConnectionError once the connection is closed.
class Connection {
 public:
  // Builds the backend and engine from the registry. Throws NotBuilt for a
  // known name not compiled in, InvalidArgument for an unknown name (listing
  // the available ones) or a bad option. Does not connect yet.
  explicit Connection(ConnectionConfig config);
  Connection(std::string name, Options options = {}, std::string backend = "ram",
             std::string engine = "cpu", Options engine_options = {});
  // Over an existing backend and engine (wrappers, tests). Not connected yet.
  Connection(std::shared_ptr<Backend> backend, std::shared_ptr<Engine> engine);

  // The store a URI names (dosna/store_uri.h), connected. `options` are
  // added to the URI's query options, overriding a key given in both.
  // Throws what parse_store_uri, the constructor and connect() throw.
  static Connection open(std::string_view uri, const Options& options = {},
                         std::string engine = "cpu", Options engine_options = {});
  // The same over an existing engine, with a decoded-chunk cache of
  // `chunk_cache_bytes` (0 = none) over the store.
  static Connection open(const StoreUri& store, std::shared_ptr<Engine> engine,
                         std::size_t chunk_cache_bytes = 0);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect();
  // Closes the connection on every store kind alike: returns at once, without
  // waiting for operations other threads have in flight on this connection or
  // its Datasets (those finish or fail as they would have); every operation
  // started afterwards throws ConnectionError; the store's resources are
  // released when the last operation in flight ends. Idempotent.
  void disconnect() noexcept;
  bool connected() const;

  const std::string& name() const;
  const ConnectionConfig& config() const;
  // The store's URI (to_string in dosna/store_uri.h: credentials left out).
  // A connection over an existing backend knows only its kind and name.
  std::string uri() const;
  Backend& backend() const;
  Engine& engine() const;
  int mpi_rank() const;
  int mpi_size() const;
  bool mpi_is_root() const;

  // Every method taking a dataset name first checks it against the one rule
  // of names.h (InvalidArgument naming the problem).
  //
  // Creates an empty dataset. chunk_size empty = one chunk of the whole
  // shape. Throws AlreadyExists; InvalidArgument for a bad shape or
  // chunk_size, a chunk of more than the backend's max_chunk_bytes (the
  // connection option, default 2 GiB), or a fill value the dtype cannot hold
  // (Scalar::unfit_reason: 1000 for int8, -1 for uint8, NaN for int32).
  Dataset create_dataset(const std::string& name, const Shape& shape, DType dtype = {},
                         const Shape& chunk_size = {}, const Scalar& fillvalue = 0);
  // The same in the on-store layout `storage` asks for (include/dosna/format.h):
  // also NotSupported for a format the store does not hold or an unknown
  // codec (naming it), InvalidArgument for zarr options on format dosna.
  // A rejected create writes nothing.
  Dataset create_dataset(const std::string& name, const Shape& shape, DType dtype,
                         const Shape& chunk_size, const Scalar& fillvalue,
                         const StorageOptions& storage);
  // Creates a dataset of data's shape and dtype and loads data into it.
  Dataset create_dataset(const std::string& name, ArrayView data, const Shape& chunk_size = {},
                         const Scalar& fillvalue = 0, const StorageOptions& storage = {});
  Dataset create_dataset(const std::string& name, const NdArray& data,
                         const Shape& chunk_size = {}, const Scalar& fillvalue = 0) {
    return create_dataset(name, data.view(), chunk_size, fillvalue);
  }
  // Throws DatasetNotFound; IoError for a record that cannot be read or is
  // corrupt; InvalidArgument for a record declaring chunks over
  // max_chunk_bytes (checked before anything of that size is allocated).
  Dataset get_dataset(const std::string& name) const;
  Dataset operator[](const std::string& name) const { return get_dataset(name); }
  bool has_dataset(const std::string& name) const;
  // Removes the dataset, also a broken one get_dataset cannot open. Throws
  // DatasetNotFound.
  void del_dataset(const std::string& name);
  // Names of every dataset whose name is valid, sorted, broken ones included
  // (one unreadable record does not make listing fail).
  std::vector<std::string> list_datasets() const;
  // Every dataset of the store and whether it opens: see DatasetStatus.
  std::vector<DatasetStatus> list_datasets_status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dosna
