// ls, info, create, rm.
#include <cstdio>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "context.h"
#include "dataset_json.h"
#include "dosna/errors.h"
#include "incomplete.h"
#include "progress.h"
#include "terminal_text.h"

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
    j["format"] = ds.format();
    j["location"] = ds.location();
  }
  return j;
}

int cmd_ls(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  // Every name the store holds, also those DosNa refuses (put there by
  // another writer): they are listed as broken, escaped.
  const std::vector<DatasetStatus> listed = con.list_datasets_status();
  std::set<std::string> all;
  for (const auto& entry : listed) all.insert(entry.name);
  // One row per dataset: its cells, or (a dataset that cannot be read) its
  // name and why, printed after the name without widening the other columns.
  struct Row {
    std::vector<std::string> cells;
    std::string broken;
  };
  std::vector<Row> rows;
  nlohmann::json list = nlohmann::json::array();
  auto add_broken = [&](const std::string& name, bool incomplete, const std::string& why) {
    if (args.json)
      list.push_back({{"name", name}, {"broken", why}, {"incomplete", incomplete}});
    else
      rows.push_back({{printable(name)}, "<broken: " + printable(why) + ">"});
  };
  for (const auto& entry : listed) {
    const std::string& name = entry.name;
    if (is_incomplete_mark(name)) continue;
    const bool incomplete = is_incomplete(all, name);
    if (!entry.problem.empty()) {
      add_broken(name, incomplete, entry.problem);
      continue;
    }
    try {
      const Dataset ds = con.get_dataset(name);
      if (args.json) {
        nlohmann::json j = dataset_json(ds, false);
        j["incomplete"] = incomplete;
        list.push_back(std::move(j));
        continue;
      }
      rows.push_back({{printable(name), shape_to_string(ds.shape()), ds.dtype().name(),
                       shape_to_string(ds.chunk_size()),
                       std::to_string(ds.stored_chunks()) + "/" +
                           std::to_string(ds.total_chunks()) +
                           (incomplete ? " incomplete" : "")},
                      {}});
    } catch (const Error& e) {
      add_broken(name, incomplete, e.what());
    }
  }
  if (args.json) {
    std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (rows.empty()) return 0;
  rows.insert(rows.begin(), Row{{"NAME", "SHAPE", "DTYPE", "CHUNKS", "STORED"}, {}});
  std::vector<std::size_t> width(rows[0].cells.size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.cells.size(); ++c)
      width[c] = std::max(width[c], display_width(r.cells[c]));
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.cells.size(); ++c)
      line += c + 1 < width.size() ? pad_right(r.cells[c], width[c] + 2) : r.cells[c];
    if (!r.broken.empty()) line += r.broken;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  return 0;
}

int cmd_info(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  const Dataset ds = con.get_dataset(args.name);
  nlohmann::json j = dataset_json(ds, true);
  const bool incomplete = is_incomplete(con, args.name);
  j["incomplete"] = incomplete;
  j["uri"] = con.uri();
  if (args.json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (incomplete)
    std::cout << "incomplete:    yes (an interrupted cp or import; copy it again or rm it)\n";
  std::cout << "name:          " << printable(ds.name()) << "\n"
            << "store:         " << printable(describe(spec)) << "\n"
            << "uri:           " << printable(con.uri()) << "\n"
            << "shape:         " << shape_to_string(ds.shape()) << "\n"
            << "dtype:         " << ds.dtype().name() << " (" << ds.dtype().str() << ")\n"
            << "fillvalue:     " << ds.fillvalue().repr(ds.dtype()) << "\n"
            << "format:        " << ds.format() << "\n";
  if (const std::string where = ds.location(); !where.empty())
    std::cout << "location:      " << printable(where) << "\n";
  std::cout << "chunk_size:    " << shape_to_string(ds.chunk_size()) << "\n"
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
  const StorageOptions storage = storage_options(args);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kCreateMissing);
  if (args.force && con.has_dataset(args.name)) con.del_dataset(args.name);
  con.create_dataset(args.name, shape, dtype, chunks, fill, storage);
  return 0;
}

int cmd_rm(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  remove_with_mark(con, args.name, args.force);
  return 0;
}

}  // namespace dosna::cli
