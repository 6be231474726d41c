// Store names on the command line: a URI (dosna/store_uri.h:
// `hdf5:///data/store`, `ceph://pool?conffile=ceph.conf`) or a bare name
// plus --backend/--opt.
#pragma once

#include <string>
#include <vector>

#include "dosna/backend.h"
#include "dosna/store_uri.h"

namespace dosna::cli {

// A store as given on the command line, before --engine is applied.
using StoreSpec = StoreUri;

// Parses `text`: a URI (parse_store_uri), or, without "://", the store name
// of the kind `backend` (from --backend, then required). A URI's kind must
// match a --backend given too. `opts` ("key=value", from --opt) are added
// last and override the URI's. Throws InvalidArgument naming the text.
StoreSpec parse_store(const std::string& text, const std::string& backend,
                      const std::vector<std::string>& opts);

// Parses "key=value" items (from --opt / --engine-opt) into `out`. `flag`
// names the option in messages. Throws InvalidArgument (also for a key given
// twice).
void parse_key_values(const std::vector<std::string>& items, const std::string& flag, Options& out);

}  // namespace dosna::cli
