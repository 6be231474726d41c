// Scalar::parse (the fillvalue repr of ceph xattrs / s3 metadata), then the
// conversion into every dtype a record can name.
#include <array>
#include <cstddef>

#include "dosna/dtype.h"
#include "dosna/scalar.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dosna;
  static const char* kTypes[] = {"|b1", "<i1", "<i2", "<i4", "<i8", "|u1", "<u2",
                                 "<u4", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16"};
  fuzz::typed_errors_only([&] {
    const Scalar s = Scalar::parse(fuzz::text(data, size));
    for (const char* name : kTypes) {
      fuzz::typed_errors_only([&] {
        const DType t = DType::parse(name);
        alignas(16) std::array<std::byte, 16> out{};
        s.store(t, out.data());
      });
    }
  });
  return 0;
}
