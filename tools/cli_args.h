// Everything the command line can carry, filled by CLI11 in main.cc and read
// by the commands. One struct: each command reads the fields it declared.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dosna::cli {

struct Args {
  // On every command.
  std::string engine;  // empty: threads when built, else cpu
  std::vector<std::string> engine_opts;
  bool quiet = false;
  std::string backend;  // for bare store names
  std::vector<std::string> opts;
  std::string dst_backend;  // cp: destination store, when it differs
  std::vector<std::string> dst_opts;

  // Positionals.
  std::string store, name;
  std::string dst_store, dst_name;
  std::string file;
  std::string selection;

  // Per command.
  std::string shape, dtype = "float32", chunks, fillvalue = "0";
  // create/import/cp: the new dataset's layout (dosna/format.h).
  std::string format, compression, shard;
  std::optional<int> compression_level;
  std::string h5path;
  std::string png;
  std::optional<double> vmin, vmax;
  bool force = false;
  bool json = false;
  bool stats = false;                    // cp/import/export: a JSON timing line on stdout
  std::vector<std::string> passthrough;  // bench
  std::string host = "127.0.0.1";        // serve
  int port = 8765;
  std::string token;
  std::string cache_bytes = "256M";
};

}  // namespace dosna::cli
