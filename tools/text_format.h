// numpy-like text of an array (what print(a) shows): nested brackets,
// aligned columns, "..." summaries beyond 1000 elements.
#pragma once

#include <string>

#include "dosna/array.h"

namespace dosna::cli {

std::string format_array(const NdArray& array);

}  // namespace dosna::cli
