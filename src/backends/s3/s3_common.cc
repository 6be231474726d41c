#include "backends/s3/s3_common.h"

#include <cctype>
#include <cstdio>
#include <set>

#include "backends/s3/s3_xml.h"
#include "dosna/errors.h"
#include "dosna/warnings.h"

namespace dosna::s3 {
namespace {

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// Says once per process and endpoint that TLS verification is off.
void warn_insecure(const S3Settings& s, const std::string& who) {
  if (s.verify || s.endpoint_url.rfind("https://", 0) != 0) return;
  static std::mutex mutex;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mutex);
    if (!warned.insert(s.endpoint_url).second) return;
  }
  warn(who + " '" + s.label + "': verify=False: the TLS certificate of " + s.endpoint_url +
       " is not checked; the connection is insecure (anyone on the path can pose as the store)");
}

}  // namespace

std::string bucket_of(std::string_view dataset) {
  std::string out(dataset);
  for (char& c : out) {
    if (c == '_') c = '-';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string bucket_problem(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return "must be 3 to 63 characters long";
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-' || c == '.')) {
      return std::string("holds '") + c + "' (only a-z, 0-9, '-', '_' and '.' are possible)";
    }
  }
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) return "must start and end with a letter or digit";
  if (bucket.find("..") != std::string::npos) return "must not hold '..'";
  int dots = 0;
  bool all_digits_dots = true;
  for (char c : bucket) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) all_digits_dots = false;
  }
  if (dots == 3 && all_digits_dots) return "must not look like an IP address";
  return "";
}

std::string object_path(const std::string& bucket, std::string_view key) {
  return "/" + bucket + "/" + uri_encode(key, true);
}

bool no_such_bucket(const HttpResponse& r) {
  return r.status == 404 && parse_error(r.text).first == "NoSuchBucket";
}

void S3State::open() {
  S3Settings s = resolve_settings(label, options);
  warn_insecure(s, who);
  auto t = std::make_shared<Transport>(s);
  {
    std::lock_guard lock(mutex);
    settings = std::make_shared<const S3Settings>(s);
  }
  // Probe with ListBuckets: proves the endpoint answers and the keys are
  // accepted. AccessDenied alone means valid keys without list rights.
  HttpResponse r = t->run(HttpRequest{.method = "GET", .path = "/"});
  if (!r.ok()) {
    const auto code = parse_error(r.text).first;
    if (!(r.status == 403 && code == "AccessDenied")) {
      const std::string what = "connect to " + s.endpoint_url + " as profile/keys of '" + s.profile_name + "'";
      if (r.status == 403) fail(r, what + " (access key or secret rejected)");
      fail(r, what);
    }
  }
  std::lock_guard lock(mutex);
  transport = std::move(t);
}

void S3State::close() noexcept {
  std::shared_ptr<Transport> old;
  std::lock_guard lock(mutex);
  old = std::move(transport);
}

bool S3State::is_open() {
  std::lock_guard lock(mutex);
  return transport != nullptr;
}

std::shared_ptr<Transport> S3State::live() {
  std::lock_guard lock(mutex);
  if (!transport) throw ConnectionError(where() + ": not connected");
  return transport;
}

std::shared_ptr<const S3Settings> S3State::current_settings() {
  std::lock_guard lock(mutex);
  return settings;
}

void S3State::fail(const HttpResponse& r, const std::string& what) {
  std::string msg = where() + ": " + what;
  const auto [code, message] = s3::parse_error(r.text);
  const auto s = current_settings();
  // How long it tried, and why it stopped.
  std::string tries = " (" + std::to_string(r.attempts) + (r.attempts == 1 ? " attempt" : " attempts") +
                      " in " + format_seconds(r.seconds);
  if (r.deadline_reached && s) tries += ", deadline " + format_seconds(s->deadline_seconds) + " reached";
  if (r.status == 0 && r.first_contact) {
    tries += "; not retried: the endpoint has not answered this connection yet";
  }
  tries += ")";
  if (r.status == 0) {
    const std::string endpoint = s ? s->endpoint_url : "the endpoint";
    if (r.tls_untrusted) {
      throw ConnectionError(msg + ": TLS: the certificate of " + endpoint +
                            " is not trusted: " + r.transport_error +
                            " (verify=<CA bundle path> trusts the CA that signed it; "
                            "verify=False skips the check, insecure)" + tries);
    }
    const std::string hint = r.hint.empty() ? "" : " (" + r.hint + ")";
    throw ConnectionError(msg + ": " + endpoint + " unreachable: " + r.transport_error + hint + tries);
  }
  if (r.attempts == 1) tries.clear();
  msg += ": HTTP " + std::to_string(r.status);
  if (!code.empty()) msg += " " + code;
  if (!message.empty()) msg += ": " + message;
  msg += tries;
  if (r.status == 403) throw PermissionDenied(msg);
  if (r.status == 404) throw NotFound(msg);
  throw IoError(msg, static_cast<int>(r.status));
}

std::optional<Listing> list_objects(S3State& state, const std::string& bucket, std::string_view prefix,
                                    bool delimited, const std::string& what) {
  auto transport = state.live();
  Listing out;
  std::string token;
  for (;;) {
    std::string query;
    if (!token.empty()) query = "continuation-token=" + uri_encode(token, false) + "&";
    if (delimited) query += "delimiter=%2F&";
    query += "list-type=2";
    if (!prefix.empty()) query += "&prefix=" + uri_encode(prefix, false);
    HttpResponse r = transport->run(HttpRequest{.method = "GET", .path = "/" + bucket, .query = query});
    if (!r.ok()) {
      if (no_such_bucket(r)) return std::nullopt;
      state.fail(r, what + ": list objects");
    }
    ObjectPage page;
    try {
      page = parse_list_objects(r.text);
    } catch (const IoError& e) {
      throw IoError(state.where() + ": " + what + ": " + e.what());
    }
    out.keys.insert(out.keys.end(), page.keys.begin(), page.keys.end());
    out.prefixes.insert(out.prefixes.end(), page.prefixes.begin(), page.prefixes.end());
    if (!page.truncated) break;
    // A server that repeats its token or pages nothing would loop forever.
    if (page.next_token == token || (page.keys.empty() && page.prefixes.empty())) {
      throw IoError(state.where() + ": " + what + ": ListObjectsV2 pages do not advance");
    }
    token = page.next_token;
  }
  return out;
}

HttpRequest create_bucket_request(S3State& state, const std::string& bucket) {
  HttpRequest make_bucket{.method = "PUT", .path = "/" + bucket};
  const auto settings = state.current_settings();
  if (settings && settings->region != "us-east-1") {
    make_bucket.body_text =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" + settings->region +
        "</LocationConstraint></CreateBucketConfiguration>";
  }
  return make_bucket;
}

std::vector<std::string> list_buckets(S3State& state) {
  HttpResponse r = state.live()->run(HttpRequest{.method = "GET", .path = "/"});
  if (!r.ok()) state.fail(r, "list buckets");
  try {
    return parse_list_buckets(r.text);
  } catch (const IoError& e) {
    throw IoError(state.where() + ": " + e.what());
  }
}

}  // namespace dosna::s3
