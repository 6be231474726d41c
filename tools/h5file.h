// Plain HDF5 files (as h5py writes them) for import/export: one dataset
// read or written by hyperslabs. Only compiled when the hdf5 part is built
// (DOSNA_CLI_HDF5). Calls are serialised by a process-wide lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dosna/dtype.h"
#include "dosna/selection.h"

namespace dosna::cli {

// An existing dataset in an HDF5 file, opened for reading.
class H5Reader {
 public:
  // Opens `path` and the dataset `h5path`; with an empty `h5path` the file
  // must hold exactly one dataset. Throws NotFound (file, dataset),
  // PermissionDenied, InvalidArgument (not HDF5, a type DosNa lacks).
  H5Reader(const std::string& path, const std::string& h5path);
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const std::string& h5path() const { return h5path_; }
  // Reads the box [start, start+count) into `out` (C order, dtype()).
  void read(const Shape& start, const Shape& count, std::byte* out);

 private:
  std::string path_, h5path_;
  DType dtype_;
  Shape shape_;
  std::int64_t file_ = -1, dataset_ = -1, mem_type_ = -1;
};

// A new dataset in an HDF5 file (created if missing), written by boxes.
class H5Writer {
 public:
  // Creates dataset `h5path` (intermediate groups too) of `shape` and
  // `dtype` in the layout h5py reads back as that dtype (bool as h5py's
  // enum, complex as its {r, i} compound). An existing dataset is an
  // AlreadyExists unless `overwrite`.
  H5Writer(const std::string& path, const std::string& h5path, DType dtype, const Shape& shape,
           bool overwrite);
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // Writes the box [start, start+count) from `data` (C order).
  void write(const Shape& start, const Shape& count, const std::byte* data);
  // Flushes and closes; throws IoError if that fails.
  void close();

 private:
  std::string path_, h5path_;
  std::int64_t file_ = -1, dataset_ = -1, mem_type_ = -1;
};

}  // namespace dosna::cli
