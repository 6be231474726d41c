// In-process striped locks serialising read-modify-writes of the same chunk,
// so threads (and Datasets opened twice) never lose each other's updates.
#pragma once

#include <mutex>
#include <string_view>

#include "dosna/selection.h"

namespace dosna {

// The mutex guarding chunk `index` of dataset `key` (backend kind + store
// name + dataset name). Different chunks may share a stripe.
std::mutex& chunk_lock(std::string_view key, const ChunkIndex& index);

}  // namespace dosna
