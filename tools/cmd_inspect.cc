// ls, info, create, rm.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "context.h"
#include "dataset_json.h"
#include "dosna/errors.h"
#include "progress.h"

namespace dosna::cli {

nlohmann::json dataset_json(const Dataset& ds, bool full) {
  nlohmann::json j;
  j["name"] = ds.name();
  j["shape"] = ds.shape();
  j["dtype"] = ds.dtype().name();
  j["chunk_size"] = ds.chunk_size();
  j["stored_chunks"] = ds.stored_chunks();
  j["total_chunks"] = ds.total_chunks();
  if (full) {
    j["dtype_str"] = ds.dtype().str();
    j["fillvalue"] = ds.fillvalue().repr(ds.dtype());
    j["chunk_grid"] = ds.chunk_grid();
    j["chunk_bytes"] = ds.meta().chunk_nbytes();
    j["nbytes"] = nbytes(ds.shape(), ds.dtype().itemsize());
    j["backend"] = std::string(ds.backend().kind());
    j["store"] = ds.backend().name();
  }
  return j;
}

int cmd_ls(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  std::vector<std::vector<std::string>> rows;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : con.list_datasets()) {
    const Dataset ds = con.get_dataset(name);
    if (args.json) {
      list.push_back(dataset_json(ds, false));
      continue;
    }
    rows.push_back({name, shape_to_string(ds.shape()), ds.dtype().name(),
                    shape_to_string(ds.chunk_size()),
                    std::to_string(ds.stored_chunks()) + "/" + std::to_string(ds.total_chunks())});
  }
  if (args.json) {
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (rows.empty()) return 0;
  rows.insert(rows.begin(), {"NAME", "SHAPE", "DTYPE", "CHUNKS", "STORED"});
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
  return 0;
}

int cmd_info(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  const Dataset ds = con.get_dataset(args.name);
  const nlohmann::json j = dataset_json(ds, true);
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "name:          " << ds.name() << "\n"
            << "store:         " << describe(spec) << "\n"
            << "shape:         " << shape_to_string(ds.shape()) << "\n"
            << "dtype:         " << ds.dtype().name() << " (" << ds.dtype().str() << ")\n"
            << "fillvalue:     " << ds.fillvalue().repr(ds.dtype()) << "\n"
            << "chunk_size:    " << shape_to_string(ds.chunk_size()) << "\n"
            << "chunk_grid:    " << shape_to_string(ds.chunk_grid()) << "\n"
            << "total_chunks:  " << ds.total_chunks() << "\n"
            << "stored_chunks: " << ds.stored_chunks() << "\n"
            << "chunk_bytes:   " << ds.meta().chunk_nbytes() << "\n"
            << "nbytes:        " << nbytes(ds.shape(), ds.dtype().itemsize()) << " ("
            << human_bytes(static_cast<double>(nbytes(ds.shape(), ds.dtype().itemsize()))) << ")\n";
  return 0;
}

int cmd_create(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  const Shape shape = parse_shape(args.shape, "--shape");
  const Shape chunks = parse_shape(args.chunks, "--chunks");
  const DType dtype = DType::parse(args.dtype);
  const Scalar fill = Scalar::parse(args.fillvalue);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kCreateMissing);
  if (args.force && con.has_dataset(args.name)) con.del_dataset(args.name);
  con.create_dataset(args.name, shape, dtype, chunks, fill);
  return 0;
}

int cmd_rm(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  if (args.force && !con.has_dataset(args.name)) return 0;
  con.del_dataset(args.name);
  return 0;
}

}  // namespace dosna::cli
