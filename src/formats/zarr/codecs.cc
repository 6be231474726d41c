// The zarr chunk codec chain (codecs.h). Every compressor is the library's:
// libblosc, libzstd, liblz4 (numcodecs' LZ4 framing), zlib (gzip and zlib
// streams), ISA-L's crc32_iscsi for crc32c. Decoding checks every size
// before writing and turns any library failure into an IoError.
#include "formats/zarr/codecs.h"

#include <blosc.h>
#include <isa-l/crc.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna::zarr {

using nlohmann::json;

namespace {

std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (auto e : shape) n *= static_cast<std::size_t>(e);
  return n;
}

std::size_t nbytes(const ChunkSpec& spec) { return element_count(spec.shape) * spec.dtype.itemsize(); }

std::shared_ptr<Buffer> alloc(std::size_t size) { return Buffer::allocate(size); }

// Where a decode failed: the array and the chunk, for every IoError.
struct Where {
  const std::string& what;
  const std::string& chunk;
  [[noreturn]] void fail(const std::string& codec, const std::string& why) const {
    throw IoError(what + ": chunk " + quote(chunk) + ": " + codec + ": " + why);
  }
};

// Sizes a bytes->bytes decode may produce: exactly `expect` when the next
// step is the array->bytes codec, else at most `cap`.
struct Expect {
  std::optional<std::size_t> exact;
  std::size_t cap;
  std::size_t limit() const { return exact ? *exact : cap; }
};

json config_of(const json& codec) {
  if (!codec.contains("configuration")) return json::object();
  const json& c = codec.at("configuration");
  if (!c.is_object()) throw InvalidArgument("codec configuration is not an object: " + codec.dump());
  return c;
}

template <class T>
T get_or(const json& config, const char* key, T fallback, const std::string& codec) {
  if (!config.contains(key)) return fallback;
  try {
    return config.at(key).get<T>();
  } catch (const json::exception&) {
    throw InvalidArgument("codec " + quote(codec) + ": configuration " + quote(key) +
                          " has the wrong type: " + config.at(key).dump());
  }
}

// Permutes an array of `shape` (C order, `itemsize` bytes each) so that
// axis i of the result is axis order[i] of the input.
ChunkData permute(const Buffer& in, const Shape& shape, const std::vector<std::size_t>& order,
                  std::size_t itemsize) {
  const std::size_t rank = shape.size();
  auto out = alloc(in.size());
  if (in.size() == 0) return out;
  std::vector<std::size_t> in_strides(rank);
  std::size_t s = itemsize;
  for (std::size_t i = rank; i-- > 0;) {
    in_strides[i] = s;
    s *= static_cast<std::size_t>(shape[i]);
  }
  std::vector<std::size_t> out_shape(rank), stride(rank), idx(rank, 0);
  for (std::size_t i = 0; i < rank; ++i) {
    out_shape[i] = static_cast<std::size_t>(shape[order[i]]);
    stride[i] = in_strides[order[i]];
  }
  // Inner loop over the last output axis; odometer over the others.
  const std::size_t inner = rank ? out_shape[rank - 1] : 1;
  const std::size_t inner_stride = rank ? stride[rank - 1] : 0;
  std::byte* dst = out->data();
  const std::byte* src = in.data();
  const std::size_t total = in.size() / itemsize;
  std::size_t done = 0;
  while (done < total) {
    std::size_t base = 0;
    for (std::size_t i = 0; i + 1 < rank; ++i) base += idx[i] * stride[i];
    for (std::size_t j = 0; j < inner; ++j) {
      std::memcpy(dst, src + base + j * inner_stride, itemsize);
      dst += itemsize;
    }
    done += inner;
    for (std::size_t i = rank - 1; i-- > 0;) {
      if (++idx[i] < out_shape[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

// Reverses the bytes of each element (each half of a complex element).
ChunkData byte_swap(const Buffer& in, const DType& dtype) {
  const std::size_t word = dtype.kind() == DTypeKind::kComplex ? dtype.itemsize() / 2 : dtype.itemsize();
  auto out = alloc(in.size());
  const std::byte* s = in.data();
  std::byte* d = out->data();
  for (std::size_t i = 0; i + word <= in.size(); i += word)
    for (std::size_t b = 0; b < word; ++b) d[i + b] = s[i + word - 1 - b];
  return out;
}

ChunkData truncate_to(std::shared_ptr<Buffer> buf, std::size_t size) {
  if (size == buf->size()) return buf;
  auto out = alloc(size);
  std::memcpy(out->data(), buf->data(), size);
  return out;
}

}  // namespace

struct CodecChain::Codec {
  enum class Kind { kArrayArray, kArrayBytes, kBytesBytes };
  virtual ~Codec() = default;
  virtual Kind kind() const = 0;
  virtual json to_json() const = 0;
  // The zarr v2 compressor object of a bytes->bytes codec (null if none).
  virtual json to_v2() const { return nullptr; }
  // array->array: the spec of the array this step hands on.
  virtual ChunkSpec out_spec(const ChunkSpec& in) const { return in; }
  // Extra stored bytes when fixed (crc32c: 4); nullopt: depends on the data.
  virtual std::optional<std::size_t> fixed_overhead() const { return std::nullopt; }
  // `spec`: the array entering this step on encode (array codecs) or the
  // chunk spec (bytes codecs).
  virtual ChunkData encode(const ChunkData& in, const ChunkSpec& spec) const = 0;
  virtual ChunkData decode(const ChunkData& in, const ChunkSpec& spec, const Expect& expect,
                           const Where& where) const = 0;
};

namespace {

using Codec = CodecChain::Codec;
using Kind = Codec::Kind;

class TransposeCodec final : public Codec {
 public:
  explicit TransposeCodec(std::vector<std::size_t> order) : order_(std::move(order)) {
    inverse_.resize(order_.size());
    for (std::size_t i = 0; i < order_.size(); ++i) inverse_[order_[i]] = i;
  }
  Kind kind() const override { return Kind::kArrayArray; }
  json to_json() const override {
    return {{"name", "transpose"}, {"configuration", {{"order", order_}}}};
  }
  ChunkSpec out_spec(const ChunkSpec& in) const override {
    ChunkSpec out = in;
    for (std::size_t i = 0; i < order_.size(); ++i) out.shape[i] = in.shape[order_[i]];
    return out;
  }
  ChunkData encode(const ChunkData& in, const ChunkSpec& spec) const override {
    return permute(*in, spec.shape, order_, spec.dtype.itemsize());
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec& spec, const Expect&,
                   const Where&) const override {
    return permute(*in, out_spec(spec).shape, inverse_, spec.dtype.itemsize());
  }

 private:
  std::vector<std::size_t> order_, inverse_;
};

class BytesCodec final : public Codec {
 public:
  BytesCodec(bool big, bool has_endian) : big_(big), has_endian_(has_endian) {}
  Kind kind() const override { return Kind::kArrayBytes; }
  json to_json() const override {
    json j = {{"name", "bytes"}};
    if (has_endian_) j["configuration"] = {{"endian", big_ ? "big" : "little"}};
    return j;
  }
  ChunkData encode(const ChunkData& in, const ChunkSpec& spec) const override {
    return big_ && spec.dtype.itemsize() > 1 ? byte_swap(*in, spec.dtype) : in;
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec& spec, const Expect&,
                   const Where& where) const override {
    if (in->size() != nbytes(spec))
      where.fail("bytes", "holds " + std::to_string(in->size()) + " bytes, the chunk has " +
                              std::to_string(nbytes(spec)));
    return big_ && spec.dtype.itemsize() > 1 ? byte_swap(*in, spec.dtype) : in;
  }

 private:
  bool big_, has_endian_;
};

class BloscCodec final : public Codec {
 public:
  BloscCodec(std::string cname, int clevel, int shuffle, std::size_t typesize, std::size_t blocksize)
      : cname_(std::move(cname)), clevel_(clevel), shuffle_(shuffle), typesize_(typesize),
        blocksize_(blocksize) {}
  Kind kind() const override { return Kind::kBytesBytes; }
  json to_json() const override {
    static const char* names[] = {"noshuffle", "shuffle", "bitshuffle"};
    return {{"name", "blosc"},
            {"configuration",
             {{"cname", cname_}, {"clevel", clevel_}, {"shuffle", names[shuffle_]},
              {"typesize", typesize_}, {"blocksize", blocksize_}}}};
  }
  json to_v2() const override {
    return {{"id", "blosc"}, {"cname", cname_}, {"clevel", clevel_}, {"shuffle", shuffle_},
            {"blocksize", blocksize_}};
  }
  ChunkData encode(const ChunkData& in, const ChunkSpec&) const override {
    auto out = alloc(in->size() + BLOSC_MAX_OVERHEAD);
    const int n = blosc_compress_ctx(clevel_, shuffle_, typesize_, in->size(), in->data(),
                                     out->data(), out->size(), cname_.c_str(), blocksize_, 1);
    if (n <= 0) throw IoError("blosc: compression failed (" + std::to_string(n) + ")");
    return truncate_to(out, static_cast<std::size_t>(n));
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec&, const Expect& expect,
                   const Where& where) const override {
    std::size_t size = 0;
    if (in->size() < BLOSC_MIN_HEADER_LENGTH ||
        blosc_cbuffer_validate(in->data(), in->size(), &size) < 0)
      where.fail("blosc", "not a valid blosc buffer (" + std::to_string(in->size()) + " bytes)");
    check_size(size, expect, where, "blosc");
    auto out = alloc(size);
    if (size == 0) return out;
    const int n = blosc_decompress_ctx(in->data(), out->data(), size, 1);
    if (n < 0 || static_cast<std::size_t>(n) != size)
      where.fail("blosc", "corrupt compressed data (" + std::to_string(n) + ")");
    return out;
  }
  static void check_size(std::size_t size, const Expect& expect, const Where& where,
                         const char* codec) {
    if (expect.exact && size != *expect.exact)
      where.fail(codec, "decompresses to " + std::to_string(size) + " bytes, the chunk has " +
                            std::to_string(*expect.exact));
    if (size > expect.cap)
      where.fail(codec, "claims " + std::to_string(size) + " decompressed bytes, more than " +
                            std::to_string(expect.cap));
  }

 private:
  std::string cname_;
  int clevel_, shuffle_;
  std::size_t typesize_, blocksize_;
};

struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
ZstdContexts& zstd_contexts() {
  thread_local ZstdContexts ctx;
  return ctx;
}

class ZstdCodec final : public Codec {
 public:
  ZstdCodec(int level, bool checksum) : level_(level), checksum_(checksum) {}
  Kind kind() const override { return Kind::kBytesBytes; }
  json to_json() const override {
    return {{"name", "zstd"}, {"configuration", {{"level", level_}, {"checksum", checksum_}}}};
  }
  json to_v2() const override { return {{"id", "zstd"}, {"level", level_}}; }
  ChunkData encode(const ChunkData& in, const ChunkSpec&) const override {
    ZSTD_CCtx* c = zstd_contexts().c;
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level_);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum_ ? 1 : 0);
    auto out = alloc(ZSTD_compressBound(in->size()));
    const std::size_t n = ZSTD_compress2(c, out->data(), out->size(), in->data(), in->size());
    if (ZSTD_isError(n)) throw IoError(std::string("zstd: ") + ZSTD_getErrorName(n));
    return truncate_to(out, n);
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec&, const Expect& expect,
                   const Where& where) const override {
    ZSTD_DCtx* d = zstd_contexts().d;
    const unsigned long long declared = ZSTD_getFrameContentSize(in->data(), in->size());
    if (declared == ZSTD_CONTENTSIZE_ERROR)
      where.fail("zstd", "not a valid zstd frame (" + std::to_string(in->size()) + " bytes)");
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN) {
      if (declared > std::numeric_limits<std::size_t>::max())
        where.fail("zstd", "declares an impossible size");
      const auto size = static_cast<std::size_t>(declared);
      BloscCodec::check_size(size, expect, where, "zstd");
      auto out = alloc(size);
      const std::size_t n = ZSTD_decompressDCtx(d, out->data(), size, in->data(), in->size());
      if (ZSTD_isError(n)) where.fail("zstd", ZSTD_getErrorName(n));
      if (n != size) where.fail("zstd", "decompressed " + std::to_string(n) + " bytes, the frame declares " + std::to_string(size));
      return out;
    }
    // No declared size (a streamed frame): decompress into the limit.
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    auto out = alloc(expect.limit());
    ZSTD_inBuffer src{in->data(), in->size(), 0};
    ZSTD_outBuffer dst{out->data(), out->size(), 0};
    while (true) {
      const std::size_t r = ZSTD_decompressStream(d, &dst, &src);
      if (ZSTD_isError(r)) where.fail("zstd", ZSTD_getErrorName(r));
      if (r == 0 && src.pos == src.size) break;
      if (dst.pos == dst.size) {
        // Full: the data holds more than it may (probe one more byte).
        std::byte probe;
        ZSTD_outBuffer extra{&probe, 1, 0};
        const std::size_t r2 = ZSTD_decompressStream(d, &extra, &src);
        if (ZSTD_isError(r2) || extra.pos > 0)
          where.fail("zstd", "decompresses to more than " + std::to_string(expect.limit()) + " bytes");
        if (r2 == 0 && src.pos == src.size) break;
      }
      if (src.pos == src.size && r != 0) where.fail("zstd", "truncated frame");
    }
    if (expect.exact && dst.pos != *expect.exact)
      where.fail("zstd", "decompresses to " + std::to_string(dst.pos) + " bytes, the chunk has " +
                             std::to_string(*expect.exact));
    return truncate_to(out, dst.pos);
  }

 private:
  int level_;
  bool checksum_;
};

// gzip (windowBits 31) and zlib (15) streams through zlib.
class DeflateCodec final : public Codec {
 public:
  DeflateCodec(bool gzip, int level) : gzip_(gzip), level_(level) {}
  Kind kind() const override { return Kind::kBytesBytes; }
  const char* name() const { return gzip_ ? "gzip" : "zlib"; }
  json to_json() const override {
    return {{"name", name()}, {"configuration", {{"level", level_}}}};
  }
  json to_v2() const override { return {{"id", name()}, {"level", level_}}; }
  ChunkData encode(const ChunkData& in, const ChunkSpec&) const override {
    z_stream z{};
    if (deflateInit2(&z, level_, Z_DEFLATED, gzip_ ? 31 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw IoError(std::string(name()) + ": deflateInit2 failed");
    auto out = alloc(deflateBound(&z, in->size()) + (gzip_ ? 18 : 0));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in->data()));
    z.avail_in = static_cast<uInt>(in->size());
    z.next_out = reinterpret_cast<Bytef*>(out->data());
    z.avail_out = static_cast<uInt>(out->size());
    const int rc = deflate(&z, Z_FINISH);
    const std::size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw IoError(std::string(name()) + ": deflate failed");
    return truncate_to(out, n);
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec&, const Expect& expect,
                   const Where& where) const override {
    z_stream z{};
    if (inflateInit2(&z, gzip_ ? 31 : 15) != Z_OK) where.fail(name(), "inflateInit2 failed");
    auto out = alloc(expect.limit());
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in->data()));
    z.avail_in = static_cast<uInt>(in->size());
    z.next_out = reinterpret_cast<Bytef*>(out->data());
    z.avail_out = static_cast<uInt>(out->size());
    int rc = inflate(&z, Z_FINISH);
    if (rc == Z_BUF_ERROR && z.avail_out == 0 && z.avail_in > 0) {
      // Output full: more data than allowed, unless only the trailer is left.
      unsigned char probe;
      z.next_out = &probe;
      z.avail_out = 1;
      rc = inflate(&z, Z_FINISH);
      if (z.avail_out == 0) rc = Z_BUF_ERROR;
    }
    const std::size_t n = z.total_out;
    const bool trailing = z.avail_in != 0;
    inflateEnd(&z);
    if (rc == Z_BUF_ERROR && n >= expect.limit())
      where.fail(name(), "decompresses to more than " + std::to_string(expect.limit()) + " bytes");
    if (rc != Z_STREAM_END)
      where.fail(name(), rc == Z_BUF_ERROR ? "truncated stream" : "corrupt stream");
    if (trailing) where.fail(name(), "bytes after the end of the stream");
    if (expect.exact && n != *expect.exact)
      where.fail(name(), "decompresses to " + std::to_string(n) + " bytes, the chunk has " +
                             std::to_string(*expect.exact));
    return truncate_to(out, n);
  }

 private:
  bool gzip_;
  int level_;
};

// numcodecs' LZ4: a 4-byte little-endian decompressed size, then one LZ4 block.
class Lz4Codec final : public Codec {
 public:
  explicit Lz4Codec(int acceleration) : acceleration_(acceleration) {}
  Kind kind() const override { return Kind::kBytesBytes; }
  json to_json() const override {
    return {{"name", "numcodecs.lz4"}, {"configuration", {{"acceleration", acceleration_}}}};
  }
  json to_v2() const override { return {{"id", "lz4"}, {"acceleration", acceleration_}}; }
  ChunkData encode(const ChunkData& in, const ChunkSpec&) const override {
    if (in->size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE))
      throw InvalidArgument("lz4: a chunk of " + std::to_string(in->size()) + " bytes is too large");
    const int n_in = static_cast<int>(in->size());
    auto out = alloc(4 + static_cast<std::size_t>(LZ4_compressBound(n_in)));
    const std::uint32_t size = static_cast<std::uint32_t>(in->size());
    for (int i = 0; i < 4; ++i) out->data()[i] = static_cast<std::byte>(size >> (8 * i));
    const int n = LZ4_compress_fast(reinterpret_cast<const char*>(in->data()),
                                    reinterpret_cast<char*>(out->data() + 4), n_in,
                                    static_cast<int>(out->size() - 4), acceleration_);
    if (n <= 0 && n_in > 0) throw IoError("lz4: compression failed");
    return truncate_to(out, 4 + static_cast<std::size_t>(n));
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec&, const Expect& expect,
                   const Where& where) const override {
    if (in->size() < 4) where.fail("lz4", "shorter than its 4-byte size header");
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i) size |= std::uint32_t(std::to_integer<unsigned>(in->data()[i])) << (8 * i);
    BloscCodec::check_size(size, expect, where, "lz4");
    if (size > static_cast<std::uint32_t>(LZ4_MAX_INPUT_SIZE)) where.fail("lz4", "declares an impossible size");
    auto out = alloc(size);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in->data() + 4),
                                      reinterpret_cast<char*>(out->data()),
                                      static_cast<int>(in->size() - 4), static_cast<int>(size));
    if (n < 0 || static_cast<std::uint32_t>(n) != size)
      where.fail("lz4", "corrupt or truncated block");
    return out;
  }

 private:
  int acceleration_;
};

// The CRC32C (Castagnoli) of the data, appended little-endian.
class Crc32cCodec final : public Codec {
 public:
  Kind kind() const override { return Kind::kBytesBytes; }
  json to_json() const override { return {{"name", "crc32c"}}; }
  std::optional<std::size_t> fixed_overhead() const override { return 4; }
  static std::uint32_t crc(const std::byte* data, std::size_t size) {
    std::uint32_t c = 0xFFFFFFFFu;
    while (size > 0) {
      const int n = static_cast<int>(std::min<std::size_t>(size, 1u << 30));
      c = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<std::byte*>(data)), n, c);
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return c ^ 0xFFFFFFFFu;
  }
  ChunkData encode(const ChunkData& in, const ChunkSpec&) const override {
    auto out = alloc(in->size() + 4);
    if (in->size()) std::memcpy(out->data(), in->data(), in->size());
    const std::uint32_t c = crc(in->data(), in->size());
    for (int i = 0; i < 4; ++i) out->data()[in->size() + i] = static_cast<std::byte>(c >> (8 * i));
    return out;
  }
  ChunkData decode(const ChunkData& in, const ChunkSpec&, const Expect& expect,
                   const Where& where) const override {
    if (in->size() < 4) where.fail("crc32c", "shorter than its 4-byte checksum");
    const std::size_t n = in->size() - 4;
    BloscCodec::check_size(n, expect, where, "crc32c");
    std::uint32_t stored = 0;
    for (int i = 0; i < 4; ++i) stored |= std::uint32_t(std::to_integer<unsigned>(in->data()[n + i])) << (8 * i);
    if (crc(in->data(), n) != stored) where.fail("crc32c", "checksum mismatch");
    return truncate_to(std::const_pointer_cast<Buffer>(in), n);
  }
};

int blosc_shuffle_v3(const json& value, const std::string& codec) {
  if (value == "noshuffle") return 0;
  if (value == "shuffle") return 1;
  if (value == "bitshuffle") return 2;
  throw NotSupported("codec " + quote(codec) + ": shuffle " + value.dump() + " is not supported");
}

std::string blosc_cname(const json& config, const std::string& codec) {
  const auto cname = get_or<std::string>(config, "cname", "lz4", codec);
  static const char* known[] = {"lz4", "lz4hc", "zstd", "zlib", "blosclz"};
  if (std::find(std::begin(known), std::end(known), cname) == std::end(known))
    throw NotSupported("codec " + quote(codec) + ": cname " + quote(cname) + " is not supported");
  return cname;
}

int check_level(int level, int lo, int hi, const std::string& codec) {
  if (level < lo || level > hi)
    throw InvalidArgument("codec " + quote(codec) + ": level " + std::to_string(level) +
                          " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return level;
}

std::shared_ptr<const Codec> bytes_codec_v3(const std::string& name, const json& config,
                                            const ChunkSpec& spec) {
  if (name == "blosc") {
    const std::string cname = blosc_cname(config, name);
    const int clevel = check_level(get_or<int>(config, "clevel", 5, name), 0, 9, name);
    const int shuffle = config.contains("shuffle") ? blosc_shuffle_v3(config.at("shuffle"), name) : 0;
    const auto typesize = get_or<std::size_t>(config, "typesize", spec.dtype.itemsize(), name);
    if (typesize < 1 || typesize > 255)
      throw InvalidArgument("codec \"blosc\": typesize " + std::to_string(typesize) + " is outside 1..255");
    return std::make_shared<BloscCodec>(cname, clevel, shuffle, typesize,
                                        get_or<std::size_t>(config, "blocksize", 0, name));
  }
  if (name == "zstd")
    return std::make_shared<ZstdCodec>(
        check_level(get_or<int>(config, "level", 0, name), ZSTD_minCLevel(), ZSTD_maxCLevel(), name),
        get_or<bool>(config, "checksum", false, name));
  if (name == "gzip")
    return std::make_shared<DeflateCodec>(true, check_level(get_or<int>(config, "level", 5, name), 0, 9, name));
  if (name == "crc32c") return std::make_shared<Crc32cCodec>();
  return nullptr;
}

}  // namespace

CodecChain CodecChain::from_v3(const json& codecs, const ChunkSpec& spec, const std::string& what) {
  if (!codecs.is_array() || codecs.empty())
    throw InvalidArgument(what + ": codecs must be a non-empty list, not " + codecs.dump());
  CodecChain chain;
  chain.spec_ = spec;
  chain.what_ = what;
  ChunkSpec current = spec;
  int array_bytes = 0;
  for (const json& c : codecs) {
    if (!c.is_object() || !c.contains("name") || !c.at("name").is_string())
      throw InvalidArgument(what + ": a codec is not an object with a \"name\": " + c.dump());
    const std::string name = c.at("name").get<std::string>();
    json config;
    try {
      config = config_of(c);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(what + ": " + e.what());
    }
    std::shared_ptr<const Codec> step;
    try {
      if (name == "transpose") {
        const json order = config.contains("order") ? config.at("order") : json();
        std::vector<std::size_t> perm;
        const std::size_t rank = spec.shape.size();
        if (order == "C") {
          for (std::size_t i = 0; i < rank; ++i) perm.push_back(i);
        } else if (order == "F") {
          for (std::size_t i = rank; i-- > 0;) perm.push_back(i);
        } else if (order.is_array()) {
          for (const json& o : order) {
            if (!o.is_number_integer() || o.get<std::int64_t>() < 0) throw InvalidArgument("transpose order " + order.dump() + " is not a permutation");
            perm.push_back(o.get<std::size_t>());
          }
        }
        std::vector<std::size_t> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        std::vector<std::size_t> identity(rank);
        std::iota(identity.begin(), identity.end(), 0);
        if (sorted != identity)
          throw InvalidArgument("transpose order " + order.dump() + " is not a permutation of " +
                                std::to_string(rank) + " axes");
        step = std::make_shared<TransposeCodec>(std::move(perm));
      } else if (name == "bytes") {
        const bool has = config.contains("endian");
        const std::string endian = has ? get_or<std::string>(config, "endian", "little", name) : "little";
        if (endian != "little" && endian != "big")
          throw InvalidArgument("bytes endian " + quote(endian) + " is neither \"little\" nor \"big\"");
        if (!has && current.dtype.itemsize() > 1)
          throw InvalidArgument("bytes codec without \"endian\" for a " +
                                std::to_string(current.dtype.itemsize()) + "-byte dtype");
        step = std::make_shared<BytesCodec>(endian == "big", has);
      } else {
        step = bytes_codec_v3(name, config, spec);
      }
    } catch (const NotSupported& e) {
      throw NotSupported(what + ": " + e.what());
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(what + ": " + e.what());
    }
    if (!step) throw NotSupported(what + ": codec " + quote(name) + " is not supported");
    const Kind k = step->kind();
    if (k == Kind::kArrayArray && array_bytes)
      throw InvalidArgument(what + ": codec " + quote(name) + " (array to array) comes after the array to bytes codec");
    if (k == Kind::kBytesBytes && !array_bytes)
      throw InvalidArgument(what + ": codec " + quote(name) + " (bytes to bytes) comes before the array to bytes codec");
    if (k == Kind::kArrayBytes && array_bytes++)
      throw InvalidArgument(what + ": more than one array to bytes codec");
    if (k == Kind::kArrayArray) current = step->out_spec(current);
    chain.steps_.push_back(std::move(step));
  }
  if (!array_bytes) throw InvalidArgument(what + ": codecs hold no array to bytes codec (\"bytes\")");
  return chain;
}

CodecChain CodecChain::from_v2(const json& compressor, const json& filters, const std::string& order,
                               const std::string& dtype_str, const ChunkSpec& spec,
                               const std::string& what) {
  if (!filters.is_null()) {
    if (!filters.is_array()) throw InvalidArgument(what + ": filters must be null or a list");
    for (const json& f : filters) {
      const std::string id = f.is_object() && f.contains("id") ? f.at("id").dump() : f.dump();
      throw NotSupported(what + ": filter " + id + " is not supported (only filters null)");
    }
  }
  if (order != "C" && order != "F")
    throw InvalidArgument(what + ": order " + quote(order) + " is neither \"C\" nor \"F\"");
  if (dtype_str.empty()) throw InvalidArgument(what + ": empty dtype");
  const char byteorder = dtype_str[0];
  if (byteorder != '<' && byteorder != '>' && byteorder != '|' && byteorder != '=')
    throw InvalidArgument(what + ": dtype " + quote(dtype_str) + " has no byte order ('<', '>', '|')");
  CodecChain chain;
  chain.spec_ = spec;
  chain.what_ = what;
  if (order == "F") {
    std::vector<std::size_t> perm;
    for (std::size_t i = spec.shape.size(); i-- > 0;) perm.push_back(i);
    chain.steps_.push_back(std::make_shared<TransposeCodec>(std::move(perm)));
  }
  chain.steps_.push_back(std::make_shared<BytesCodec>(byteorder == '>', spec.dtype.itemsize() > 1));
  if (compressor.is_null()) return chain;
  if (!compressor.is_object() || !compressor.contains("id") || !compressor.at("id").is_string())
    throw InvalidArgument(what + ": compressor is not an object with an \"id\": " + compressor.dump());
  const std::string id = compressor.at("id").get<std::string>();
  try {
    if (id == "blosc") {
      const std::string cname = blosc_cname(compressor, id);
      const int clevel = check_level(get_or<int>(compressor, "clevel", 5, id), 0, 9, id);
      int shuffle = get_or<int>(compressor, "shuffle", 1, id);
      if (shuffle == -1) shuffle = spec.dtype.itemsize() == 1 ? 2 : 1;  // numcodecs AUTOSHUFFLE
      if (shuffle < 0 || shuffle > 2)
        throw NotSupported("codec \"blosc\": shuffle " + std::to_string(shuffle) + " is not supported");
      chain.steps_.push_back(std::make_shared<BloscCodec>(
          cname, clevel, shuffle, spec.dtype.itemsize(), get_or<std::size_t>(compressor, "blocksize", 0, id)));
    } else if (id == "zstd") {
      chain.steps_.push_back(std::make_shared<ZstdCodec>(
          check_level(get_or<int>(compressor, "level", 1, id), ZSTD_minCLevel(), ZSTD_maxCLevel(), id),
          get_or<bool>(compressor, "checksum", false, id)));
    } else if (id == "lz4") {
      chain.steps_.push_back(std::make_shared<Lz4Codec>(get_or<int>(compressor, "acceleration", 1, id)));
    } else if (id == "zlib" || id == "gzip") {
      chain.steps_.push_back(std::make_shared<DeflateCodec>(
          id == "gzip", check_level(get_or<int>(compressor, "level", 1, id), 0, 9, id)));
    } else {
      throw NotSupported("compressor " + quote(id) + " is not supported");
    }
  } catch (const NotSupported& e) {
    throw NotSupported(what + ": " + e.what());
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(what + ": " + e.what());
  }
  return chain;
}

ChunkData CodecChain::encode(const ChunkData& decoded) const {
  const std::size_t n = nbytes(spec_);
  if (!decoded || decoded->size() != n)
    throw InvalidArgument(what_ + ": a chunk to encode has " +
                          std::to_string(decoded ? decoded->size() : 0) + " bytes, not " + std::to_string(n));
  ChunkData data = decoded;
  ChunkSpec current = spec_;
  for (const auto& step : steps_) {
    data = step->encode(data, current);
    if (step->kind() == Kind::kArrayArray) current = step->out_spec(current);
  }
  return data;
}

ChunkData CodecChain::decode(const ChunkData& stored, const std::string& chunk) const {
  const Where where{what_, chunk};
  if (!stored) where.fail("chain", "no stored bytes");
  const std::size_t n = nbytes(spec_);
  // The spec entering each step on encode.
  std::vector<ChunkSpec> specs;
  specs.reserve(steps_.size());
  ChunkSpec current = spec_;
  for (const auto& step : steps_) {
    specs.push_back(current);
    if (step->kind() == Kind::kArrayArray) current = step->out_spec(current);
  }
  // A nested compressor may hold at most this much (incompressible data plus framing).
  const std::size_t cap = 2 * n + (std::size_t{1} << 20);
  ChunkData data = stored;
  for (std::size_t i = steps_.size(); i-- > 0;) {
    const Codec& step = *steps_[i];
    Expect expect{std::nullopt, cap};
    if (step.kind() == Kind::kBytesBytes && i > 0 && steps_[i - 1]->kind() == Kind::kArrayBytes)
      expect.exact = n;
    data = step.decode(data, specs[i], expect, where);
  }
  if (data->size() != n)
    where.fail("chain", "decodes to " + std::to_string(data->size()) + " bytes, the chunk has " + std::to_string(n));
  return data;
}

std::optional<std::size_t> CodecChain::fixed_encoded_size() const {
  std::size_t size = nbytes(spec_);
  for (const auto& step : steps_) {
    if (step->kind() != Kind::kBytesBytes) continue;
    const auto extra = step->fixed_overhead();
    if (!extra) return std::nullopt;
    size += *extra;
  }
  return size;
}

json CodecChain::to_v3_json() const {
  json out = json::array();
  for (const auto& step : steps_) out.push_back(step->to_json());
  return out;
}

}  // namespace dosna::zarr
