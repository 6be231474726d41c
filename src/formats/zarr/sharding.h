// Sharded zarr v3 arrays (codec sharding_indexed, docs/format.md "Zarr
// sharding"): each stored object is a shard holding its encoded inner chunks
// and an index of (offset, nbytes) per inner chunk; the core's chunk is the
// inner chunk.
//
// Reads fetch the shard index (a ranged read, cached and checked against the
// shard's generation on every data read) and only the inner chunks asked
// for, adjacent ones in one ranged read, every shard of a batch in flight
// together; a batch asking for most of a shard reads it whole. A batch of
// puts covering every inner chunk of a shard is one put of the shard; any
// other change is a read-modify-write of the shard, put only if the shard is
// still the one read (retried otherwise), so concurrent writers to different
// inner chunks of a shard lose nothing.
#pragma once

#include <memory>
#include <string>

#include "formats/zarr/zarr_format.h"

namespace dosna::zarr {

// The inner chunks of the sharded array `dataset` (meta.shard_shape set).
// Throws NotSupported for index codecs of no fixed size (compression).
std::shared_ptr<ChunkStore> sharded_chunks(KvSource kv, const std::string& dataset,
                                           const ArrayMeta& meta);

}  // namespace dosna::zarr
