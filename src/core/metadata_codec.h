// Text forms of the metadata record shared by the layouts in docs/format.md:
// shape "100::100::100", dtype "<f4", fillvalue Scalar::stored_form, chunk_grid and
// chunk_size "4::4::4". Backends that store text (ceph xattrs, s3 user
// metadata) use these; hdf5 stores typed attributes but the same checks.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "dosna/backend.h"

namespace dosna::codec {

// "100::100::100"
std::string format_ints(const Shape& values);
// Parses "100::100::100" (also accepts "(100, 100, 100)" and "[100, 100]" as
// older writers produced). Throws IoError naming `dataset` and `field`.
Shape parse_ints(std::string_view text, std::string_view dataset, std::string_view field);

// Field names, in the order docs/format.md lists them.
inline constexpr const char* kShape = "shape";
inline constexpr const char* kDtype = "dtype";
inline constexpr const char* kFillvalue = "fillvalue";
inline constexpr const char* kChunkGrid = "chunk_grid";
inline constexpr const char* kChunkSize = "chunk_size";

// Where the dosna layouts keep a dataset's user attributes (JSON text):
// the ceph xattr and the s3 object key (docs/format.md "Attributes").
inline constexpr const char* kAttributesXattr = "dosna_attributes";
inline constexpr const char* kAttributesObject = "dosna_attributes.json";

// {"shape": "...", "dtype": "<f4", "fillvalue": "0", "chunk_grid": "...",
//  "chunk_size": "..."}
std::map<std::string, std::string> encode(const DatasetMeta& meta);
// The inverse; validates that every field is present and consistent
// (chunk_grid == ceil(shape/chunk_size)). Throws IoError naming the dataset
// and the bad field: a corrupted record is a store error, not a user error.
DatasetMeta decode(const std::map<std::string, std::string>& fields, std::string_view dataset);

// The signature stored in a Ceph dataset object / S3 dataset_root body.
inline constexpr std::string_view kSignature = "DosNa Dataset";

// "0.3.1" (ceph object suffix, s3 key) and "0_3_1" (hdf5 file name part).
std::string join_index(const ChunkIndex& index, char separator);
// Parses "0.3.1"; nullopt if the text is not `ndim` non-negative integers.
std::optional<ChunkIndex> split_index(std::string_view text, char separator, std::size_t ndim);

}  // namespace dosna::codec
