// Settings of the s3 backend: the connection options plus the credentials,
// region and endpoint resolved the way the AWS tools (boto3, aws-cli) do.
#pragma once

#include <map>
#include <string>

#include "dosna/backend.h"

namespace dosna::s3 {

struct S3Settings {
  std::string label;          // the connection name; a label only
  std::string endpoint_url;   // "http://127.0.0.1:7480", no trailing '/'
  std::string region;         // signing region, e.g. "us-east-1"
  bool verify = true;         // verify TLS peers
  std::string ca_bundle;      // CA bundle path when verify is a path
  std::string profile_name;   // the shared-file profile that was used
  std::string access_key;
  std::string secret_key;     // never printed
  std::string session_token;  // empty unless temporary credentials
  // Transport knobs (backend-specific options).
  // Concurrent requests per connection. 8 measured best against a local
  // radosgw on 2 cores (more only adds contention); raise it for a remote,
  // high-latency endpoint.
  int max_in_flight = 8;
  int max_retries = 12;           // retries after the first attempt
  double retry_base_seconds = 0.1;
  double retry_cap_seconds = 4.0;
  // Every request ends within `deadline_seconds` of its first attempt, its
  // retries and their backoff included.
  double deadline_seconds = 60.0;
  double connect_timeout_seconds = 5.0;
  double timeout_seconds = 60.0;  // one attempt (option `timeout`; default: the deadline)
  double stall_seconds = 20.0;    // abort an attempt that moves no byte for this long
};

// Parses `options` (name, endpoint_url, verify, profile_name, region and the
// transport knobs max_in_flight, max_retries, retry_base, retry_cap, deadline,
// connect_timeout, timeout, stall_timeout) and resolves what is left from the
// environment and the AWS shared files:
//  - credentials: an explicit profile_name -> that profile of
//    AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) or AWS_CONFIG_FILE
//    (~/.aws/config); otherwise AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
//    AWS_SESSION_TOKEN first, then the profile AWS_PROFILE or "default";
//  - region: option, AWS_REGION, AWS_DEFAULT_REGION, profile `region`,
//    "us-east-1";
//  - endpoint: option, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile
//    `endpoint_url`, https://s3.<region>.amazonaws.com; http(s)://HOST[:PORT]
//    with an optional path, no user@, query, fragment, space or control byte;
//  - verify: option (bool or CA bundle path), AWS_CA_BUNDLE, profile
//    `ca_bundle`, true.
// Throws InvalidArgument for a bad option, NotFound for an explicitly named
// profile that exists in neither file, PermissionDenied when no credentials
// can be found. Messages never contain a secret.
S3Settings resolve_settings(const std::string& name, const Options& options);

// INI sections of an AWS shared file: section name -> key -> value. Missing
// file -> empty. Exposed for tests.
std::map<std::string, std::map<std::string, std::string>> read_ini(const std::string& path);

}  // namespace dosna::s3
