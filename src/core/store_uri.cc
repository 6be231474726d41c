#include "dosna/store_uri.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/stores.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

constexpr std::string_view kSeparator = "://";
constexpr std::string_view kDirectoryOption = "directory";

// The options a URI's path sets, so its query may not.
bool set_by_path(const stores::StoreKind& kind, std::string_view key) {
  return key == "name" || (kind.naming == stores::Naming::kPath && key == kDirectoryOption);
}

bool is_secret(const stores::StoreKind& kind, std::string_view key) {
  return std::find(kind.secret_options.begin(), kind.secret_options.end(), key) !=
         kind.secret_options.end();
}

// Percent-encodes all but unreserved characters and those in `keep`.
std::string percent_encode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out += {'%', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

void parse_query(std::string_view uri, const stores::StoreKind& kind, std::string_view query,
                 Options& out) {
  const auto where = "store URI '" + std::string(uri) + "': ";
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view item = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw InvalidArgument(where + "query item '" + std::string(item) + "' is not key=value");
    const std::string key = percent_decode(item.substr(0, eq));
    if (set_by_path(kind, key))
      throw InvalidArgument(where + "query key '" + key +
                            "' is not allowed (the URI's path gives it)");
    if (!out.emplace(key, percent_decode(item.substr(eq + 1))).second)
      throw InvalidArgument(where + "query key '" + key + "' is given twice");
  }
}

}  // namespace

bool is_store_uri(std::string_view text) { return text.find(kSeparator) != std::string_view::npos; }

std::string percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0)
        throw InvalidArgument("bad percent escape in '" + std::string(text) + "'");
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

StoreUri parse_store_uri(std::string_view text) {
  const auto sep = text.find(kSeparator);
  if (sep == std::string_view::npos)
    throw InvalidArgument("store '" + std::string(text) +
                          "' is not a URI (KIND://NAME, e.g. ram://NAME, hdf5:///DIR/NAME, "
                          "ceph://POOL, s3://LABEL)");
  const auto where = "store URI '" + std::string(text) + "': ";
  StoreUri out;
  out.backend = std::string(text.substr(0, sep));
  const stores::StoreKind* kind = stores::find(out.backend);
  if (!kind) {
    try {
      stores::require(out.backend);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(where + e.what());
    }
  }
  std::string_view rest = text.substr(sep + kSeparator.size());
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    parse_query(text, *kind, rest.substr(q + 1), out.options);
    rest = rest.substr(0, q);
  }
  std::string path = percent_decode(rest);
  if (kind->naming == stores::Naming::kPath) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (const auto slash = path.rfind('/'); slash == std::string::npos) {
      out.name = path;
    } else {
      out.name = path.substr(slash + 1);
      out.options[std::string(kDirectoryOption)] = slash == 0 ? "/" : path.substr(0, slash);
    }
  } else {
    out.name = path;
  }
  if (out.name.empty() || out.name == "/")
    throw InvalidArgument(where + "names no " + out.backend + " store");
  return out;
}

std::string to_string(const StoreUri& store) {
  const stores::StoreKind& kind = stores::require(store.backend);
  std::string out = store.backend + std::string(kSeparator);
  Options query = store.options;
  if (kind.naming == stores::Naming::kPath) {
    if (auto it = query.find(std::string(kDirectoryOption)); it != query.end()) {
      std::string dir = it->second;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      out += percent_encode(dir, "/") + (dir == "/" ? "" : "/");
      query.erase(it);
    }
    out += percent_encode(store.name, "");
  } else {
    out += percent_encode(store.name, "");
  }
  char sep = '?';
  for (const auto& [key, value] : query) {
    if (is_secret(kind, key)) continue;
    out += sep + percent_encode(key, "") + "=" + percent_encode(value, "/:,");
    sep = '&';
  }
  return out;
}

std::string store_path(const StoreUri& store) {
  const auto* kind = stores::find(store.backend);
  if (!kind || kind->naming != stores::Naming::kPath) return {};
  const auto it = store.options.find(std::string(kDirectoryOption));
  return (it == store.options.end() ? std::string(".") : it->second) + "/" + store.name;
}

bool same_store(const StoreUri& a, const StoreUri& b) {
  if (a.backend != b.backend) return false;
  const std::string path_a = store_path(a);
  if (path_a.empty()) return a.name == b.name && a.options == b.options;
  auto resolved = [](const std::string& p) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(p));
  };
  return resolved(path_a) == resolved(store_path(b));
}

std::string describe(const StoreUri& store) {
  const std::string path = store_path(store);
  std::string where = store.name;
  if (store.options.count(std::string(kDirectoryOption))) where = path;
  return store.backend + " store '" + where + "'";
}

}  // namespace dosna
