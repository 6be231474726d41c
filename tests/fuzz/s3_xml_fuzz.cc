// The S3 XML reply parsers of src/backends/s3/s3_xml.h -- error bodies,
// ListBuckets, ListObjectsV2 -- on what radosgw, a proxy or a hostile
// endpoint may send back. Every input goes through all three.
#include <string>

#include "backends/s3/s3_xml.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = dosna::fuzz::text(data, size);
  // Entity decoding only shrinks text: nothing parsed is longer than the body.
  auto check_total = [&](const std::vector<std::string>& parts) {
    std::size_t total = 0;
    for (const auto& p : parts) total += p.size();
    if (total > body.size()) __builtin_trap();
  };
  dosna::fuzz::typed_errors_only([&] {
    const auto [code, message] = dosna::s3::parse_error(body);
    check_total({code, message});
  });
  dosna::fuzz::typed_errors_only([&] { check_total(dosna::s3::parse_list_buckets(body)); });
  dosna::fuzz::typed_errors_only([&] {
    const auto page = dosna::s3::parse_list_objects(body);
    if (page.truncated && page.next_token.empty()) __builtin_trap();
    check_total(page.keys);
  });
  return 0;
}
