// HTTP transport of the s3 backend: one libcurl multi handle driven by one
// I/O thread, so requests from every caller thread share one pool of
// kept-alive connections and at most `max_in_flight` run at once. Requests are
// signed by libcurl (CURLOPT_AWS_SIGV4) and retried with exponential backoff
// and jitter on transient failures (5xx, 429, RequestTimeout, refused or
// reset connections, timeouts).
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
  bool overflow = false;
  int attempts = 0;
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

  // The S3 error code (<Code>) and message (<Message>) of an XML error body,
  // or empty strings.
  static std::pair<std::string, std::string> parse_error(const std::string& xml);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 3986 percent-encoding as SigV4 wants it; '/' kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace dosna::s3
