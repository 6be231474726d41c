// DType::parse: accepted strings round-trip through str().
#include <string>

#include "dosna/dtype.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dosna;
  fuzz::typed_errors_only([&] {
    const DType t = DType::parse(fuzz::text(data, size));
    if (t.itemsize() == 0) __builtin_trap();
    if (DType::parse(t.str()).str() != t.str()) __builtin_trap();
  });
  return 0;
}
