// codec::decode, the metadata record of the ceph (xattrs) and s3 (user
// metadata) layouts: the input is up to five lines, one per field in
// FORMAT.md order (shape, dtype, fillvalue, chunk_grid, chunk_size); a line
// "-" leaves its field out. Also split_index on the raw input.
#include <map>
#include <string>

#include "core/metadata_codec.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dosna;
  const std::string_view in = fuzz::text(data, size);
  static const char* kFields[] = {codec::kShape, codec::kDtype, codec::kFillvalue,
                                  codec::kChunkGrid, codec::kChunkSize};
  std::map<std::string, std::string> fields;
  std::size_t pos = 0;
  for (const char* name : kFields) {
    if (pos > in.size()) break;
    auto nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string_view value = in.substr(pos, nl - pos);
    if (value != "-") fields[name] = std::string(value);
    pos = nl + 1;
  }
  fuzz::typed_errors_only([&] {
    const DatasetMeta meta = codec::decode(fields, "fuzz");
    // A decoded record is valid: it re-encodes and decodes to itself.
    const DatasetMeta again = codec::decode(codec::encode(meta), "fuzz");
    if (again.shape != meta.shape || again.chunk_size != meta.chunk_size ||
        again.dtype.str() != meta.dtype.str())
      __builtin_trap();
    (void)meta.chunk_nbytes();
    (void)meta.total_chunks();
  });
  for (std::size_t ndim = 1; ndim <= 3; ++ndim) (void)codec::split_index(in, '.', ndim);
  return 0;
}
