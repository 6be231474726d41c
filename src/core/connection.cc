#include "dosna/connection.h"

#include <optional>

#include "core/dataset_state.h"
#include "core/stores.h"
#include "dosna/chunk_cache.h"
#include "dosna/names.h"
#include "dosna/registry.h"

namespace dosna {

struct Connection::Impl {
  ConnectionConfig config;
  std::shared_ptr<Backend> backend;
  std::shared_ptr<Engine> engine;
  bool closed = false;  // disconnect() was called explicitly

  std::string describe() const {
    return std::string(backend->kind()) + " store '" + backend->name() + "'";
  }
  // The original connects on first use; keep users' scripts working, but a
  // connection closed on purpose stays closed.
  void ensure_connected() {
    if (backend->connected()) return;
    if (closed) throw ConnectionError(describe() + ": the connection is closed");
    backend->connect();
  }
  // The stored record of a dataset with a valid name, checked before
  // anything of the size it declares exists. Throws DatasetNotFound, the
  // backend's errors, IoError for a corrupt record, InvalidArgument for one
  // over max_chunk_bytes.
  DatasetMeta read_record(const std::string& name) const {
    auto meta = backend->read_dataset(name);
    if (!meta) throw DatasetNotFound("dataset " + quote(name) + " not found in " + describe());
    try {
      meta->validate(name);
    } catch (const InvalidArgument& e) {
      throw IoError(describe() + ": corrupt record: " + e.what());
    }
    meta->check_chunk_limit(name, backend->max_chunk_bytes(), true);
    return std::move(*meta);
  }
};

namespace {

void refuse_unshared(const Backend& backend, const Engine& engine) {
  const stores::StoreKind* store = stores::find(backend.kind());
  if (store && !store->shared && engine.multi_process())
    throw NotSupported("the " + std::string(backend.kind()) + " backend cannot be used with the " + std::string(engine.kind()) +
                       " engine: every process would hold its own private copy of the data");
}

}  // namespace

Connection::Connection(ConnectionConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->engine = make_engine(config.engine, config.engine_options);
  impl_->backend = with_chunk_cache(make_backend(config.backend, config.name, config.options),
                                    config.chunk_cache_bytes);
  refuse_unshared(*impl_->backend, *impl_->engine);
  impl_->config = std::move(config);
}

Connection::Connection(std::string name, Options options, std::string backend, std::string engine,
                       Options engine_options)
    : Connection(ConnectionConfig{std::move(name), std::move(backend), std::move(options),
                                  std::move(engine), std::move(engine_options)}) {}

Connection::Connection(std::shared_ptr<Backend> backend, std::shared_ptr<Engine> engine)
    : impl_(std::make_unique<Impl>()) {
  refuse_unshared(*backend, *engine);
  impl_->config.name = backend->name();
  impl_->config.backend = std::string(backend->kind());
  impl_->config.engine = std::string(engine->kind());
  impl_->backend = std::move(backend);
  impl_->engine = std::move(engine);
}

Connection Connection::open(std::string_view uri, const Options& options, std::string engine,
                            Options engine_options) {
  StoreUri store = parse_store_uri(uri);
  for (const auto& [key, value] : options) store.options[key] = value;
  Connection con(ConnectionConfig{std::move(store.name), std::move(store.backend),
                                  std::move(store.options), std::move(engine),
                                  std::move(engine_options)});
  con.connect();
  return con;
}

Connection Connection::open(const StoreUri& store, std::shared_ptr<Engine> engine,
                            std::size_t chunk_cache_bytes) {
  Connection con(with_chunk_cache(make_backend(store.backend, store.name, store.options),
                                  chunk_cache_bytes),
                 std::move(engine));
  con.impl_->config.options = store.options;
  con.impl_->config.chunk_cache_bytes = chunk_cache_bytes;
  con.connect();
  return con;
}

std::string Connection::uri() const {
  return to_string(StoreUri{impl_->config.backend, impl_->config.name, impl_->config.options});
}

Connection::~Connection() {
  if (impl_) impl_->backend->disconnect();
}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

void Connection::connect() {
  impl_->closed = false;
  impl_->backend->connect();
}
void Connection::disconnect() noexcept {
  impl_->closed = true;
  impl_->backend->disconnect();
}
bool Connection::connected() const { return impl_->backend->connected(); }

const std::string& Connection::name() const { return impl_->config.name; }
const ConnectionConfig& Connection::config() const { return impl_->config; }
Backend& Connection::backend() const { return *impl_->backend; }
Engine& Connection::engine() const { return *impl_->engine; }
int Connection::mpi_rank() const { return impl_->engine->rank(); }
int Connection::mpi_size() const { return impl_->engine->size(); }
bool Connection::mpi_is_root() const { return impl_->engine->is_root(); }

Dataset Connection::create_dataset(const std::string& name, const Shape& shape, DType dtype,
                                   const Shape& chunk_size, const Scalar& fillvalue) {
  return create_dataset(name, shape, dtype, chunk_size, fillvalue, StorageOptions{});
}

Dataset Connection::create_dataset(const std::string& name, const Shape& shape, DType dtype,
                                   const Shape& chunk_size, const Scalar& fillvalue,
                                   const StorageOptions& storage) {
  check_dataset_name(name, impl_->describe());
  DatasetMeta meta{shape, dtype, fillvalue, chunk_size.empty() ? shape : chunk_size};
  if (chunk_size.empty())
    for (auto& c : meta.chunk_size) c = std::max<std::int64_t>(c, 1);
  meta.validate(name);
  meta.check_chunk_limit(name, impl_->backend->max_chunk_bytes(), false);
  if (const std::string why = fillvalue.unfit_reason(dtype); !why.empty())
    throw InvalidArgument(impl_->describe() + ": dataset " + quote(name) + ": fill value " +
                          fillvalue.repr() + " " + why);
  impl_->ensure_connected();
  impl_->engine->run_on_root([&] { impl_->backend->create_dataset(name, meta, storage); });
  return Dataset(std::make_shared<detail::DatasetState>(name, meta, impl_->backend, impl_->engine));
}

Dataset Connection::create_dataset(const std::string& name, ArrayView data, const Shape& chunk_size,
                                   const Scalar& fillvalue, const StorageOptions& storage) {
  Dataset ds = create_dataset(name, data.shape, data.dtype, chunk_size, fillvalue, storage);
  try {
    ds.load(data);
  } catch (...) {
    try {
      ds.remove();
    } catch (...) {
    }
    throw;
  }
  return ds;
}

Dataset Connection::get_dataset(const std::string& name) const {
  check_dataset_name(name, impl_->describe());
  impl_->ensure_connected();
  DatasetMeta meta = impl_->read_record(name);
  return Dataset(std::make_shared<detail::DatasetState>(name, meta, impl_->backend, impl_->engine));
}

bool Connection::has_dataset(const std::string& name) const {
  check_dataset_name(name, impl_->describe());
  impl_->ensure_connected();
  return impl_->backend->read_dataset(name).has_value();
}

void Connection::del_dataset(const std::string& name) {
  check_dataset_name(name, impl_->describe());
  std::optional<Dataset> ds;
  try {
    ds.emplace(get_dataset(name));
  } catch (const DatasetNotFound&) {
    throw;
  } catch (const ConnectionError&) {
    throw;
  } catch (const Error&) {
    // A dataset that cannot be opened (its record is unreadable, corrupt or
    // over max_chunk_bytes) is removed without reading it.
    impl_->engine->run_on_root([&] { impl_->backend->delete_dataset(name); });
    return;
  }
  ds->remove();
}

std::vector<std::string> Connection::list_datasets() const {
  impl_->ensure_connected();
  std::vector<std::string> out = impl_->backend->list_datasets();
  std::erase_if(out, [](const std::string& n) { return !dataset_name_problem(n).empty(); });
  return out;
}

std::vector<DatasetStatus> Connection::list_datasets_status() const {
  impl_->ensure_connected();
  std::vector<DatasetStatus> out;
  for (auto& name : impl_->backend->list_datasets()) {
    DatasetStatus entry;
    entry.name = std::move(name);
    if (const std::string why = dataset_name_problem(entry.name); !why.empty()) {
      entry.problem = "dataset name " + quote(entry.name) + " " + why;
    } else {
      try {
        entry.meta = impl_->read_record(entry.name);
      } catch (const DatasetNotFound&) {
        continue;  // deleted since it was listed
      } catch (const ConnectionError&) {
        throw;
      } catch (const Error& e) {
        entry.problem = e.what();
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace dosna
