// Copying a dataset to another (or the same) store, chunk by chunk, as tasks
// of the destination's engine. Used by `dosna cp` and dosna.copy_dataset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "dosna/connection.h"
#include "dosna/dataset.h"
#include "dosna/format.h"

namespace dosna {

struct CopyOptions {
  // The destination's chunk shape; empty = the source's. Another shape
  // rechunks (each destination chunk is read from the source as a box).
  Shape chunk_size;
  // The destination's on-store layout; default = the destination
  // connection's default format, uncompressed.
  StorageOptions storage;
  // Upper bound on the chunk bytes held at once (all tasks together; at
  // least one chunk is always in flight). The array is never held whole.
  std::size_t max_bytes_in_flight = std::size_t{256} << 20;
  // Called (serialised, from engine tasks) after each batch with the bytes
  // done so far and the total; the last call has done == total.
  std::function<void(std::int64_t done, std::int64_t total)> progress;
};

// Both run on the calling process with its engine's workers (under the mpi
// engine: call them on one rank, or use Dataset::clone within a store).
//
// Creates `name` in `dst` with src's shape, dtype and fill value in the
// layout `options` asks for and copies src's elements into it; returns the
// new dataset. Source chunks never written stay absent (same chunk shape:
// only stored chunks are copied; rechunked: a destination chunk whose box
// reads as all fill is not written). Throws AlreadyExists (naming both
// datasets) when `name` exists in dst, before anything is written; the
// errors of create_dataset for bad options; the source's read errors and
// the destination's write errors, after which the partial destination is
// deleted (best effort).
Dataset copy_dataset(const Dataset& src, Connection& dst, const std::string& name,
                     const CopyOptions& options = {});

// Fills `dst`, an empty dataset of src's shape and dtype, from `src` as
// copy_dataset does (options.chunk_size and storage are ignored: dst has its
// own). Returns the number of chunks written. For callers that create the
// destination themselves (`dosna cp` marks it incomplete meanwhile).
std::int64_t copy_chunks(const Dataset& src, Dataset& dst, const CopyOptions& options = {});

// How many chunks of `chunk_nbytes` bytes travel together in one batched
// request when whole chunks are copied (about 2 MiB a batch, 1 to 64 chunks):
// small chunks keep many requests in flight, big ones give many batches.
std::size_t chunks_per_batch(std::size_t chunk_nbytes);

}  // namespace dosna
