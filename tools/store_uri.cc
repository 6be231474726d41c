#include "store_uri.h"

#include <set>

#include "dosna/errors.h"

namespace dosna::cli {

void parse_key_values(const std::vector<std::string>& items, const std::string& flag,
                      Options& out) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgument(flag + " '" + item + "' is not key=value");
    const std::string key = item.substr(0, eq);
    if (!seen.insert(key).second)
      throw InvalidArgument(flag + " '" + key + "' is given twice");
    out[key] = item.substr(eq + 1);
  }
}

StoreSpec parse_store(const std::string& text, const std::string& backend,
                      const std::vector<std::string>& opts) {
  StoreSpec spec;
  if (!is_store_uri(text)) {
    if (backend.empty())
      throw InvalidArgument("store '" + text +
                            "' is not a URI (ram://NAME, hdf5://DIR/NAME, ceph://POOL, "
                            "s3://NAME); give one, or --backend with a bare name");
    if (text.empty()) throw InvalidArgument("empty store name");
    spec.backend = backend;
    spec.name = text;
  } else {
    spec = parse_store_uri(text);
    if (!backend.empty() && backend != spec.backend)
      throw InvalidArgument("store '" + text + "' is a " + spec.backend +
                            " URI but --backend is '" + backend + "'");
  }
  parse_key_values(opts, "--opt", spec.options);
  return spec;
}

}  // namespace dosna::cli
