#include "backends/s3/s3_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "core/options.h"
#include "dosna/errors.h"

namespace dosna::s3 {
namespace {

using Ini = std::map<std::string, std::map<std::string, std::string>>;

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string home_path(const std::string& rest) {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/" + rest;
}

std::string expand_user(const std::string& path) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') return home_path(path.substr(2));
  return path;
}

// Python None / empty string mean "not given" when options come from Python.
std::optional<std::string> given(std::optional<std::string> v) {
  if (!v || v->empty() || *v == "None") return std::nullopt;
  return v;
}

const std::map<std::string, std::string>* section(const Ini& ini, const std::string& name) {
  auto it = ini.find(name);
  return it == ini.end() ? nullptr : &it->second;
}

std::string lookup(const std::map<std::string, std::string>* sec, const std::string& key) {
  if (sec == nullptr) return "";
  auto it = sec->find(key);
  return it == sec->end() ? "" : it->second;
}

double positive(OptionReader& reader, std::string_view key, double fallback) {
  const double v = reader.take_double(key, fallback);
  if (!(v > 0)) {
    throw InvalidArgument("s3 backend: option '" + std::string(key) + "' must be > 0, got " +
                          std::to_string(v));
  }
  return v;
}

// endpoint_url is http(s)://HOST[:PORT][/PATH]. Messages quote it only up to
// the first suspicious byte: a pasted presigned URL carries a signature in
// its query, user@host a password.
void check_endpoint(const std::string& name, const std::string& url) {
  const std::string who = "s3 backend '" + name + "': endpoint_url";
  const std::size_t scheme_end = url.rfind("https://", 0) == 0  ? 8
                                 : url.rfind("http://", 0) == 0 ? 7
                                                                : 0;
  if (scheme_end == 0) {
    throw InvalidArgument(who + " must start with http:// or https://, got '" +
                          url.substr(0, std::min<std::size_t>(url.find_first_of("?#@"), 200)) + "'");
  }
  for (std::size_t i = 0; i < url.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(url[i]);
    std::string what;
    if (c == '@') what = "credentials (user@host)";
    else if (c == '?') what = "a query ('?...')";
    else if (c == '#') what = "a fragment ('#...')";
    else if (c <= 0x20 || c >= 0x7f) what = "a space, control or non-ASCII byte";
    if (what.empty()) continue;
    // user:password@ comes right after the scheme: quote none of it.
    const std::size_t shown = c == '@' ? scheme_end : std::min<std::size_t>(i, 200);
    throw InvalidArgument(who + " '" + url.substr(0, shown) + "...' holds " + what +
                          " at offset " + std::to_string(i) +
                          "; give only http(s)://HOST[:PORT] and an optional path (options go "
                          "into separate key=value pairs)");
  }
  const std::string authority = url.substr(scheme_end, url.find('/', scheme_end) - scheme_end);
  const std::size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';  // [::1]:7480
  const std::string host = colon == std::string::npos || (bracketed && authority.back() == ']')
                               ? authority
                               : authority.substr(0, colon);
  if (host.empty()) throw InvalidArgument(who + " '" + url + "' names no host");
  if (colon != std::string::npos && host.size() != authority.size()) {
    const std::string port = authority.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      throw InvalidArgument(who + " '" + url + "': port '" + port + "' is not in 1..65535");
    }
  }
}

}  // namespace

Ini read_ini(const std::string& path) {
  Ini out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line, current;
  bool in_section = false;
  std::string last_key;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      current = trim(std::string_view(t).substr(1, t.size() - 2));
      out[current];
      in_section = true;
      last_key.clear();
      continue;
    }
    if (!in_section) continue;
    // Continuation lines (nested s3 = ... blocks) are indented; keep them
    // addressable as "parent.key" so `s3 =\n  endpoint_url = ...` works.
    const bool indented = std::isspace(static_cast<unsigned char>(line[0])) != 0;
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(std::string_view(t).substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string value = trim(std::string_view(t).substr(eq + 1));
    if (indented && !last_key.empty()) {
      out[current][last_key + "." + key] = value;
    } else {
      out[current][key] = value;
      last_key = key;
    }
  }
  return out;
}

S3Settings resolve_settings(const std::string& name, const Options& options) {
  OptionReader reader(options, "s3 backend");
  S3Settings s;
  s.label = name;

  const auto opt_endpoint = given(reader.take("endpoint_url"));
  const auto opt_region = given(reader.take("region"));
  const auto opt_profile = given(reader.take("profile_name"));
  const auto opt_verify = given(reader.take("verify"));
  s.max_in_flight = static_cast<int>(reader.take_int("max_in_flight", s.max_in_flight));
  s.max_retries = static_cast<int>(reader.take_int("max_retries", s.max_retries));
  s.retry_base_seconds = positive(reader, "retry_base", s.retry_base_seconds);
  s.retry_cap_seconds = positive(reader, "retry_cap", s.retry_cap_seconds);
  s.deadline_seconds = positive(reader, "deadline", s.deadline_seconds);
  s.connect_timeout_seconds = positive(reader, "connect_timeout", s.connect_timeout_seconds);
  s.timeout_seconds = positive(reader, "timeout", s.deadline_seconds);
  s.stall_seconds = positive(reader, "stall_timeout", s.stall_seconds);
  reader.finish();
  if (s.max_in_flight < 1 || s.max_in_flight > 1024) {
    throw InvalidArgument("s3 backend: max_in_flight must be in 1..1024, got " +
                          std::to_string(s.max_in_flight));
  }
  if (s.max_retries < 0 || s.max_retries > 100) {
    throw InvalidArgument("s3 backend: max_retries must be in 0..100, got " +
                          std::to_string(s.max_retries));
  }

  const std::string creds_path =
      expand_user(env("AWS_SHARED_CREDENTIALS_FILE").value_or(home_path(".aws/credentials")));
  const std::string config_path =
      expand_user(env("AWS_CONFIG_FILE").value_or(home_path(".aws/config")));
  const Ini creds_ini = read_ini(creds_path);
  const Ini config_ini = read_ini(config_path);

  s.profile_name = opt_profile.value_or(env("AWS_PROFILE").value_or("default"));
  const auto* cred_sec = section(creds_ini, s.profile_name);
  const auto* conf_sec = section(
      config_ini, s.profile_name == "default" ? "default" : "profile " + s.profile_name);
  if (conf_sec == nullptr && s.profile_name == "default") {
    conf_sec = section(config_ini, "profile default");
  }
  if (opt_profile && s.profile_name != "default" && cred_sec == nullptr && conf_sec == nullptr) {
    throw NotFound("s3 backend '" + name + "': profile '" + s.profile_name + "' is in neither " +
                   creds_path + " nor " + config_path);
  }

  // Region.
  if (opt_region) {
    s.region = *opt_region;
  } else if (auto r = env("AWS_REGION")) {
    s.region = *r;
  } else if (auto r2 = env("AWS_DEFAULT_REGION")) {
    s.region = *r2;
  } else if (auto r3 = lookup(conf_sec, "region"); !r3.empty()) {
    s.region = r3;
  } else {
    s.region = "us-east-1";
  }
  for (char c : s.region) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      throw InvalidArgument("s3 backend '" + name + "': invalid region '" + s.region + "'");
    }
  }

  // Endpoint.
  if (opt_endpoint) {
    s.endpoint_url = *opt_endpoint;
  } else if (auto e = env("AWS_ENDPOINT_URL_S3")) {
    s.endpoint_url = *e;
  } else if (auto e2 = env("AWS_ENDPOINT_URL")) {
    s.endpoint_url = *e2;
  } else if (auto e3 = lookup(conf_sec, "s3.endpoint_url"); !e3.empty()) {
    s.endpoint_url = e3;
  } else if (auto e4 = lookup(conf_sec, "endpoint_url"); !e4.empty()) {
    s.endpoint_url = e4;
  } else {
    s.endpoint_url = "https://s3." + s.region + ".amazonaws.com";
  }
  while (!s.endpoint_url.empty() && s.endpoint_url.back() == '/') s.endpoint_url.pop_back();
  check_endpoint(name, s.endpoint_url);

  // TLS verification: bool or CA bundle path.
  std::optional<std::string> verify = opt_verify;
  if (!verify) {
    if (auto b = env("AWS_CA_BUNDLE")) {
      verify = *b;
    } else if (auto b2 = lookup(conf_sec, "ca_bundle"); !b2.empty()) {
      verify = b2;
    }
  }
  if (verify) {
    std::string lower = *verify;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
      s.verify = true;
    } else if (lower == "false" || lower == "0" || lower == "no" || lower == "off") {
      s.verify = false;
    } else {
      s.verify = true;
      s.ca_bundle = expand_user(*verify);
      if (!std::ifstream(s.ca_bundle)) {
        throw InvalidArgument("s3 backend '" + name + "': verify: CA bundle '" + s.ca_bundle +
                              "' cannot be read");
      }
    }
  }
  // Credentials last, so option errors surface first. As botocore, an
  // explicit profile skips the environment; we still fall back to it for an
  // explicit "default" without keys, as the Python API always passes
  // profile_name='default'.
  auto from_profile = [&]() -> bool {
    for (const auto* sec : {cred_sec, conf_sec}) {
      const std::string ak = lookup(sec, "aws_access_key_id");
      const std::string sk = lookup(sec, "aws_secret_access_key");
      if (!ak.empty() && !sk.empty()) {
        s.access_key = ak;
        s.secret_key = sk;
        s.session_token = lookup(sec, "aws_session_token");
        return true;
      }
    }
    return false;
  };
  auto from_env = [&]() -> bool {
    const auto ak = env("AWS_ACCESS_KEY_ID");
    const auto sk = env("AWS_SECRET_ACCESS_KEY");
    if (!ak || !sk) return false;
    s.access_key = *ak;
    s.secret_key = *sk;
    s.session_token = env("AWS_SESSION_TOKEN").value_or(env("AWS_SECURITY_TOKEN").value_or(""));
    return true;
  };
  bool found = false;
  if (opt_profile) {
    found = from_profile() || (s.profile_name == "default" && from_env());
  } else {
    found = from_env() || from_profile();
  }
  if (!found) {
    throw PermissionDenied("s3 backend '" + name +
                           "': no credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                           "profile '" + s.profile_name + "' in " + creds_path + ")");
  }

  return s;
}

}  // namespace dosna::s3
