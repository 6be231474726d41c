// The zarr metadata parsers (zarr.json, .zarray + .zattrs): any bytes give a
// parsed array or a typed error, never a crash; what parses prints and
// parses back to the same dataset record.
#include <cstddef>

#include "formats/zarr/metadata.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dosna;
  const std::string text(fuzz::text(data, size));
  fuzz::typed_errors_only([&] {
    const zarr::ArrayMeta m = zarr::parse_v3(text, "fuzz");
    const zarr::ArrayMeta back = zarr::parse_v3(zarr::print_v3(m), "fuzz");
    if (back.meta.shape != m.meta.shape || back.meta.chunk_size != m.meta.chunk_size ||
        !(back.meta.dtype == m.meta.dtype))
      __builtin_trap();
  });
  fuzz::typed_errors_only([&] {
    const zarr::ArrayMeta m = zarr::parse_v2(text, "", "fuzz");
    const zarr::ArrayMeta back = zarr::parse_v2(zarr::print_v2(m), "", "fuzz");
    if (back.meta.shape != m.meta.shape || back.meta.chunk_size != m.meta.chunk_size)
      __builtin_trap();
  });
  return 0;
}
