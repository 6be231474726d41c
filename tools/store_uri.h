// Store names on the command line: a URI (`hdf5:///data/store`,
// `ceph://pool?conffile=ceph.conf`) or a bare name plus --backend/--opt.
#pragma once

#include <string>
#include <vector>

#include "dosna/backend.h"
#include "dosna/connection.h"

namespace dosna::cli {

// A store as given on the command line, before --engine is applied.
struct StoreSpec {
  std::string backend;  // ram | hdf5 | ceph | s3
  std::string name;     // pool, directory name, label
  Options options;      // backend options, library names
};

// Parses `text`. A URI is `<backend>://<rest>[?k=v&k=v]`; query values are
// percent-decoded and become backend options. For hdf5 the path's last
// component is the store name and the rest the `directory` option
// (`hdf5:///abs/dir/name`, `hdf5://rel/dir/name`, `hdf5://name` -> '.').
// A query key given twice, or one the path sets (`name`; `directory` for
// hdf5), is rejected; unknown keys are left to the backend, which rejects
// them by name. Without "://", `text` is the store name and `backend` (from
// --backend) is required. `opts` ("key=value", from --opt) are added last
// and override the URI's. Throws InvalidArgument naming the text.
StoreSpec parse_store(const std::string& text, const std::string& backend,
                      const std::vector<std::string>& opts);

// Parses "key=value" items (from --opt / --engine-opt) into `out`. `flag`
// names the option in messages. Throws InvalidArgument (also for a key given
// twice).
void parse_key_values(const std::vector<std::string>& items, const std::string& flag, Options& out);

// Decodes the %XX escapes of a URI component ('+' stays a plus: paths).
std::string percent_decode(const std::string& text);

// "hdf5 store 'dir/name'"-like description for messages.
std::string describe(const StoreSpec& spec);

}  // namespace dosna::cli
