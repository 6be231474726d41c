#include "core/stores.h"

#include <array>

#include "core/builtin.h"
#include "dosna/errors.h"

namespace dosna::stores {
namespace {

constexpr std::string_view kNoSecrets[] = {""};
constexpr std::string_view kS3Secrets[] = {"aws_access_key_id", "aws_secret_access_key",
                                           "aws_session_token"};

#ifdef DOSNA_HAVE_HDF5
constexpr bool kHdf5 = true;
constexpr auto kHdf5Backend = builtin::make_hdf5_backend;
#else
constexpr bool kHdf5 = false;
constexpr std::shared_ptr<Backend> (*kHdf5Backend)(const std::string&, const Options&) = nullptr;
#endif
#ifdef DOSNA_HAVE_CEPH
constexpr bool kCeph = true;
constexpr auto kCephBackend = builtin::make_ceph_backend;
constexpr auto kCephKvStore = builtin::make_ceph_kvstore;
#else
constexpr bool kCeph = false;
constexpr std::shared_ptr<Backend> (*kCephBackend)(const std::string&, const Options&) = nullptr;
constexpr std::shared_ptr<KvStore> (*kCephKvStore)(const std::string&, const Options&) = nullptr;
#endif
#ifdef DOSNA_HAVE_S3
constexpr bool kS3 = true;
constexpr auto kS3Backend = builtin::make_s3_backend;
constexpr auto kS3KvStore = builtin::make_s3_kvstore;
#else
constexpr bool kS3 = false;
constexpr std::shared_ptr<Backend> (*kS3Backend)(const std::string&, const Options&) = nullptr;
constexpr std::shared_ptr<KvStore> (*kS3KvStore)(const std::string&, const Options&) = nullptr;
#endif

const std::array<StoreKind, 5> kStores{{
    {"ram", builtin::make_ram_backend, builtin::make_ram_kvstore, true, "dosna", false,
     Naming::kName, std::span(kNoSecrets).first(0)},
    {"file", nullptr, builtin::make_file_kvstore, true, "zarr3", true, Naming::kPath,
     std::span(kNoSecrets).first(0)},
    {"hdf5", kHdf5Backend, nullptr, kHdf5, "dosna", true, Naming::kPath,
     std::span(kNoSecrets).first(0)},
    {"ceph", kCephBackend, kCephKvStore, kCeph, "dosna", true, Naming::kName,
     std::span(kNoSecrets).first(0)},
    {"s3", kS3Backend, kS3KvStore, kS3, "dosna", true, Naming::kName, kS3Secrets},
}};

}  // namespace

std::span<const StoreKind> all() { return kStores; }

const StoreKind* find(std::string_view kind) {
  for (const auto& s : kStores)
    if (s.name == kind) return &s;
  return nullptr;
}

const StoreKind& require(std::string_view kind) {
  if (const auto* s = find(kind)) return *s;
  std::string known;
  for (const auto& s : kStores) known += (known.empty() ? "" : ", ") + std::string(s.name);
  throw InvalidArgument("unknown backend '" + std::string(kind) + "' (known: " + known + ")");
}

}  // namespace dosna::stores
