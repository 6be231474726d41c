// Typed reading of a backend's or engine's key=value options. Each owner
// takes the keys it knows, then calls finish(), which rejects the rest.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dosna/backend.h"

namespace dosna {

class OptionReader {
 public:
  // `owner` names the backend/engine in messages ("hdf5 backend").
  OptionReader(const Options& options, std::string owner);

  std::optional<std::string> take(std::string_view key);
  std::string take_string(std::string_view key, std::string fallback);
  // Integers and floats; InvalidArgument naming key and value if malformed.
  long long take_int(std::string_view key, long long fallback);
  double take_double(std::string_view key, double fallback);
  // true/false/1/0/yes/no/on/off (case-insensitive), as Python's bool repr too.
  bool take_bool(std::string_view key, bool fallback);
  // Throws InvalidArgument listing unknown keys and the accepted ones.
  void finish() const;

 private:
  const Options& options_;
  std::string owner_;
  std::set<std::string, std::less<>> taken_;
};

}  // namespace dosna
