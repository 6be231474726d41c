// The zarr v3/v2 dataset format over a byte-key store (docs/format.md
// "Zarr"): dataset `vol` is the zarr array under the key prefix `vol/`.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dosna/backend.h"
#include "dosna/kvstore.h"
#include "formats/zarr/metadata.h"

namespace dosna::zarr {

// The current store of a connection (the format backend replaces it on
// reconnect); throws ConnectionError when not connected.
using KvSource = std::function<std::shared_ptr<KvStore>()>;

// The metadata of the zarr array `dataset`, or nullopt if there is none
// (neither zarr.json nor .zarray). Throws IoError/NotSupported as parse_v3.
std::optional<ArrayMeta> read_array(KvStore& kv, const std::string& dataset);

// Writes the metadata of a new array (after checking its codecs build).
// Throws AlreadyExists if the key is taken (nothing written).
void create_array(KvStore& kv, const std::string& dataset, const ArrayMeta& meta);

// Rewrites the metadata of the existing array `dataset` with `change`
// applied (its shape or attributes): a read-modify-write of zarr.json (v2:
// .zarray, and .zattrs when the attributes change) put only if the document
// is still the one read, retried otherwise. Throws DatasetNotFound.
void update_array(KvStore& kv, const std::string& dataset,
                  const std::function<void(ArrayMeta&)>& change);

// The chunks of array `dataset`: the core's chunk is the zarr chunk (the
// inner chunk when sharded).
std::shared_ptr<ChunkStore> array_chunks(KvSource kv, const std::string& dataset,
                                         const ArrayMeta& meta);

}  // namespace dosna::zarr
