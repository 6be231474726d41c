#include "formats/zarr/zarr_format.h"

#include <cstring>

#include "dosna/errors.h"
#include "dosna/names.h"
#include "formats/zarr/codecs.h"
#include "formats/zarr/sharding.h"

namespace dosna::zarr {
namespace {

ChunkData text_buffer(const std::string& s) {
  auto b = Buffer::allocate(s.size());
  std::memcpy(b->data(), s.data(), s.size());
  return b;
}

std::string as_text(const ChunkData& d) {
  return {reinterpret_cast<const char*>(d->data()), d->size()};
}

CodecChain chunk_chain(const ArrayMeta& m, const std::string& what) {
  const ChunkSpec spec{m.meta.chunk_size, m.meta.dtype};
  if (m.zarr_format == 3) return CodecChain::from_v3(m.codecs, spec, what);
  return CodecChain::from_v2(m.compressor, m.filters, m.order, m.dtype_str, spec, what);
}

// Unsharded: one stored object per core chunk.
class ZarrChunkStore : public ChunkStore {
 public:
  ZarrChunkStore(KvSource kv, std::string dataset, ArrayMeta meta)
      : kv_(std::move(kv)),
        dataset_(std::move(dataset)),
        meta_(std::move(meta)),
        chain_(chunk_chain(meta_, "dataset " + quote(dataset_))) {}

  ChunkData get(const ChunkIndex& index) override {
    return decode(kv_()->get(key(index)).value, index);
  }
  void put(const ChunkIndex& index, ChunkData data) override {
    kv_()->put(key(index), chain_.encode(data));
  }
  bool has(const ChunkIndex& index) override {
    return kv_()->get(key(index), ReadRange::bytes(0, 0)).value != nullptr;
  }
  bool remove(const ChunkIndex& index) override { return kv_()->erase(key(index)); }
  std::vector<ChunkIndex> list() override {
    const std::string prefix = dataset_ + "/";
    std::vector<ChunkIndex> out;
    for (const auto& k : kv_()->list(prefix))
      if (auto i = meta_.parse_chunk_key(std::string_view(k).substr(prefix.size())))
        out.push_back(std::move(*i));
    return out;
  }
  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    std::vector<ReadRequest> requests;
    requests.reserve(indices.size());
    for (const auto& i : indices) requests.push_back({key(i), {}});
    std::vector<ReadResult> results(indices.size());
    kv_()->get_many(requests, results);
    for (std::size_t i = 0; i < indices.size(); ++i) out[i] = decode(results[i].value, indices[i]);
  }
  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    std::vector<PutRequest> requests;
    requests.reserve(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i)
      requests.push_back({key(indices[i]), chain_.encode(data[i]), {}});
    std::vector<std::optional<Generation>> results(indices.size());
    kv_()->put_many(requests, results);
  }
  // Read, modify, put if the value is still the one read; on a conflict
  // (another writer, another process) start again from the new value.
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    const std::string k = key(index);
    auto kv = kv_();
    while (true) {
      ReadResult r = kv->get(k);
      ChunkData updated = modify(decode(r.value, index));
      if (kv->put(k, chain_.encode(updated), PutCondition::if_equal(r.generation))) return;
    }
  }

 private:
  std::string key(const ChunkIndex& index) const { return dataset_ + "/" + meta_.chunk_key(index); }
  ChunkData decode(const ChunkData& stored, const ChunkIndex& index) const {
    if (!stored) return nullptr;
    return chain_.decode(stored, meta_.chunk_key(index));
  }

  KvSource kv_;
  std::string dataset_;
  ArrayMeta meta_;
  CodecChain chain_;
};

}  // namespace

std::optional<ArrayMeta> read_array(KvStore& kv, const std::string& dataset) {
  if (auto v3 = kv.get(dataset + "/zarr.json").value) return parse_v3(as_text(v3), dataset);
  if (auto v2 = kv.get(dataset + "/.zarray").value) {
    auto attrs = kv.get(dataset + "/.zattrs").value;
    return parse_v2(as_text(v2), attrs ? as_text(attrs) : "", dataset);
  }
  return std::nullopt;
}

void create_array(KvStore& kv, const std::string& dataset, const ArrayMeta& meta) {
  // NotSupported before anything is written.
  if (meta.shard_shape.empty()) chunk_chain(meta, "dataset " + quote(dataset));
  else sharded_chunks({}, dataset, meta);
  const bool v3 = meta.zarr_format == 3;
  const std::string key = dataset + (v3 ? "/zarr.json" : "/.zarray");
  if (!kv.list(dataset + "/").empty() ||
      !kv.put(key, text_buffer(v3 ? print_v3(meta) : print_v2(meta)), PutCondition::if_absent()))
    throw AlreadyExists("dataset " + quote(dataset) + " already exists in " + kv.describe());
  if (!v3 && !meta.attributes.empty()) kv.put(dataset + "/.zattrs", text_buffer(print_v2_attrs(meta)));
}

void update_array(KvStore& kv, const std::string& dataset,
                  const std::function<void(ArrayMeta&)>& change) {
  for (;;) {
    ReadResult doc = kv.get(dataset + "/zarr.json");
    const bool v3 = doc.value != nullptr;
    if (!v3) doc = kv.get(dataset + "/.zarray");
    if (!doc.value)
      throw DatasetNotFound("dataset " + quote(dataset) + " not found in " + kv.describe());
    ArrayMeta meta;
    if (v3) {
      meta = parse_v3(as_text(doc.value), dataset);
    } else {
      auto attrs = kv.get(dataset + "/.zattrs").value;
      meta = parse_v2(as_text(doc.value), attrs ? as_text(attrs) : "", dataset);
    }
    const nlohmann::json attributes_before = meta.attributes;
    change(meta);
    const std::string key = dataset + (v3 ? "/zarr.json" : "/.zarray");
    if (!kv.put(key, text_buffer(v3 ? print_v3(meta) : print_v2(meta)),
                PutCondition::if_equal(doc.generation)))
      continue;  // changed since it was read
    if (!v3 && meta.attributes != attributes_before) {
      if (meta.attributes.empty()) kv.erase(dataset + "/.zattrs");
      else kv.put(dataset + "/.zattrs", text_buffer(print_v2_attrs(meta)));
    }
    return;
  }
}

std::shared_ptr<ChunkStore> array_chunks(KvSource kv, const std::string& dataset,
                                         const ArrayMeta& meta) {
  if (!meta.shard_shape.empty()) return sharded_chunks(std::move(kv), dataset, meta);
  return std::make_shared<ZarrChunkStore>(std::move(kv), dataset, meta);
}

}  // namespace dosna::zarr
