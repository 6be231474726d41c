// serve: the viewer's HTTP server over one store (docs/viewer.md).
#include <iostream>

#include "commands.h"
#include "context.h"
#include "viewer_server.h"

namespace dosna::cli {

int cmd_serve(const Args& args) {
  block_stop_signals();
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  ServeOptions options;
  options.host = args.host;
  options.port = args.port;
  options.token = args.token;
  const Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  serve(con, options, [&](const std::string& url) {
    std::cout << "dosna serve: " << describe(spec) << " at " << url
              << (options.token.empty() ? "" : " (add ?token=... to the URL)") << std::endl;
  });
  return 0;
}

}  // namespace dosna::cli
