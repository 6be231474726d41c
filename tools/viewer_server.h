// The HTTP side of `dosna serve`: a read-only JSON + image API over one
// connected store, and the embedded viewer page (docs/viewer.md).
#pragma once

#include <functional>
#include <string>

#include "dosna/connection.h"

namespace dosna::cli {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8765;    // 0: any free port
  std::string token;  // empty: none (allowed on loopback hosts only)
  int threads = 16;   // requests served at once
};

// Whether `host` names this machine's loopback interface (127.0.0.0/8,
// ::1, localhost).
bool is_loopback_host(const std::string& host);

// Blocks SIGINT and SIGTERM in the calling thread and so in every thread it
// starts afterwards, leaving them to serve(). Call it before anything starts
// threads (engines, backends), or a signal may kill the process instead.
void block_stop_signals();

// Serves `con` until SIGINT or SIGTERM, then returns. Calls `on_ready(url)`
// once the socket is bound. Throws InvalidArgument for a non-loopback host
// without a token, IoError if the address cannot be bound. Never writes to
// the store.
void serve(const Connection& con, const ServeOptions& options,
           const std::function<void(const std::string& url)>& on_ready);

}  // namespace dosna::cli
