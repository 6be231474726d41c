#include "context.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "dosna/errors.h"
#include "dosna/registry.h"
#include "file_errors.h"
#include "progress.h"

namespace dosna::cli {

std::shared_ptr<Engine> make_cli_engine(const Args& args) {
  std::string kind = args.engine;
  if (kind.empty()) {
    const auto avail = available_engines();
    kind = std::find(avail.begin(), avail.end(), "threads") != avail.end() ? "threads" : "cpu";
  }
  Options opts;
  parse_key_values(args.engine_opts, "--engine-opt", opts);
  auto engine = make_engine(kind, opts);
  if (engine->size() > 1)
    throw NotSupported("dosna runs as one process; the " + std::string(engine->kind()) +
                       " engine has " + std::to_string(engine->size()) +
                       " ranks (run dosna without mpiexec)");
  return engine;
}

Connection open_store(const StoreSpec& spec, std::shared_ptr<Engine> engine, StoreMode mode,
                      std::size_t chunk_cache_bytes) {
  if (const std::string path = store_path(spec);
      mode == StoreMode::kCreateMissing && !path.empty()) {
    make_backend(spec.backend, spec.name, spec.options);  // bad options fail before mkdir
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw_errno(ec.value(), describe(spec) + ": cannot create its directory");
  }
  return Connection::open(spec, std::move(engine), chunk_cache_bytes);
}

Shape parse_shape(const std::string& text, const std::string& flag) {
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '(' && c != ')' && c != '[' &&
        c != ']')
      t.push_back(c == 'x' ? ',' : c);
  while (!t.empty() && t.back() == ',') t.pop_back();
  Shape out;
  if (t.empty()) return out;
  std::size_t pos = 0;
  while (pos <= t.size()) {
    auto comma = t.find(',', pos);
    if (comma == std::string::npos) comma = t.size();
    const std::string item = t.substr(pos, comma - pos);
    if (item.empty() || item.size() > 18 || !std::all_of(item.begin(), item.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      throw InvalidArgument(flag + " '" + text +
                            "' is not a list of non-negative integers like 100,100,3");
    out.push_back(std::stoll(item));
    pos = comma + 1;
  }
  return out;
}

StorageOptions storage_options(const Args& args) {
  StorageOptions o;
  o.format = args.format;
  if (!args.compression.empty() && args.compression != "none") o.compression = args.compression;
  o.compression_level = args.compression_level;
  o.shard_shape = parse_shape(args.shard, "--shard");
  return o;
}

std::uint64_t nbytes(const Shape& shape, std::size_t itemsize) {
  std::uint64_t n = itemsize;
  for (auto s : shape) n *= static_cast<std::uint64_t>(s);
  return n;
}

bool progress_enabled(const Args& args) { return !args.quiet && Progress::stderr_is_tty(); }

}  // namespace dosna::cli
