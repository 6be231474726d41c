// Zarr array metadata (docs/format.md "Zarr"): v3 `zarr.json` and v2
// `.zarray` (+ `.zattrs`) parsed into what the core needs (DatasetMeta) plus
// what the format keeps to read and write chunks, and printed back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dosna/backend.h"
#include "dosna/format.h"

namespace dosna::zarr {

struct ArrayMeta {
  int zarr_format = 3;  // 2 or 3
  // shape, dtype, fill value; chunk_size = the inner chunk when sharded.
  DatasetMeta meta;
  // The chunk key of grid index (0, 1): v3 default "c/0/1" (separator '/'),
  // v3 "v2" encoding or v2 "0.1" ('.') or "0/1" ('/').
  bool key_prefix_c = true;  // v3 default encoding: keys start with "c"
  char separator = '/';
  // v3: the codec list of a chunk (the inner chunk when sharded).
  nlohmann::json codecs = nlohmann::json::array();
  // v3 sharding_indexed: shard extent, index codecs, index at "end"/"start".
  Shape shard_shape;
  nlohmann::json index_codecs;
  bool index_at_end = true;
  // v2 fields.
  nlohmann::json compressor;  // null = none
  nlohmann::json filters;     // null or a list
  std::string order = "C";
  std::string dtype_str;      // "<u2", "|b1"
  // Both.
  nlohmann::json attributes = nlohmann::json::object();
  nlohmann::json dimension_names;  // null or a list (v3)

  // The chunk key (relative to the array) of a grid index (of shards when sharded).
  std::string chunk_key(const ChunkIndex& index) const;
  // The grid index of a chunk key, or nullopt if `key` is not one.
  std::optional<ChunkIndex> parse_chunk_key(std::string_view key) const;
  // Grid of stored objects: shards when sharded, else chunks.
  Shape stored_chunk_shape() const { return shard_shape.empty() ? meta.chunk_size : shard_shape; }
};

// Parse a zarr.json / .zarray document (`attrs`: the .zattrs text, may be
// empty). Throws IoError naming `what` (the dataset) and the field for a
// corrupt document; NotSupported naming an unsupported feature (data type,
// chunk grid, codec).
ArrayMeta parse_v3(std::string_view text, const std::string& what);
ArrayMeta parse_v2(std::string_view text, std::string_view attrs, const std::string& what);

// The document(s) of `m`: zarr.json for v3, .zarray for v2 (attributes go
// to .zattrs, print_v2_attrs).
std::string print_v3(const ArrayMeta& m);
std::string print_v2(const ArrayMeta& m);
std::string print_v2_attrs(const ArrayMeta& m);

// The ArrayMeta of a new array of `meta` with `options` (format zarr3 or
// zarr2). Throws InvalidArgument for a bad option (naming it), NotSupported
// for an unknown compression or codec.
ArrayMeta make_array_meta(const DatasetMeta& meta, const StorageOptions& options,
                          const std::string& what);

// The zarr v3 data_type name of a dtype ("uint16", "complex64") and back
// (nullopt: not one DosNa holds).
std::string v3_data_type(DType dtype);
std::optional<DType> from_v3_data_type(std::string_view name);

// A fill value as JSON ("NaN", "Infinity", [re, im] for complex) and back.
nlohmann::json fill_to_json(const Scalar& fill, DType dtype);
// Throws IoError naming `what` and the field for a value that is not one.
Scalar fill_from_json(const nlohmann::json& j, DType dtype, const std::string& what);

}  // namespace dosna::zarr
