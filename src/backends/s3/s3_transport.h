// HTTP transport of the s3 backend: one libcurl multi handle driven by one
// I/O thread, so requests from every caller thread share one pool of
// kept-alive connections and at most `max_in_flight` run at once. Requests are
// signed by libcurl (CURLOPT_AWS_SIGV4) and retried with exponential backoff
// and jitter on failures that can heal (5xx, 429, RequestTimeout; refused or
// reset connections and timeouts once the endpoint has answered this
// transport), each within its deadline (S3Settings::deadline_seconds).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/s3/s3_config.h"
#include "dosna/backend.h"

namespace dosna::s3 {

struct HttpRequest {
  std::string method{};                // GET PUT HEAD DELETE POST
  std::string path{};                  // "/bucket/key", already percent-encoded
  std::string query{};                 // sorted, percent-encoded, without '?'
  std::vector<std::string> headers{};  // extra "Name: value" lines (signed)
  ChunkData body{};                    // PUT payload; null -> body_text
  std::string body_text{};
  // When > 0, a 2xx body is received straight into a Buffer of this size;
  // more bytes than this is reported as `overflow`.
  std::size_t expect_bytes = 0;
  // Byte range [range_offset, range_offset + expect_bytes) via a Range header.
  bool ranged = false;
  std::size_t range_offset = 0;
};

struct HttpResponse {
  long status = 0;              // HTTP status; 0 when no response arrived
  int curl_code = 0;            // CURLcode of the last attempt
  std::string transport_error;  // libcurl's message (never holds secrets)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string text;                       // body when not received into `data`
  std::shared_ptr<Buffer> data;           // body for expect_bytes requests
  std::size_t data_size = 0;              // bytes written into `data`
  // The 2xx body of an expect_bytes request was not received: it is longer
  // than expect_bytes, its Content-Length (`declared_bytes`) differs, or no
  // buffer of that size could be allocated (`alloc_failed`). Nothing of the
  // declared size is allocated before the length matched.
  bool overflow = false;
  bool alloc_failed = false;
  long long declared_bytes = -1;  // Content-Length of the 2xx body, -1 if none
  int attempts = 0;
  double seconds = 0;           // from the first attempt to the end of the last
  bool deadline_reached = false;  // a retry was due but the deadline forbade it
  // The endpoint had not answered this transport yet: transport errors then
  // are final (wrong port, TLS against plain HTTP, a silent endpoint).
  bool first_contact = false;
  bool tls_untrusted = false;   // the peer's certificate failed verification
  std::string hint;             // a likely cause ("is it a plain http:// endpoint?") or empty
  bool ok() const { return status >= 200 && status < 300; }
};

class Transport {
 public:
  explicit Transport(const S3Settings& settings);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Runs every request (many at once) and returns their responses in the same
  // order once all have finished. A response still failing after the retries
  // is returned as is; mapping it to an error is the caller's job.
  // Thread-safe; callers from many threads share the connection pool.
  std::vector<HttpResponse> run(std::vector<HttpRequest> requests);
  HttpResponse run(HttpRequest request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 3986 percent-encoding as SigV4 wants it; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace dosna::s3
