#include "dosna/registry.h"

#include <algorithm>

#include "core/builtin.h"
#include "core/options.h"
#include "core/stores.h"
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

std::vector<std::string> known_backends() {
  std::vector<std::string> out;
  for (const auto& s : stores::all()) out.emplace_back(s.name);
  return out;
}

std::vector<std::string> available_backends() {
  std::vector<std::string> out;
  for (const auto& s : stores::all())
    if (s.built) out.emplace_back(s.name);
  return out;
}

bool backend_is_shared(std::string_view backend) { return stores::require(backend).shared; }

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
  const stores::StoreKind* store = stores::find(kind);
  if (!store || !store->built) {
    if (store)
      throw NotBuilt("backend '" + std::string(kind) +
                     "' is not built into this DosNa (available: " + join(available_backends()) +
                     ")");
    throw InvalidArgument("unknown backend '" + std::string(kind) +
                          "' (available: " + join(available_backends()) + ")");
  }
  std::string format(store->default_format);
  if (auto it = backend_options.find(std::string(kFormatOption)); it != backend_options.end()) {
    format = it->second;
    backend_options.erase(it);
    if (!store->kvstore && format != "dosna")
      throw InvalidArgument(std::string(kind) + " connection: option format='" + format +
                            "': this store holds only the dosna format");
  }
  std::shared_ptr<Backend> backend;
  if (store->backend) backend = store->backend(name, backend_options);
  if (store->kvstore) {
    backend = formats::make_format_backend(
        std::string(kind), name, std::move(backend),
        [make = store->kvstore, name, backend_options] { return make(name, backend_options); },
        format);
  }
  backend->set_max_chunk_bytes(max_chunk_bytes);
  return backend;
}

std::shared_ptr<KvStore> make_kvstore(std::string_view kind, const std::string& name,
                                      const Options& options) {
  std::vector<std::string> available;
  for (const auto& s : stores::all()) {
    if (!s.kvstore) continue;
    if (kind == s.name) return s.kvstore(name, options);
    available.emplace_back(s.name);
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
