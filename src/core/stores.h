// The store descriptor table: one row per kind of store (ram, file, hdf5,
// ceph, s3) and the one place that says what each kind is. Contract: every
// fact about a store kind that the core, the URI code (dosna/store_uri.h), the
// Python module or the CLI needs is a field of its row; nothing else names a
// kind to decide something. Adding a store = adding a row here (stores.cc)
// plus its own files (docs/architecture.md).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dosna/backend.h"
#include "dosna/kvstore.h"

namespace dosna::stores {

// How a store URI's path names the store (dosna/store_uri.h).
enum class Naming {
  // The whole path is the store name: ram://NAME, ceph://POOL, s3://LABEL.
  kName,
  // A filesystem location: the last component is the store name, the rest
  // the `directory` option (hdf5:///abs/dir/name, file://rel/name). Two such
  // stores are the same when their resolved paths are.
  kPath,
};

struct StoreKind {
  std::string_view name;  // registry name, URI scheme, Backend::kind()
  // The native (dosna-format) layout; nullptr when the kind has none or
  // this build lacks it.
  std::shared_ptr<Backend> (*backend)(const std::string& name, const Options& options);
  // The byte-key store holding zarr datasets beside the native layout
  // (docs/format.md); nullptr when the kind holds only the dosna format or
  // this build lacks it.
  std::shared_ptr<KvStore> (*kvstore)(const std::string& name, const Options& options);
  bool built;                      // compiled into this build
  std::string_view default_format; // format of new datasets without `format`
  bool shared;                     // every process of a multi-process engine sees the same data
  Naming naming;
  // Connection options a printed URI leaves out (credentials).
  std::span<const std::string_view> secret_options;
};

// Every row, in the order known_backends() lists them.
std::span<const StoreKind> all();

// The row of `kind`, nullptr for an unknown kind.
const StoreKind* find(std::string_view kind);

// The row of `kind`; InvalidArgument naming `kind` and the known kinds when
// there is none.
const StoreKind& require(std::string_view kind);

}  // namespace dosna::stores
