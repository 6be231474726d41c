#include "store_uri.h"

#include <set>

#include "dosna/errors.h"

namespace dosna::cli {

std::string percent_decode(const std::string& text) {
  auto hex = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0)
        throw InvalidArgument("bad percent escape in '" + text + "'");
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

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

namespace {

// The options a URI's path sets (so its query may not): the store name, and
// for hdf5 the directory.
bool set_by_path(const std::string& backend, const std::string& key) {
  return key == "name" || (backend == "hdf5" && key == "directory");
}

void parse_query(const std::string& uri, const std::string& backend, const std::string& query,
                 Options& out) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string item = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgument("store '" + uri + "': query item '" + item + "' is not key=value");
    const std::string key = percent_decode(item.substr(0, eq));
    if (set_by_path(backend, key))
      throw InvalidArgument("store '" + uri + "': query key '" + key +
                            "' is not allowed (the URI's path gives it)");
    if (!out.emplace(key, percent_decode(item.substr(eq + 1))).second)
      throw InvalidArgument("store '" + uri + "': query key '" + key + "' is given twice");
  }
}

}  // namespace

StoreSpec parse_store(const std::string& text, const std::string& backend,
                      const std::vector<std::string>& opts) {
  StoreSpec spec;
  const auto sep = text.find("://");
  if (sep == std::string::npos) {
    if (backend.empty())
      throw InvalidArgument("store '" + text +
                            "' is not a URI (ram://NAME, hdf5://DIR/NAME, ceph://POOL, "
                            "s3://NAME); give one, or --backend with a bare name");
    if (text.empty()) throw InvalidArgument("empty store name");
    spec.backend = backend;
    spec.name = text;
  } else {
    spec.backend = text.substr(0, sep);
    if (!backend.empty() && backend != spec.backend)
      throw InvalidArgument("store '" + text + "' is a " + spec.backend +
                            " URI but --backend is '" + backend + "'");
    std::string rest = text.substr(sep + 3);
    const auto q = rest.find('?');
    if (q != std::string::npos) {
      parse_query(text, spec.backend, rest.substr(q + 1), spec.options);
      rest.resize(q);
    }
    rest = percent_decode(rest);
    if (spec.backend == "hdf5") {
      while (rest.size() > 1 && rest.back() == '/') rest.pop_back();
      const auto slash = rest.rfind('/');
      if (slash == std::string::npos) {
        spec.name = rest;
      } else {
        spec.name = rest.substr(slash + 1);
        spec.options["directory"] = slash == 0 ? "/" : rest.substr(0, slash);
      }
    } else {
      spec.name = rest;
    }
    if (spec.name.empty() || spec.name == "/")
      throw InvalidArgument("store '" + text + "' names no " + spec.backend + " store");
  }
  parse_key_values(opts, "--opt", spec.options);
  return spec;
}

std::string describe(const StoreSpec& spec) {
  std::string where = spec.name;
  if (auto it = spec.options.find("directory"); it != spec.options.end())
    where = it->second + "/" + spec.name;
  return spec.backend + " store '" + where + "'";
}

}  // namespace dosna::cli
