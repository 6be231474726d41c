// How a dataset is laid out on its store (docs/format.md): DosNa's own
// layouts (what the original reads) or a zarr array other zarr readers open.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dosna/selection.h"

namespace dosna {

// Creation options of one dataset's on-store layout. Default-constructed:
// the store's default format, no compression.
struct StorageOptions {
  // "" = the connection's default (option format=, else "dosna"; the file
  // store: "zarr3"), "dosna", "zarr3", "zarr2".
  std::string format;
  // zarr only: "zstd", "gzip", "blosc-lz4", "blosc-zstd"; nullopt = none.
  std::optional<std::string> compression;
  std::optional<int> compression_level;
  // zarr3 only: shard extent per axis (a multiple of the chunk size); empty =
  // unsharded. The dataset's chunk_size is then the inner chunk.
  Shape shard_shape;
  // zarr3 only, for experts: a full v3 `codecs` list as JSON text (replaces
  // compression and compression_level); empty = built from them.
  std::string codecs;

  bool is_default() const {
    return format.empty() && !compression && !compression_level && shard_shape.empty() &&
           codecs.empty();
  }
};

// Throws for options a dosna-format dataset of `what` (a dataset name)
// cannot have: NotSupported for format zarr3/zarr2 on a store holding only
// the dosna format, InvalidArgument for compression, shard_shape or codecs
// (the original DosNa could not read the chunks), InvalidArgument for an
// unknown format name.
void check_dosna_options(const StorageOptions& options, std::string_view store,
                         std::string_view what);

}  // namespace dosna
