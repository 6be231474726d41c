// `dosna`: inspect stores, copy datasets between backends, import/export
// .npy and HDF5 files, view slices. Parsing and exit codes live here; each
// command is in cmd_*.cc.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli_args.h"
#include "commands.h"
#include "dosna/errors.h"
#include "exit_codes.h"
#include "terminal_text.h"

namespace {

using dosna::cli::Args;

constexpr const char* kStoreHelp =
    "store: ram://NAME, hdf5:///ABS/DIR/NAME, hdf5://REL/DIR/NAME, "
    "ceph://POOL?conffile=PATH&client_id=ID, s3://NAME?endpoint_url=URL&profile_name=P, "
    "or a bare NAME with --backend";

// --engine, --engine-opt, --quiet, --backend, --opt: on every command.
// The layout of the dataset a command creates (dosna/format.h).
void add_storage(CLI::App* sub, Args& a) {
  sub->add_option("--format", a.format,
                  "dataset format: dosna, zarr3 or zarr2 (default: the store's, see --opt format=)");
  sub->add_option("--compression", a.compression,
                  "zarr only: zstd, gzip, blosc-lz4, blosc-zstd or none (default none)");
  sub->add_option("--compression-level", a.compression_level, "zarr only: the codec's level");
  sub->add_option("--shard", a.shard,
                  "zarr3 only: shard shape, a multiple of --chunks, e.g. 256,256,256");
}

void add_common(CLI::App* sub, Args& a) {
  sub->add_option("--engine", a.engine,
                  "engine running per-chunk work: cpu, threads (alias jl, joblib) or mpi "
                  "(default: threads when built, else cpu)");
  sub->add_option("--engine-opt", a.engine_opts,
                  "engine option KEY=VALUE, e.g. njobs=4 (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("-q,--quiet", a.quiet, "no progress bar or summary lines");
  sub->add_option("--backend", a.backend, "backend of a bare store name: ram, hdf5, ceph, s3");
  sub->add_option("--opt", a.opts,
                  "backend option KEY=VALUE with the library's names, e.g. directory=/data, "
                  "conffile=/etc/ceph/ceph.conf, endpoint_url=http://host:7480 (repeatable)")
      ->allow_extra_args(false);
}

void add_store(CLI::App* sub, std::string& target, const char* name = "STORE") {
  sub->add_option(name, target, kStoreHelp)->required();
}

// One line: the library's message (names already quoted by it) with any
// control character left in it escaped.
int fail(int code, std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  std::fprintf(stderr, "dosna: error: %s\n",
               dosna::cli::printable(message, dosna::cli::Backslash::kKeep).c_str());
  return code;
}

// Words after "--" are NAMEs, SELECTIONs and files even when they start
// with '-', but the command's own long options (`--shape 4`, `--chunks=2,2`)
// may still follow: they are moved before the "--" so a name like `-dash`
// can come first (`dosna create S -- -dash --shape 4`).
std::vector<std::string> options_before_dashdash(int argc, char** argv, CLI::App& app) {
  std::vector<std::string> out(argv, argv + argc);
  if (argc < 2) return out;
  CLI::App* sub = nullptr;
  for (CLI::App* candidate : app.get_subcommands({}))
    if (candidate->get_name() == argv[1]) sub = candidate;
  const auto dd = std::find(out.begin() + 1, out.end(), std::string("--"));
  if (sub == nullptr || dd == out.end()) return out;
  std::vector<std::string> before(out.begin(), dd), after;
  for (auto it = dd + 1; it != out.end(); ++it) {
    const std::string& word = *it;
    const CLI::Option* opt =
        word.rfind("--", 0) == 0 && word.size() > 2
            ? sub->get_option_no_throw(word.substr(0, word.find('=')))
            : nullptr;
    if (opt == nullptr) {
      after.push_back(word);
      continue;
    }
    before.push_back(word);
    if (word.find('=') == std::string::npos && opt->get_type_size() > 0 && it + 1 != out.end())
      before.push_back(*++it);
  }
  before.push_back("--");
  before.insert(before.end(), after.begin(), after.end());
  return before;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{
      "dosna: N-dimensional arrays stored as chunks in object stores (ram, hdf5, ceph, s3)"};
  app.name("dosna");
  app.set_version_flag("--version", "dosna 0.1.0");
  app.require_subcommand(1);

  auto* ls = app.add_subcommand("ls", "list datasets with shape, dtype, chunks, stored chunks");
  add_store(ls, a.store);
  ls->add_flag("--json", a.json, "print JSON");

  auto* info = app.add_subcommand("info", "all metadata of one dataset");
  add_store(info, a.store);
  info->add_option("NAME", a.name, "dataset")->required();
  info->add_flag("--json", a.json, "print JSON");

  auto* create = app.add_subcommand("create", "create an empty dataset");
  add_store(create, a.store);
  create->add_option("NAME", a.name, "dataset")->required();
  create->add_option("--shape", a.shape, "shape, e.g. 100,100,100")->required();
  create->add_option("--dtype", a.dtype, "numpy dtype name or str (default float32)");
  create->add_option("--chunks", a.chunks, "chunk shape, e.g. 32,32,32 (default: one chunk)");
  create->add_option("--fillvalue", a.fillvalue, "fill value (default 0)");
  create->add_flag("-f,--force", a.force, "replace an existing dataset");

  auto* rm = app.add_subcommand("rm", "delete a dataset and its chunks");
  add_store(rm, a.store);
  rm->add_option("NAME", a.name, "dataset")->required();
  rm->add_flag("-f,--force", a.force, "no error if the dataset does not exist");

  auto* cp = app.add_subcommand("cp", "copy a dataset, chunk by chunk, between any two stores");
  add_store(cp, a.store, "SRC_STORE");
  cp->add_option("SRC_NAME", a.name, "source dataset")->required();
  add_store(cp, a.dst_store, "DST_STORE");
  cp->add_option("DST_NAME", a.dst_name, "destination dataset (default SRC_NAME)");
  cp->add_option("--chunks", a.chunks, "new chunk shape (default: the source's)");
  cp->add_option("--dst-backend", a.dst_backend, "backend of a bare DST_STORE name");
  cp->add_option("--dst-opt", a.dst_opts, "destination backend option KEY=VALUE (default: --opt)")
      ->allow_extra_args(false);
  cp->add_flag("-f,--force", a.force, "replace an existing destination dataset");

  auto* imp =
      app.add_subcommand("import", "load a .npy file or an HDF5 dataset into a new dataset");
  imp->add_option("FILE", a.file, ".npy, .h5 or .hdf5 file")->required();
  add_store(imp, a.store);
  imp->add_option("NAME", a.name, "dataset")->required();
  imp->add_option("--h5path", a.h5path, "dataset inside the HDF5 file (default: its only one)");
  imp->add_option("--chunks", a.chunks, "chunk shape (default: at most 4 MiB chunks)");
  imp->add_option("--fillvalue", a.fillvalue, "fill value (default 0)");
  imp->add_flag("-f,--force", a.force, "replace an existing dataset");

  auto* exp = app.add_subcommand("export", "write a dataset to a .npy or HDF5 file");
  add_store(exp, a.store);
  exp->add_option("NAME", a.name, "dataset")->required();
  exp->add_option("FILE", a.file, ".npy, .h5 or .hdf5 file (format by extension)")->required();
  exp->add_option("--h5path", a.h5path, "dataset inside the HDF5 file (default: /NAME)");
  exp->add_flag("-f,--force", a.force, "replace an existing file (.npy) or dataset (.h5)");

  auto* sl = app.add_subcommand("slice", "print a selection, or save a 2-D one as a grey PNG");
  add_store(sl, a.store);
  sl->add_option("NAME", a.name, "dataset")->required();
  sl->add_option("SELECTION", a.selection,
                 "numpy-style selection, e.g. 50,:,: or ::2,3 (put -- before one starting "
                 "with '-')")
      ->required();
  sl->add_option("--png", a.png, "write a PNG with a linear grey map instead of printing");
  double vmin = 0, vmax = 0;
  auto* vmin_opt = sl->add_option("--vmin", vmin, "value shown black (default: minimum)");
  auto* vmax_opt = sl->add_option("--vmax", vmax, "value shown white (default: maximum)");

  auto* serve = app.add_subcommand("serve", "browse the store in a web browser (read-only)");
  add_store(serve, a.store);
  serve->add_option("--host", a.host, "address to listen on (default 127.0.0.1)");
  serve->add_option("--port", a.port, "port (default 8765; 0: any free port)");
  serve->add_option("--token", a.token, "secret every request must carry (required off loopback)");
  serve->add_option("--cache-bytes", a.cache_bytes,
                    "decoded-chunk cache budget, e.g. 512M, 2G, 0 = none (default 256M)");

  auto* bench = app.add_subcommand("bench", "run dosna-bench (every flag is passed through)");
  bench->prefix_command();
  bench->allow_extras();
  bench->set_help_flag();

  for (auto* sub : {ls, info, create, rm, cp, imp, exp, sl, serve}) add_common(sub, a);
  for (auto* sub : {create, cp, imp}) add_storage(sub, a);
  for (auto* sub : {cp, imp, exp})
    sub->add_flag(
        "--stats", a.stats,
        "print {\"op\", \"bytes\", \"seconds\", \"mb_per_s\"} of the data transfer on stdout");

  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known |= sub->get_name() == argv[1];
    }
    if (!known)
      return fail(dosna::cli::kExitUsage,
                  "unknown command '" + std::string(argv[1]) + "' (commands: " + names + ")");
  }
  try {
    std::vector<std::string> words = options_before_dashdash(argc, argv, app);
    std::reverse(words.begin() + 1, words.end());  // CLI11 takes them last first
    words.erase(words.begin());
    app.parse(words);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail(dosna::cli::kExitUsage, std::string(e.what()) + " (see dosna --help)");
  }
  if (vmin_opt->count()) a.vmin = vmin;
  if (vmax_opt->count()) a.vmax = vmax;

  try {
    if (*ls) return dosna::cli::cmd_ls(a);
    if (*info) return dosna::cli::cmd_info(a);
    if (*create) return dosna::cli::cmd_create(a);
    if (*rm) return dosna::cli::cmd_rm(a);
    if (*cp) return dosna::cli::cmd_cp(a);
    if (*imp) return dosna::cli::cmd_import(a);
    if (*exp) return dosna::cli::cmd_export(a);
    if (*sl) return dosna::cli::cmd_slice(a);
    if (*serve) return dosna::cli::cmd_serve(a);
    if (*bench) {
      a.passthrough = bench->remaining();
      return dosna::cli::cmd_bench(a);
    }
  } catch (const std::exception& e) {
    return fail(dosna::cli::exit_code_for(e), e.what());
  }
  return fail(dosna::cli::kExitUsage, "no command given (see dosna --help)");
}
