// The S3 XML response parser: Transport::parse_error, which reads <Code> and
// <Message> out of any error body radosgw (or a proxy) sends back.
#include <string>

#include "backends/s3/s3_transport.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(dosna::fuzz::text(data, size));
  dosna::fuzz::typed_errors_only([&] {
    const auto [code, message] = dosna::s3::Transport::parse_error(body);
    if (code.size() > body.size() || message.size() > body.size()) __builtin_trap();
  });
  return 0;
}
