// dataset.h5: the metadata record of an hdf5-backend dataset, stored as
// attributes of the root group the way the Python original (h5py) writes
// them (docs/format.md, HDF5 section).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/backend.h"

namespace dosna::hdf5 {

// Largest dataset.h5 the backend reads (a record is a few KiB).
inline constexpr std::size_t kMaxRecordBytes = std::size_t{16} << 20;

// The bytes of a dataset.h5 (built with HDF5 in memory) holding root
// attributes shape, chunk_grid, chunk_size (int64 arrays), dtype
// (variable-length UTF-8 string) and fillvalue (scalar of the dataset's HDF5
// type). Throws IoError naming `dataset`.
std::vector<std::byte> metadata_image(const DatasetMeta& meta, std::string_view dataset);

// Reads a record back from the bytes of a dataset.h5 (`path` names it in
// messages). Accepts what h5py writes: integer arrays of any width, variable-
// or fixed-length strings for dtype, bool/complex fill values as h5py's
// enum/compound, and `chunks` for chunk_grid (older originals). Throws
// IoError naming `dataset` and the bad field (stored values shortened) for
// anything else, also for more than kMaxRank values in an integer array or
// an image over kMaxRecordBytes; never allocates by a declared size before
// checking it.
DatasetMeta parse_metadata_image(std::span<const std::byte> image, std::string_view dataset,
                                 const std::string& path);

}  // namespace dosna::hdf5
