// The shard-index decoder and the sharded chunk store over it
// (docs/format.md "Zarr sharding"): any stored shard bytes give whole inner
// chunks or a typed error, never a crash or a chunk of the wrong size; a
// partial write over any stored shard either fails typed or reads back.
// The first input byte picks the layout (index at end / start, index crc32c
// or not, inner chunks raw or zstd: layouts[byte % 8] in that nesting order).
#include <cstddef>
#include <cstring>
#include <vector>

#include "dosna/kvstore.h"
#include "formats/zarr/metadata.h"
#include "formats/zarr/sharding.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace dosna;

struct Layout {
  zarr::ArrayMeta meta;
  std::shared_ptr<KvStore> kv;
  std::shared_ptr<ChunkStore> chunks;
};

// 8x6 uint16 in inner chunks 2x3, shards 4x6: shard (0,0) holds 2x2 inner chunks.
Layout make_layout(bool index_at_start, bool index_crc, bool zstd) {
  const DatasetMeta meta{{8, 6}, DType::parse("uint16"), Scalar(7), {2, 3}};
  StorageOptions options;
  options.format = "zarr3";
  if (zstd) options.compression = "zstd";
  options.shard_shape = {4, 6};
  Layout l;
  l.meta = zarr::make_array_meta(meta, options, "fuzz");
  l.meta.index_at_end = !index_at_start;
  // Without the crc32c most mutations reach the index decoder's checks.
  if (!index_crc)
    l.meta.index_codecs = nlohmann::json::array(
        {{{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}});
  l.kv = make_kvstore("ram", "fuzz-shard", {});
  auto kv = l.kv;
  l.chunks = zarr::sharded_chunks([kv] { return kv; }, "vol", l.meta);
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::vector<Layout> layouts = [] {
    std::vector<Layout> out;
    for (bool start : {false, true})
      for (bool crc : {true, false})
        for (bool zstd : {false, true}) out.push_back(make_layout(start, crc, zstd));
    return out;
  }();
  if (size == 0) return 0;
  Layout& l = layouts[data[0] % layouts.size()];
  const std::size_t chunk_bytes = l.meta.meta.chunk_nbytes();
  auto stored = Buffer::allocate(size - 1);
  if (size > 1) std::memcpy(stored->data(), data + 1, size - 1);
  l.kv->put("vol/c/0/0", stored);

  const std::vector<ChunkIndex> inner{{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  fuzz::typed_errors_only([&] {
    std::vector<ChunkData> out(inner.size());
    l.chunks->get_many(inner, out);
    for (const auto& c : out)
      if (c && c->size() != chunk_bytes) __builtin_trap();
  });
  fuzz::typed_errors_only([&] {
    const ChunkData c = l.chunks->get({1, 1});
    if (c && c->size() != chunk_bytes) __builtin_trap();
  });
  fuzz::typed_errors_only([&] {
    auto mine = Buffer::allocate(chunk_bytes);
    std::memset(mine->data(), 0x5a, chunk_bytes);
    l.chunks->put({0, 1}, mine);
    const ChunkData back = l.chunks->get({0, 1});
    if (!back || back->size() != chunk_bytes ||
        std::memcmp(back->data(), mine->data(), chunk_bytes) != 0)
      __builtin_trap();
  });
  return 0;
}
