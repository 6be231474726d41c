// The .npy file format (numpy/lib/format.py): versions 1.0, 2.0 and 3.0,
// little-endian numeric dtypes only, C or Fortran order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dosna/array.h"
#include "dosna/dtype.h"
#include "dosna/selection.h"

namespace dosna::cli {

struct NpyHeader {
  DType dtype;
  Shape shape;
  bool fortran_order = false;
  std::size_t data_offset = 0;  // bytes from the start of the file
};

// Parses the header at the start of `bytes` (a file of `size` bytes).
// Throws InvalidArgument naming `path` and the offending field (bad magic,
// version, dict, a dtype DosNa lacks such as '>f4' or a structured one, a
// file shorter than its shape says).
NpyHeader parse_npy_header(const std::byte* bytes, std::size_t size, const std::string& path);

// The header bytes (magic, version, padded dict) for a C-order array; the
// data follows it. Version 1.0 unless the dict needs 2.0.
std::string make_npy_header(DType dtype, const Shape& shape);

// A read-only view of the file's array (strides follow fortran_order).
ArrayView npy_view(const NpyHeader& header, const std::byte* file_bytes);

}  // namespace dosna::cli
