#include "formats/zarr/sharding.h"

#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

#include "dosna/errors.h"
#include "dosna/names.h"
#include "formats/zarr/codecs.h"

namespace dosna::zarr {
namespace {

// An index entry of an inner chunk that is not stored (both fields).
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
// A cache of indexes holding more entries than this is emptied.
constexpr std::size_t kMaxCachedEntries = std::size_t{1} << 20;
// Rounds of "a shard changed between reading its index and its chunks".
constexpr int kMaxStaleRounds = 16;

ChunkData copy_of(const std::byte* p, std::size_t n) {
  auto b = Buffer::allocate(n);
  if (n) std::memcpy(b->data(), p, n);
  return b;
}

// One shard's index as read: (offset, nbytes) per inner chunk in C order.
struct ShardIndex {
  std::vector<std::uint64_t> entries;
  Generation generation;  // absent: no shard stored
  bool stored(std::size_t inner) const { return entries[2 * inner] != kNone; }
  std::uint64_t offset(std::size_t inner) const { return entries[2 * inner]; }
  std::uint64_t nbytes(std::size_t inner) const { return entries[2 * inner + 1]; }
};
using IndexPtr = std::shared_ptr<const ShardIndex>;

// An inner chunk's place: its shard's grid index and its position inside.
struct Slot {
  ChunkIndex shard;
  std::size_t inner = 0;
};

// The new content of a read-modify-write: inner position -> encoded chunk
// (nullptr: remove it).
using Changes = std::map<std::size_t, ChunkData>;

class ShardedChunkStore : public ChunkStore {
 public:
  ShardedChunkStore(KvSource kv, std::string dataset, ArrayMeta meta)
      : kv_(std::move(kv)),
        dataset_(std::move(dataset)),
        meta_(std::move(meta)),
        what_("dataset " + quote(dataset_)),
        chain_(CodecChain::from_v3(meta_.codecs, {meta_.meta.chunk_size, meta_.meta.dtype}, what_)),
        index_chain_(make_index_chain()),
        index_bytes_(*index_chain_.fixed_encoded_size()) {
    const auto grid = meta_.meta.chunk_grid();
    for (std::size_t a = 0; a < grid.size(); ++a) {
      per_shard_.push_back(meta_.shard_shape[a] / meta_.meta.chunk_size[a]);
      n_inner_ *= static_cast<std::size_t>(per_shard_.back());
    }
    auto none = std::make_shared<ShardIndex>();
    none->entries.assign(2 * n_inner_, kNone);
    no_shard_ = std::move(none);
  }

  Shape write_group() const override { return per_shard_; }

  ChunkData get(const ChunkIndex& index) override {
    ChunkData out;
    get_many({&index, 1}, {&out, 1});
    return out;
  }

  void get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) override {
    std::vector<std::size_t> pending(indices.size());
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    for (int round = 0; !pending.empty(); ++round) {
      if (round == kMaxStaleRounds)
        throw IoError(what_ + ": shards kept changing while being read (" +
                      std::to_string(kMaxStaleRounds) + " attempts)");
      pending = read_round(indices, out, pending);
    }
  }

  void put(const ChunkIndex& index, ChunkData data) override { put_many({&index, 1}, {&data, 1}); }

  void put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) override {
    std::map<ChunkIndex, Changes> by_shard;
    for (std::size_t i = 0; i < indices.size(); ++i) {
      Slot s = slot(indices[i]);
      by_shard[std::move(s.shard)][s.inner] = chain_.encode(data[i]);
    }
    std::vector<PutRequest> whole;
    std::vector<std::shared_ptr<ShardIndex>> whole_index;
    for (auto& [shard, changes] : by_shard) {
      if (changes.size() != stored_in_grid(shard)) {
        modify_shard(shard, [&changes = changes](const ShardIndex&, const ChunkData&) { return changes; });
        continue;
      }
      auto index = std::make_shared<ShardIndex>();
      whole.push_back({key(shard), assemble(changes, *no_shard_, nullptr, *index), {}});
      whole_index.push_back(std::move(index));
    }
    if (whole.empty()) return;
    std::vector<std::optional<Generation>> generations(whole.size());
    kv_()->put_many(whole, generations);
    for (std::size_t i = 0; i < whole.size(); ++i) {
      whole_index[i]->generation = *generations[i];
      remember(whole[i].key, whole_index[i]);
    }
  }

  bool has(const ChunkIndex& index) override {
    const Slot s = slot(index);
    return fetch_indexes({key(s.shard)})[0]->stored(s.inner);
  }

  bool remove(const ChunkIndex& index) override {
    const Slot s = slot(index);
    bool existed = false;
    modify_shard(s.shard, [&](const ShardIndex& current, const ChunkData&) {
      existed = current.stored(s.inner);
      return existed ? Changes{{s.inner, nullptr}} : Changes{};
    });
    return existed;
  }

  void remove_many(std::span<const ChunkIndex> indices) override {
    std::map<ChunkIndex, Changes> by_shard;
    for (const auto& i : indices) {
      Slot s = slot(i);
      by_shard[std::move(s.shard)][s.inner] = nullptr;
    }
    for (const auto& [shard, changes] : by_shard) {
      if (changes.size() == stored_in_grid(shard)) {
        // Every inner chunk goes: the shard goes, without reading it (as
        // removing each chunk would, in some order).
        const std::string k = key(shard);
        kv_()->erase(k);
        forget(k);
        continue;
      }
      modify_shard(shard, [&changes = changes](const ShardIndex&, const ChunkData&) { return changes; });
    }
  }

  std::vector<ChunkIndex> list() override {
    const std::string prefix = dataset_ + "/";
    std::vector<ChunkIndex> shards;
    std::vector<std::string> keys;
    for (const auto& k : kv_()->list(prefix))
      if (auto i = meta_.parse_chunk_key(std::string_view(k).substr(prefix.size()))) {
        shards.push_back(std::move(*i));
        keys.push_back(k);
      }
    const auto indexes = fetch_indexes(keys);
    std::vector<ChunkIndex> out;
    for (std::size_t s = 0; s < shards.size(); ++s)
      for (std::size_t inner = 0; inner < n_inner_; ++inner)
        if (indexes[s]->stored(inner)) out.push_back(chunk_of(shards[s], inner));
    return out;
  }

  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    const Slot s = slot(index);
    modify_shard(s.shard, [&](const ShardIndex& current, const ChunkData& shard) {
      ChunkData decoded;
      if (current.stored(s.inner))
        decoded = decode(copy_of(shard->data() + current.offset(s.inner), current.nbytes(s.inner)),
                         s);
      return Changes{{s.inner, chain_.encode(modify(decoded))}};
    });
  }

 private:
  CodecChain make_index_chain() const {
    Shape shape = meta_.shard_shape;
    for (std::size_t a = 0; a < shape.size(); ++a) shape[a] /= meta_.meta.chunk_size[a];
    shape.push_back(2);
    CodecChain chain = CodecChain::from_v3(meta_.index_codecs, {shape, DType::of<std::uint64_t>()},
                                           what_ + " (shard index)");
    if (!chain.fixed_encoded_size())
      throw NotSupported(what_ + ": sharding_indexed.index_codecs compress the index (only "
                                 "fixed-size codecs such as bytes and crc32c are supported)");
    return chain;
  }

  Slot slot(const ChunkIndex& index) const {
    Slot s{ChunkIndex(index.size()), 0};
    for (std::size_t a = 0; a < index.size(); ++a) {
      s.shard[a] = index[a] / per_shard_[a];
      s.inner = s.inner * static_cast<std::size_t>(per_shard_[a]) +
                static_cast<std::size_t>(index[a] % per_shard_[a]);
    }
    return s;
  }
  ChunkIndex chunk_of(const ChunkIndex& shard, std::size_t inner) const {
    ChunkIndex out(shard.size());
    for (std::size_t a = shard.size(); a-- > 0;) {
      const auto n = static_cast<std::size_t>(per_shard_[a]);
      out[a] = shard[a] * per_shard_[a] + static_cast<std::int64_t>(inner % n);
      inner /= n;
    }
    return out;
  }
  // Inner chunks of `shard` inside the array's chunk grid (edge shards hold fewer).
  std::size_t stored_in_grid(const ChunkIndex& shard) const {
    const auto grid = meta_.meta.chunk_grid();
    std::size_t n = 1;
    for (std::size_t a = 0; a < shard.size(); ++a)
      n *= static_cast<std::size_t>(std::min(per_shard_[a], grid[a] - shard[a] * per_shard_[a]));
    return n;
  }
  std::string key(const ChunkIndex& shard) const { return dataset_ + "/" + meta_.chunk_key(shard); }
  std::string chunk_name(const Slot& s) const {
    return "shard " + meta_.chunk_key(s.shard) + " inner chunk " + std::to_string(s.inner);
  }
  ChunkData decode(const ChunkData& stored, const Slot& s) const {
    return chain_.decode(stored, chunk_name(s));
  }

  // The index of a shard from its encoded index bytes; checks every entry
  // lies inside the shard's data (`shard_size` bytes in all).
  IndexPtr parse_index(const std::string& shard_key, const ChunkData& encoded,
                       std::uint64_t shard_size, Generation generation) const {
    const std::string name = "shard " + shard_key.substr(dataset_.size() + 1) + " index";
    const ChunkData decoded = index_chain_.decode(encoded, name);
    auto index = std::make_shared<ShardIndex>();
    index->entries.resize(2 * n_inner_);
    std::memcpy(index->entries.data(), decoded->data(), index->entries.size() * 8);
    index->generation = std::move(generation);
    const std::uint64_t lo = meta_.index_at_end ? 0 : index_bytes_;
    const std::uint64_t hi = meta_.index_at_end ? shard_size - index_bytes_ : shard_size;
    for (std::size_t i = 0; i < n_inner_; ++i) {
      const std::uint64_t off = index->offset(i), n = index->nbytes(i);
      if (off == kNone && n == kNone) continue;
      if (off == kNone || n == kNone || off < lo || off > hi || n > hi - off)
        throw IoError(what_ + ": " + name + ": the entry of inner chunk " + std::to_string(i) +
                      " points outside the shard's " + std::to_string(shard_size) + " bytes");
    }
    return index;
  }

  // The index of a whole shard value.
  IndexPtr index_of_shard(const std::string& shard_key, const ChunkData& shard,
                          Generation generation) const {
    if (shard->size() < index_bytes_)
      throw IoError(what_ + ": shard " + shard_key.substr(dataset_.size() + 1) + " holds " +
                    std::to_string(shard->size()) + " bytes, less than its index (" +
                    std::to_string(index_bytes_) + " bytes)");
    const std::size_t at = meta_.index_at_end ? shard->size() - index_bytes_ : 0;
    return parse_index(shard_key, copy_of(shard->data() + at, index_bytes_), shard->size(),
                       std::move(generation));
  }

  // Fresh indexes of the shards `keys`, read together (ranged reads).
  std::vector<IndexPtr> fetch_indexes(const std::vector<std::string>& keys) {
    std::vector<ReadRequest> requests;
    const ReadRange range = meta_.index_at_end ? ReadRange::suffix(index_bytes_)
                                               : ReadRange::bytes(0, index_bytes_);
    for (const auto& k : keys) requests.push_back({k, range});
    std::vector<ReadResult> results(keys.size());
    auto kv = kv_();
    kv->get_many(requests, results);
    std::vector<IndexPtr> out(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      ReadResult& r = results[i];
      if (!r.value) {
        out[i] = no_shard_;
        continue;
      }
      if (!r.total_size) {  // a store that cannot tell the size: read the shard
        r = kv->get(keys[i]);
        out[i] = r.value ? index_of_shard(keys[i], r.value, r.generation) : no_shard_;
      } else if (r.value->size() != index_bytes_) {
        throw IoError(what_ + ": shard " + keys[i].substr(dataset_.size() + 1) + " holds " +
                      std::to_string(*r.total_size) + " bytes, less than its index (" +
                      std::to_string(index_bytes_) + " bytes)");
      } else {
        out[i] = parse_index(keys[i], r.value, *r.total_size, r.generation);
      }
      remember(keys[i], out[i]);
    }
    return out;
  }

  void remember(const std::string& shard_key, const IndexPtr& index) {
    std::lock_guard lock(mu_);
    if (index->generation.absent()) {
      cache_.erase(shard_key);
      return;
    }
    if ((cache_.size() + 1) * n_inner_ > kMaxCachedEntries) cache_.clear();
    cache_[shard_key] = index;
  }
  IndexPtr cached(const std::string& shard_key) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(shard_key);
    return it == cache_.end() ? nullptr : it->second;
  }
  void forget(const std::string& shard_key) {
    std::lock_guard lock(mu_);
    cache_.erase(shard_key);
  }

  // One pass of get_many over `pending` (positions in indices/out); returns
  // the positions whose shard changed since its index was read.
  std::vector<std::size_t> read_round(std::span<const ChunkIndex> indices, std::span<ChunkData> out,
                                      const std::vector<std::size_t>& pending) {
    struct ShardRead {
      std::string key;
      std::vector<std::pair<std::size_t, Slot>> wanted;  // (position, slot)
      IndexPtr index;
    };
    std::map<ChunkIndex, ShardRead> shards;
    for (const std::size_t p : pending) {
      Slot s = slot(indices[p]);
      ShardRead& r = shards[s.shard];
      if (r.key.empty()) r.key = key(s.shard);
      r.wanted.emplace_back(p, std::move(s));
    }
    // An index from the cache serves only when the read checks it: some chunk
    // it is asked for is stored (the data read's generation must match).
    std::vector<ShardRead*> whole, need_index, ranged;
    for (auto& [shard, r] : shards) {
      if (2 * r.wanted.size() >= n_inner_) {
        whole.push_back(&r);
        continue;
      }
      r.index = cached(r.key);
      bool checked = false;
      if (r.index)
        for (const auto& [p, s] : r.wanted) checked |= r.index->stored(s.inner);
      if (!checked) need_index.push_back(&r);
      ranged.push_back(&r);
    }
    if (!need_index.empty()) {
      std::vector<std::string> keys;
      for (const ShardRead* r : need_index) keys.push_back(r->key);
      const auto fetched = fetch_indexes(keys);
      for (std::size_t i = 0; i < need_index.size(); ++i) need_index[i]->index = fetched[i];
    }

    // Requests: whole shards, then runs of adjacent stored inner chunks.
    struct Run {
      ShardRead* shard;
      std::uint64_t offset = 0, length = 0;
      std::vector<std::pair<std::size_t, const Slot*>> parts;  // (position, slot)
    };
    std::vector<ReadRequest> requests;
    for (const ShardRead* r : whole) requests.push_back({r->key, {}});
    std::vector<Run> runs;
    for (ShardRead* r : ranged) {
      std::vector<std::pair<std::size_t, const Slot*>> stored;
      for (const auto& [p, s] : r->wanted) {
        if (r->index->stored(s.inner)) stored.emplace_back(p, &s);
        else out[p] = nullptr;
      }
      std::sort(stored.begin(), stored.end(), [&](const auto& a, const auto& b) {
        return r->index->offset(a.second->inner) < r->index->offset(b.second->inner);
      });
      for (const auto& part : stored) {
        const std::uint64_t off = r->index->offset(part.second->inner);
        const std::uint64_t n = r->index->nbytes(part.second->inner);
        if (runs.empty() || runs.back().shard != r || runs.back().offset + runs.back().length != off)
          runs.push_back({r, off, 0, {}});
        Run& run = runs.back();
        run.length = off + n - run.offset;
        run.parts.push_back(part);
      }
    }
    for (const Run& run : runs) requests.push_back({run.shard->key, ReadRange::bytes(run.offset, run.length)});
    std::vector<ReadResult> results(requests.size());
    kv_()->get_many(requests, results);

    std::vector<std::size_t> stale;
    for (std::size_t w = 0; w < whole.size(); ++w) {
      const ReadResult& res = results[w];
      if (!res.value) {
        for (const auto& [p, s] : whole[w]->wanted) out[p] = nullptr;
        forget(whole[w]->key);
        continue;
      }
      const IndexPtr index = index_of_shard(whole[w]->key, res.value, res.generation);
      remember(whole[w]->key, index);
      for (const auto& [p, s] : whole[w]->wanted)
        out[p] = index->stored(s.inner)
                     ? decode(copy_of(res.value->data() + index->offset(s.inner), index->nbytes(s.inner)), s)
                     : nullptr;
    }
    std::map<const ShardRead*, bool> changed;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const ReadResult& res = results[whole.size() + i];
      const Run& run = runs[i];
      if (!res.value || res.generation != run.shard->index->generation) {
        changed[run.shard] = true;
        continue;
      }
      if (res.value->size() != run.length)
        throw IoError(what_ + ": short read of shard " + meta_.chunk_key(run.parts[0].second->shard) +
                      " (" + std::to_string(res.value->size()) + " of " + std::to_string(run.length) +
                      " bytes)");
      for (const auto& [p, s] : run.parts)
        out[p] = decode(copy_of(res.value->data() + (run.shard->index->offset(s->inner) - run.offset),
                                run.shard->index->nbytes(s->inner)),
                        *s);
    }
    for (const auto& [shard, yes] : changed) {
      forget(shard->key);
      for (const auto& [p, s] : shard->wanted) stale.push_back(p);
    }
    return stale;
  }

  // A shard value holding `changes` and, for every other inner chunk stored
  // in `current` (the bytes `shard`), its bytes unchanged; fills `index`.
  ChunkData assemble(const Changes& changes, const ShardIndex& current, const ChunkData& shard,
                     ShardIndex& index) const {
    index.entries.assign(2 * n_inner_, kNone);
    auto part = [&](std::size_t inner) -> std::span<const std::byte> {
      if (auto it = changes.find(inner); it != changes.end())
        return it->second ? it->second->bytes() : std::span<const std::byte>{};
      if (!current.stored(inner)) return {};
      return {shard->data() + current.offset(inner), current.nbytes(inner)};
    };
    auto is_stored = [&](std::size_t inner) {
      auto it = changes.find(inner);
      return it != changes.end() ? it->second != nullptr : current.stored(inner);
    };
    std::size_t total = index_bytes_;
    for (std::size_t i = 0; i < n_inner_; ++i) total += part(i).size();
    auto out = Buffer::allocate(total);
    std::uint64_t at = meta_.index_at_end ? 0 : index_bytes_;
    for (std::size_t i = 0; i < n_inner_; ++i) {
      if (!is_stored(i)) continue;
      const auto bytes = part(i);
      if (!bytes.empty()) std::memcpy(out->data() + at, bytes.data(), bytes.size());
      index.entries[2 * i] = at;
      index.entries[2 * i + 1] = bytes.size();
      at += bytes.size();
    }
    auto raw = Buffer::allocate(index.entries.size() * 8);
    std::memcpy(raw->data(), index.entries.data(), raw->size());
    const ChunkData encoded = index_chain_.encode(raw);
    std::memcpy(out->data() + (meta_.index_at_end ? at : 0), encoded->data(), index_bytes_);
    return out;
  }

  // Read-modify-write of one shard: `changes_of(current index, current
  // shard bytes or null)` says what to change; the new shard is put only if
  // the stored one is still the one read, else the round starts again.
  void modify_shard(const ChunkIndex& shard,
                    const std::function<Changes(const ShardIndex&, const ChunkData&)>& changes_of) {
    const std::string k = key(shard);
    auto kv = kv_();
    while (true) {
      ReadResult r = kv->get(k);
      const IndexPtr current = r.value ? index_of_shard(k, r.value, r.generation) : no_shard_;
      const Changes changes = changes_of(*current, r.value);
      if (changes.empty()) return;
      auto index = std::make_shared<ShardIndex>();
      ChunkData value = assemble(changes, *current, r.value, *index);
      if (auto g = kv->put(k, std::move(value), PutCondition::if_equal(r.generation))) {
        index->generation = *g;
        remember(k, index);
        return;
      }
    }
  }

  KvSource kv_;
  std::string dataset_;
  ArrayMeta meta_;
  std::string what_;
  CodecChain chain_;        // of an inner chunk
  CodecChain index_chain_;  // of the shard index
  std::size_t index_bytes_;
  Shape per_shard_;  // inner chunks per shard, per axis
  std::size_t n_inner_ = 1;
  IndexPtr no_shard_;  // the index of a shard never stored
  std::mutex mu_;
  std::unordered_map<std::string, IndexPtr> cache_;
};

}  // namespace

std::shared_ptr<ChunkStore> sharded_chunks(KvSource kv, const std::string& dataset,
                                           const ArrayMeta& meta) {
  return std::make_shared<ShardedChunkStore>(std::move(kv), dataset, meta);
}

}  // namespace dosna::zarr
