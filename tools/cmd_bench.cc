// bench: hands over to dosna-bench, installed next to this binary.
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "commands.h"
#include "dosna/errors.h"
#include "file_errors.h"

namespace dosna::cli {

int cmd_bench(const Args& args) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw IoError("bench: cannot locate the dosna binary: " + ec.message());
  const std::string bench = (self.parent_path() / "dosna-bench").string();
  if (::access(bench.c_str(), X_OK) != 0)
    throw_errno(errno, "bench: '" + bench + "' (build the dosna-bench target)");
  std::vector<char*> argv;
  std::string arg0 = bench;
  argv.push_back(arg0.data());
  std::vector<std::string> rest = args.passthrough;
  for (auto& a : rest) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(bench.c_str(), argv.data());
  throw_errno(errno, "bench: cannot run '" + bench + "'");
}

}  // namespace dosna::cli
