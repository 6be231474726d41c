// Turning command-line arguments into connected stores, engines and shapes.
#pragma once

#include <memory>
#include <string>

#include "cli_args.h"
#include "dosna/connection.h"
#include "dosna/engine.h"
#include "store_uri.h"

namespace dosna::cli {

// The engine named by --engine/--engine-opt (default: threads when this
// build has it, else cpu).
std::shared_ptr<Engine> make_cli_engine(const Args& args);

// How open_store treats a missing filesystem store directory.
enum class StoreMode { kExisting, kCreateMissing };

// Builds and connects the store over `engine` (Connection::open). With
// kCreateMissing the directory of a filesystem store (store_path: hdf5,
// file) that does not exist yet is created first (commands that write:
// create, cp, import). `chunk_cache_bytes` > 0 puts a decoded-chunk
// cache of that budget over the store (dosna/chunk_cache.h).
Connection open_store(const StoreSpec& spec, std::shared_ptr<Engine> engine, StoreMode mode,
                      std::size_t chunk_cache_bytes = 0);

// "100,200,3" (also "(100, 200, 3)" or "100x200x3") -> Shape. Throws
// InvalidArgument naming `flag` and the text.
Shape parse_shape(const std::string& text, const std::string& flag);

// The layout --format/--compression/--compression-level/--shard ask for.
// Throws InvalidArgument for a bad --shard; the store checks the rest when
// the dataset is created.
StorageOptions storage_options(const Args& args);

// Bytes of `shape` elements of `itemsize` bytes.
std::uint64_t nbytes(const Shape& shape, std::size_t itemsize);

// Whether progress bars are drawn: stderr is a terminal and no --quiet.
bool progress_enabled(const Args& args);

}  // namespace dosna::cli
