// Shared state behind Dataset handles (internal).
#pragma once

#include <memory>
#include <string>

#include "dosna/backend.h"
#include "dosna/engine.h"

namespace dosna::detail {

struct DatasetState {
  std::string name;
  DatasetMeta meta;
  Shape grid;
  std::int64_t total_chunks = 0;
  std::vector<std::int64_t> chunk_strides;  // bytes, C order over chunk_size
  std::shared_ptr<Backend> backend;
  std::shared_ptr<Engine> engine;
  std::shared_ptr<ChunkStore> store;
  std::byte fill[16] = {};   // the fill value as one element of dtype
  std::string lock_key;      // backend kind + store name + dataset name

  DatasetState(std::string name, DatasetMeta meta, std::shared_ptr<Backend> backend,
               std::shared_ptr<Engine> engine);
  // Throws ConnectionError if the connection was closed.
  void check_connected() const;
  std::string describe() const;  // "dataset 'x' (ram store 'y')"
};

}  // namespace dosna::detail
