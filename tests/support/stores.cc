#include "support/stores.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "dosna/registry.h"

namespace dosna::testing {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool contains_store(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace

std::vector<std::string> zarr_test_stores() { return {"ram", "file", "ceph", "s3"}; }
std::vector<std::string> zarr_formats() { return {"zarr3", "zarr2"}; }

bool services_required() {
  const std::string v = env("DOSNA_REQUIRE_SERVICES");
  return !v.empty() && v != "0" && v != "false";
}

std::string unique_name(const std::string& hint) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return "t" + std::to_string(getpid()) + "-" + std::to_string(salt) + "-" +
         std::to_string(counter++) + "-" + hint;
}

TestStore make_test_store(const std::string& backend_format, const std::string& engine,
                          const Options& engine_options) {
  const std::size_t cut = backend_format.find('_');
  const std::string backend = backend_format.substr(0, cut);
  TestStore store;
  store.config.backend = backend;
  store.config.engine = engine;
  store.config.engine_options = engine_options;
  if (backend == "ram") {
    store.config.name = unique_name("ram");
  } else if (backend == "hdf5" || backend == "file") {
    auto parent = std::filesystem::temp_directory_path() / unique_name(backend);
    std::filesystem::create_directories(parent / "store");
    store.config.name = "store";
    store.config.options = {{"directory", parent.string()}};
    store.cleanup = [parent] { std::filesystem::remove_all(parent); };
  } else if (backend == "ceph") {
    if (env("DOSNA_CEPH_POOL").empty() || env("CEPH_CONF").empty()) {
      store.skip_reason = "ceph: DOSNA_CEPH_POOL/CEPH_CONF not set (scripts/local-services.sh)";
    }
    store.config.name = env("DOSNA_CEPH_POOL");
    store.config.options = {{"conffile", env("CEPH_CONF")}};
  } else if (backend == "s3") {
    if (env("DOSNA_S3_ENDPOINT").empty()) {
      store.skip_reason = "s3: DOSNA_S3_ENDPOINT not set (scripts/local-services.sh)";
    }
    store.config.name = unique_name("s3");
    store.config.options = {{"endpoint_url", env("DOSNA_S3_ENDPOINT")}};
    // Buckets are global to the endpoint, so a test that forgets a dataset
    // leaves a bucket behind: remove what this process's names left over.
    if (store.skip_reason.empty()) {
      const std::string name = store.config.name;
      const std::string prefix = name.substr(0, name.find('-', name.find('-') + 1) + 1);
      const Options options = store.config.options;
      store.cleanup = [name, prefix, options] {
        try {
          auto backend = make_backend("s3", name, options);
          backend->connect();
          for (const auto& ds : backend->list_datasets()) {
            if (ds.rfind(prefix, 0) == 0) backend->delete_dataset(ds);
          }
        } catch (const std::exception&) {
        }
      };
    }
  } else {
    store.skip_reason = "no test store for backend '" + backend + "'";
  }
  if (cut != std::string::npos) store.config.options["format"] = backend_format.substr(cut + 1);
  return store;
}

std::vector<std::tuple<std::string, std::string>> backend_engine_matrix() {
  std::vector<std::tuple<std::string, std::string>> out;
  for (const auto& b : available_backends()) {
    for (const auto& e : available_engines()) {
      if (e == "mpi" || e == "jl" || e == "joblib") continue;
      out.emplace_back(b, e);
      if (e == "cpu" || e == "threads")
        for (const auto& f : zarr_formats())
          if (contains_store(zarr_test_stores(), b)) out.emplace_back(b + "_" + f, e);
    }
  }
  return out;
}

ChunkData read_range(ChunkStore& store, const ChunkIndex& index, std::size_t offset,
                     std::size_t length) {
  const std::vector<ByteRange> ranges{ByteRange{offset, length}};
  ChunkData out;
  store.get_ranges_many(std::span(&index, 1), std::span(&ranges, 1), std::span(&out, 1));
  return out;
}

}  // namespace dosna::testing
