#include "dosna/registry.h"

#include <algorithm>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/kvstore.h"
#include "formats/format_backend.h"

namespace dosna {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::vector<std::string> known_backends() { return {"ram", "file", "hdf5", "ceph", "s3"}; }

std::vector<std::string> available_backends() {
  std::vector<std::string> out{"ram", "file"};
#ifdef DOSNA_HAVE_HDF5
  out.push_back("hdf5");
#endif
#ifdef DOSNA_HAVE_CEPH
  out.push_back("ceph");
#endif
#ifdef DOSNA_HAVE_S3
  out.push_back("s3");
#endif
  return out;
}

std::vector<std::string> known_engines() { return {"cpu", "threads", "jl", "joblib", "mpi"}; }

std::vector<std::string> available_engines() {
  std::vector<std::string> out{"cpu"};
#ifdef DOSNA_HAVE_THREADS
  out.insert(out.end(), {"threads", "jl", "joblib"});
#endif
#ifdef DOSNA_HAVE_MPI
  out.push_back("mpi");
#endif
  return out;
}

std::string canonical_engine_name(std::string_view name) {
  if (name == "jl" || name == "joblib") return "threads";
  return std::string(name);
}

namespace {

std::shared_ptr<Backend> make_builtin_backend(std::string_view kind, const std::string& name,
                                              const Options& options) {
  if (kind == "ram") return builtin::make_ram_backend(name, options);
#ifdef DOSNA_HAVE_HDF5
  if (kind == "hdf5") return builtin::make_hdf5_backend(name, options);
#endif
#ifdef DOSNA_HAVE_CEPH
  if (kind == "ceph") return builtin::make_ceph_backend(name, options);
#endif
#ifdef DOSNA_HAVE_S3
  if (kind == "s3") return builtin::make_s3_backend(name, options);
#endif
  return nullptr;
}

// The stores whose byte-key store also holds zarr datasets beside the native
// layout (docs/format.md); adding a store here is the one change that gives
// it the zarr formats (make_kvstore must know it).
bool holds_zarr(std::string_view kind) {
  return kind == "ram" || kind == "file" || kind == "ceph" || kind == "s3";
}

// The connection option choosing the default dataset format.
constexpr std::string_view kFormatOption = "format";

}  // namespace

std::shared_ptr<Backend> make_backend(std::string_view kind, const std::string& name,
                                      const Options& options) {
  Options backend_options = options;
  std::uint64_t max_chunk_bytes = kDefaultMaxChunkBytes;
  if (auto it = backend_options.find(std::string(kMaxChunkBytesOption));
      it != backend_options.end()) {
    const long long v = OptionReader(options, std::string(kind) + " connection")
                            .take_int(kMaxChunkBytesOption, 0);
    if (v < 1)
      throw InvalidArgument(std::string(kind) + " connection: option " +
                            std::string(kMaxChunkBytesOption) + "='" + it->second +
                            "' must be a positive number of bytes");
    max_chunk_bytes = static_cast<std::uint64_t>(v);
    backend_options.erase(it);
  }
  // The file store has no native layout: it holds zarr3 (its default) and zarr2.
  const bool zarr_only = kind == "file";
  std::string format = zarr_only ? "zarr3" : "dosna";
  if (auto it = backend_options.find(std::string(kFormatOption)); it != backend_options.end()) {
    format = it->second;
    backend_options.erase(it);
    if (!holds_zarr(kind) && format != "dosna")
      throw InvalidArgument(std::string(kind) + " connection: option format='" + format +
                            "': this store holds only the dosna format");
  }
  auto backend = make_builtin_backend(kind, name, backend_options);
  if (backend || zarr_only) {
    if (holds_zarr(kind)) {
      backend = formats::make_format_backend(
          std::string(kind), name, std::move(backend),
          [kind = std::string(kind), name, backend_options] {
            return make_kvstore(kind, name, backend_options);
          },
          format);
    }
    backend->set_max_chunk_bytes(max_chunk_bytes);
    return backend;
  }
  if (contains(known_backends(), kind))
    throw NotBuilt("backend '" + std::string(kind) +
                   "' is not built into this DosNa (available: " + join(available_backends()) +
                   ")");
  throw InvalidArgument("unknown backend '" + std::string(kind) +
                        "' (available: " + join(available_backends()) + ")");
}

namespace {

struct KvStoreFactory {
  const char* kind;
  std::shared_ptr<KvStore> (*make)(const std::string& name, const Options& options);
};

// The byte-key stores compiled in.
constexpr KvStoreFactory kKvStores[] = {
    {"ram", builtin::make_ram_kvstore},
    {"file", builtin::make_file_kvstore},
#ifdef DOSNA_HAVE_CEPH
    {"ceph", builtin::make_ceph_kvstore},
#endif
#ifdef DOSNA_HAVE_S3
    {"s3", builtin::make_s3_kvstore},
#endif
};

}  // namespace

std::shared_ptr<KvStore> make_kvstore(std::string_view kind, const std::string& name,
                                      const Options& options) {
  std::vector<std::string> available;
  for (const auto& f : kKvStores) {
    if (kind == f.kind) return f.make(name, options);
    available.emplace_back(f.kind);
  }
  throw InvalidArgument("no byte-key store '" + std::string(kind) + "' (available: " +
                        join(available) + ")");
}

std::shared_ptr<Engine> make_engine(std::string_view kind, const Options& options) {
  const std::string canonical = canonical_engine_name(kind);
  if (canonical == "cpu") return builtin::make_cpu_engine(options);
#ifdef DOSNA_HAVE_THREADS
  if (canonical == "threads") return builtin::make_threads_engine(options);
#endif
#ifdef DOSNA_HAVE_MPI
  if (canonical == "mpi") return builtin::make_mpi_engine(options);
#endif
  if (contains(known_engines(), kind))
    throw NotBuilt("engine '" + std::string(kind) +
                   "' is not built into this DosNa (available: " + join(available_engines()) +
                   ")");
  throw InvalidArgument("unknown engine '" + std::string(kind) +
                        "' (available: " + join(available_engines()) + ")");
}

}  // namespace dosna
