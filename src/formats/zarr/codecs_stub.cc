// TEMPORARY stand-in for branch zcodec's codecs.cc: the `bytes` codec only
// (little endian), v2 without compressor or filters. Deleted when zcodec is
// merged.
#include <cstring>

#include "dosna/errors.h"
#include "dosna/names.h"
#include "formats/zarr/codecs.h"

namespace dosna::zarr {

struct CodecChain::Codec {};

namespace {
std::size_t nbytes(const ChunkSpec& s) {
  std::size_t n = s.dtype.itemsize();
  for (auto e : s.shape) n *= static_cast<std::size_t>(e);
  return n;
}
}  // namespace

CodecChain CodecChain::from_v3(const nlohmann::json& codecs, const ChunkSpec& spec,
                               const std::string& what) {
  if (!codecs.is_array()) throw InvalidArgument(what + ": codecs is not a list");
  for (const auto& c : codecs) {
    const std::string name = c.is_object() ? c.value("name", "") : "";
    if (name != "bytes") throw NotSupported(what + ": codec " + quote(name) + " is not supported");
    if (c.contains("configuration") && c["configuration"].value("endian", "little") != "little")
      throw NotSupported(what + ": codec 'bytes' endian big is not supported");
  }
  CodecChain out;
  out.spec_ = spec;
  out.what_ = what;
  return out;
}

CodecChain CodecChain::from_v2(const nlohmann::json& compressor, const nlohmann::json& filters,
                               const std::string& order, const std::string& dtype_str,
                               const ChunkSpec& spec, const std::string& what) {
  if (!compressor.is_null())
    throw NotSupported(what + ": compressor " + quote(compressor.value("id", "")) + " is not supported");
  if (!filters.is_null() && !filters.empty()) throw NotSupported(what + ": filters are not supported");
  if (order != "C") throw NotSupported(what + ": order F is not supported");
  if (!dtype_str.empty() && dtype_str[0] == '>') throw NotSupported(what + ": big-endian dtype");
  CodecChain out;
  out.spec_ = spec;
  out.what_ = what;
  return out;
}

ChunkData CodecChain::encode(const ChunkData& decoded) const { return decoded; }

ChunkData CodecChain::decode(const ChunkData& stored, const std::string& chunk) const {
  if (stored->size() != nbytes(spec_))
    throw IoError(what_ + ": chunk " + chunk + " holds " + std::to_string(stored->size()) +
                  " bytes, expected " + std::to_string(nbytes(spec_)));
  return stored;
}

std::optional<std::size_t> CodecChain::fixed_encoded_size() const { return nbytes(spec_); }

nlohmann::json CodecChain::to_v3_json() const {
  return nlohmann::json::array({{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}});
}

}  // namespace dosna::zarr
