// Whether the S3 server honours the conditional PUTs the s3 backend's
// update() relies on (If-Match on the ETag read, If-None-Match: * for a new
// chunk). If this fails, the server ignores them and partial writes from
// several processes fall back to last-writer-wins per chunk (docs/safety.md).
#include <gtest/gtest.h>

#include <cstdio>

#include "backends/s3/s3_config.h"
#include "backends/s3/s3_transport.h"
#include "dosna/connection.h"
#include "support/stores.h"
#include "unit/s3_test_util.h"

namespace dosna {
namespace {

using s3::HttpRequest;
using s3::HttpResponse;

HttpResponse put(s3::Transport& t, const std::string& path, const std::string& condition,
                 const std::string& body) {
  HttpRequest r{.method = "PUT", .path = path};
  r.headers = {"Content-Type: application/octet-stream"};
  if (!condition.empty()) r.headers.push_back(condition);
  r.body_text = body;
  return t.run(std::move(r));
}

TEST(S3Conditional, ServerHonoursIfMatchAndIfNoneMatchOnPut) {
  DOSNA_S3_STORE_OR_SKIP(store);
  Connection con(store.config);
  con.connect();
  const std::string name = testing::s3_dataset_name("cond");
  con.create_dataset(name, {4}, DType::of<std::int32_t>(), {4});
  s3::Transport t(s3::resolve_settings(store.config.name, store.config.options));
  const std::string path = "/" + name + "/0";

  const HttpResponse created = put(t, path, "If-None-Match: *", "aaaa");
  EXPECT_TRUE(created.ok()) << created.status << " " << created.text;
  const HttpResponse again = put(t, path, "If-None-Match: *", "bbbb");
  const bool honours_none_match = again.status == 412 || again.status == 409;
  EXPECT_TRUE(honours_none_match) << "If-None-Match: * on an existing object gave HTTP "
                                  << again.status;

  const HttpResponse got = t.run(HttpRequest{.method = "GET", .path = path});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.text, honours_none_match ? "aaaa" : "bbbb");
  ASSERT_TRUE(got.headers.count("etag"));
  const std::string etag = got.headers.at("etag");

  const HttpResponse stale = put(t, path, "If-Match: \"00000000000000000000000000000000\"", "cccc");
  const bool honours_match = stale.status == 412;
  EXPECT_TRUE(honours_match) << "If-Match with a stale ETag gave HTTP " << stale.status;
  HttpResponse fresh = put(t, path, "If-Match: " + etag, "dddd");
  std::printf("[s3-conditional] quoted If-Match with the current ETag: HTTP %ld\n", fresh.status);
  if (!fresh.ok()) {
    fresh = put(t, path, "If-Match: " + etag.substr(1, etag.size() - 2), "dddd");
    std::printf("[s3-conditional] unquoted If-Match with the current ETag: HTTP %ld\n",
                fresh.status);
  }
  EXPECT_TRUE(fresh.ok()) << "If-Match: " << etag << " (the current ETag) gave HTTP " << fresh.status << " " << fresh.text;
  const HttpResponse last = t.run(HttpRequest{.method = "GET", .path = path});
  EXPECT_EQ(last.text, "dddd");
  std::printf("[s3-conditional] If-Match honoured: %s, If-None-Match: * honoured: %s\n",
              honours_match ? "yes" : "NO", honours_none_match ? "yes" : "NO");
  con.del_dataset(name);
}

}  // namespace
}  // namespace dosna
