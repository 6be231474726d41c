// The backend a connection sees on a store that holds several dataset
// formats (docs/format.md): the store's native dosna Backend (null for a
// store that has none, `file`) beside its byte-key store, which holds the
// zarr arrays. Creation dispatches by StorageOptions::format (default: the
// connection's); opening detects the format (the native record first, then
// `<name>/zarr.json`, then `<name>/.zarray`); listing shows every format.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "dosna/backend.h"
#include "dosna/kvstore.h"

namespace dosna::formats {

// `native` may be null; `make_kv` builds a fresh byte-key store on each
// connect(). `default_format`: "dosna", "zarr3" or "zarr2" (InvalidArgument
// otherwise, or "dosna" without a native backend).
std::shared_ptr<Backend> make_format_backend(std::string kind, std::string name,
                                             std::shared_ptr<Backend> native,
                                             std::function<std::shared_ptr<KvStore>()> make_kv,
                                             std::string default_format);

}  // namespace dosna::formats
