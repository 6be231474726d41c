// Selection::parse and normalize: the first line is a shape ("4,0,7"), the
// rest the selection text. Round-trips to_string() through parse() too.
#include <string>

#include "dosna/selection.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dosna;
  const std::string_view in = fuzz::text(data, size);
  const auto nl = in.find('\n');
  Shape shape;
  std::string_view sel = in;
  if (nl != std::string_view::npos) {
    sel = in.substr(nl + 1);
    std::int64_t v = 0;
    bool any = false;
    for (char c : in.substr(0, nl)) {
      if (c >= '0' && c <= '9' && v < 1000000000000LL) {
        v = v * 10 + (c - '0');
        any = true;
      } else if (c == ',' && any && shape.size() < 8) {
        shape.push_back(v);
        v = 0;
        any = false;
      }
    }
    if (any && shape.size() < 8) shape.push_back(v);
  }
  fuzz::typed_errors_only([&] {
    const Selection s = Selection::parse(sel);
    const std::string again = s.to_string();
    const Selection t = Selection::parse(again);
    if (t.to_string() != again) __builtin_trap();
    const NormalizedSelection n = normalize(s, shape, "fuzz");
    (void)n;
  });
  return 0;
}
