#include "core/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "dosna/errors.h"

namespace dosna {

OptionReader::OptionReader(const Options& options, std::string owner)
    : options_(options), owner_(std::move(owner)) {}

std::optional<std::string> OptionReader::take(std::string_view key) {
  taken_.emplace(key);
  auto it = options_.find(std::string(key));
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string OptionReader::take_string(std::string_view key, std::string fallback) {
  return take(key).value_or(std::move(fallback));
}

long long OptionReader::take_int(std::string_view key, long long fallback) {
  auto v = take(key);
  if (!v) return fallback;
  long long out = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), out);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size())
    throw InvalidArgument(owner_ + ": option " + std::string(key) + "='" + *v +
                          "' is not an integer");
  return out;
}

double OptionReader::take_double(std::string_view key, double fallback) {
  auto v = take(key);
  if (!v) return fallback;
  double out = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), out);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size())
    throw InvalidArgument(owner_ + ": option " + std::string(key) + "='" + *v +
                          "' is not a number");
  return out;
}

bool OptionReader::take_bool(std::string_view key, bool fallback) {
  auto v = take(key);
  if (!v) return fallback;
  std::string s = *v;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw InvalidArgument(owner_ + ": option " + std::string(key) + "='" + *v +
                        "' is not a boolean (true/false)");
}

void OptionReader::finish() const {
  std::string unknown;
  for (const auto& [k, v] : options_)
    if (!taken_.count(k)) unknown += (unknown.empty() ? "" : ", ") + k;
  if (unknown.empty()) return;
  std::string known;
  for (const auto& k : taken_) known += (known.empty() ? "" : ", ") + k;
  throw InvalidArgument(owner_ + ": unknown option(s) " + unknown + " (accepted: " + known + ")");
}

}  // namespace dosna
