// dataset.h5: the metadata record of an hdf5-backend dataset, stored as
// attributes of the root group the way the Python original (h5py) writes
// them (FORMAT.md, HDF5 section).
#pragma once

#include <string>
#include <string_view>

#include "dosna/backend.h"

namespace dosna::hdf5 {

// Creates (truncating) the HDF5 file `path` with root attributes shape,
// chunk_grid, chunk_size (int64 arrays), dtype (variable-length UTF-8 string)
// and fillvalue (scalar of the dataset's HDF5 type). Throws IoError naming
// `dataset`.
void write_metadata_file(const std::string& path, const DatasetMeta& meta,
                         std::string_view dataset);

// Reads the record back. Accepts what h5py writes: integer arrays of any
// width, variable- or fixed-length strings for dtype, bool/complex fill values
// as h5py's enum/compound, and `chunks` for chunk_grid (older originals).
// Throws IoError naming `dataset` and the bad field.
DatasetMeta read_metadata_file(const std::string& path, std::string_view dataset);

}  // namespace dosna::hdf5
