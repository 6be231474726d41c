// serve: the viewer's HTTP server over one store (docs/viewer.md).
#include <cctype>
#include <iostream>

#include "commands.h"
#include "context.h"
#include "dosna/errors.h"
#include "viewer_server.h"

namespace dosna::cli {
namespace {

// "0", "1048576", "512K", "256M", "2G" (binary units) -> bytes.
std::size_t parse_bytes(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  const int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : -1;
  if (digits == 0 || digits > 12 || shift < 0)
    throw InvalidArgument("--cache-bytes '" + text + "' is not a size like 0, 512M or 2G");
  return static_cast<std::size_t>(std::stoull(text.substr(0, digits))) << shift;
}

}  // namespace

int cmd_serve(const Args& args) {
  block_stop_signals();
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  ServeOptions options;
  options.host = args.host;
  options.port = args.port;
  options.token = args.token;
  const Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting,
                                    parse_bytes(args.cache_bytes));
  serve(con, options, [&](const std::string& url) {
    std::cout << "dosna serve: " << describe(spec) << " at " << url
              << (options.token.empty() ? "" : " (add ?token=... to the URL)") << std::endl;
  });
  return 0;
}

}  // namespace dosna::cli
