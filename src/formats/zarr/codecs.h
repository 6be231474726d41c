// Zarr chunk codecs (docs/format.md "Zarr"): the chain that turns a chunk's
// decoded bytes (a full chunk block, C order, native little-endian, as the
// core hands chunks around) into the stored bytes and back. Built from a
// zarr v3 `codecs` list or a zarr v2 `compressor`/`filters`/`order`.
// Sharding (sharding_indexed) is not a codec of this chain: the zarr format
// reads and writes shards itself and uses a CodecChain for the inner chunks
// and one for the shard index.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dosna/backend.h"
#include "dosna/dtype.h"

namespace dosna::zarr {

// What a chain encodes: one chunk's shape and element type.
struct ChunkSpec {
  Shape shape;
  DType dtype;
};

class CodecChain {
 public:
  // From a zarr v3 codec list (array->array, one array->bytes, bytes->bytes).
  // Throws NotSupported naming an unknown codec or configuration value,
  // InvalidArgument for a malformed list. `what` names the array in messages.
  static CodecChain from_v3(const nlohmann::json& codecs, const ChunkSpec& spec,
                            const std::string& what);
  // From zarr v2 metadata fields (`compressor` may be null, `filters` null or
  // a list, order "C" or "F"; dtype byte order from the `dtype` string).
  static CodecChain from_v2(const nlohmann::json& compressor, const nlohmann::json& filters,
                            const std::string& order, const std::string& dtype_str,
                            const ChunkSpec& spec, const std::string& what);

  // The stored bytes of one chunk (`decoded` has spec.shape x itemsize bytes).
  ChunkData encode(const ChunkData& decoded) const;
  // The decoded chunk from stored bytes. Throws IoError naming `what` and
  // the chunk (`chunk`, e.g. "c/0/1/2") for a truncated or corrupt payload, a
  // checksum mismatch or a size that does not match the spec.
  ChunkData decode(const ChunkData& stored, const std::string& chunk) const;

  // Stored size of an encoded chunk when it is fixed (no compression: the
  // shard index), else nullopt.
  std::optional<std::size_t> fixed_encoded_size() const;

  // The chain as a zarr v3 `codecs` list (for zarr.json).
  nlohmann::json to_v3_json() const;

  struct Codec;  // one step; defined in codecs.cc

 private:
  std::vector<std::shared_ptr<const Codec>> steps_;
  ChunkSpec spec_;
  std::string what_;
};

}  // namespace dosna::zarr
