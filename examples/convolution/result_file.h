// The job's timings file, laid out like the original's: in <out>/result.h5
// a float32 dataset "<backend>/<mpi_size>" of shape
// (n_sizes, n_chunks, n_tests, ntest) with axisK_label / axisK_value
// attributes. Other runs' datasets in the same file are kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dosna::conv {

struct ResultLayout {
  std::vector<std::int64_t> sizes, chunks;
  std::vector<std::string> tests;  // axis2_value
  std::int64_t ntest = 0;
  std::vector<std::uint64_t> dims() const;
};

// Throws dosna::InvalidArgument if `path` holds dataset `key` with another
// shape, IoError if the file exists but cannot be read as HDF5.
void check_result_file(const std::string& path, const std::string& key, const ResultLayout& layout);

// Creates or updates dataset `key` (groups created as needed) with `values`
// (C order over layout.dims()) and its attributes.
void write_result_file(const std::string& path, const std::string& key, const ResultLayout& layout,
                       const std::vector<float>& values);

}  // namespace dosna::conv
