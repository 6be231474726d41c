// The JSON description of a dataset shared by `ls --json`, `info --json` and
// the viewer API.
#pragma once

#include <nlohmann/json.hpp>

#include "dosna/dataset.h"

namespace dosna::cli {

// name, shape, dtype, chunk_size, stored_chunks, total_chunks; with `full`
// also dtype_str, fillvalue, chunk_grid, chunk_bytes, nbytes, backend, store,
// format, location ("" for the dosna format).
nlohmann::json dataset_json(const Dataset& ds, bool full);

}  // namespace dosna::cli
