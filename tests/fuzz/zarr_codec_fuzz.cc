// The zarr codec decoders (blosc, zstd, gzip, lz4, zlib, crc32c, bytes,
// transpose): any stored bytes decode to a whole chunk or give a typed
// error, never a crash or a chunk of the wrong size; what decodes encodes
// and decodes back to the same bytes. The first input byte picks the chain.
#include <cstddef>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/zarr/codecs.h"
#include "fuzz/fuzz_util.h"

namespace {

using dosna::zarr::ChunkSpec;
using dosna::zarr::CodecChain;
using nlohmann::json;

const ChunkSpec kSpec{{8, 6}, dosna::DType::parse("uint16")};

std::vector<CodecChain> make_chains() {
  const json bytes_le = {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}};
  const json bytes_be = {{"name", "bytes"}, {"configuration", {{"endian", "big"}}}};
  const auto blosc = [](const char* cname, const char* shuffle) {
    return json{{"name", "blosc"},
                {"configuration",
                 {{"cname", cname}, {"clevel", 5}, {"shuffle", shuffle}, {"typesize", 2},
                  {"blocksize", 0}}}};
  };
  std::vector<CodecChain> out;
  for (const json& codecs : {
           json::array({bytes_le}),
           json::array({bytes_le, blosc("lz4", "shuffle")}),
           json::array({bytes_le, blosc("zstd", "bitshuffle")}),
           json::array({bytes_le, blosc("zlib", "noshuffle")}),
           json::array({bytes_le, {{"name", "zstd"}, {"configuration", {{"level", 3}}}}}),
           json::array({bytes_le, {{"name", "gzip"}, {"configuration", {{"level", 5}}}}}),
           json::array({bytes_le, {{"name", "crc32c"}}}),
           json::array({{{"name", "transpose"}, {"configuration", {{"order", {1, 0}}}}}, bytes_be,
                        {{"name", "zstd"}, {"configuration", {{"level", 1}}}},
                        {{"name", "crc32c"}}}),
       })
    out.push_back(CodecChain::from_v3(codecs, kSpec, "fuzz"));
  for (const json& compressor : {json{{"id", "lz4"}, {"acceleration", 1}},
                                 json{{"id", "zlib"}, {"level", 1}},
                                 json{{"id", "blosc"}, {"cname", "lz4"}, {"clevel", 5},
                                      {"shuffle", 1}, {"blocksize", 0}}})
    out.push_back(CodecChain::from_v2(compressor, nullptr, "C", "<u2", kSpec, "fuzz"));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<CodecChain> chains = make_chains();
  if (size == 0) return 0;
  const CodecChain& chain = chains[data[0] % chains.size()];
  auto stored = dosna::Buffer::allocate(size - 1);
  if (size > 1) std::memcpy(stored->data(), data + 1, size - 1);
  dosna::fuzz::typed_errors_only([&] {
    const dosna::ChunkData decoded = chain.decode(stored, "c/0/0");
    if (decoded->size() != 8 * 6 * 2) __builtin_trap();
    const dosna::ChunkData again = chain.decode(chain.encode(decoded), "c/0/0");
    if (again->size() != decoded->size() ||
        std::memcmp(again->data(), decoded->data(), decoded->size()) != 0)
      __builtin_trap();
  });
  return 0;
}
