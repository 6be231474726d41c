// DatasetMeta, Buffer and the default (looping) ChunkStore batch methods.
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "dosna/backend.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {

Shape DatasetMeta::chunk_grid() const {
  Shape grid(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d)
    grid[d] = chunk_size[d] > 0 ? (shape[d] + chunk_size[d] - 1) / chunk_size[d] : 0;
  return grid;
}

std::int64_t DatasetMeta::total_chunks() const {
  std::int64_t n = 1;
  for (auto g : chunk_grid()) n *= g;
  return n;
}

std::size_t DatasetMeta::chunk_nbytes() const {
  std::size_t n = dtype.itemsize();
  for (auto c : chunk_size) n *= static_cast<std::size_t>(c);
  return n;
}

void DatasetMeta::validate(std::string_view dataset) const {
  const std::string who = "dataset " + quote(dataset);
  if (shape.empty()) throw InvalidArgument(who + ": shape must have at least one dimension");
  if (shape.size() > kMaxRank || chunk_size.size() > kMaxRank)
    throw InvalidArgument(who + ": shape has " + std::to_string(shape.size()) +
                          " dimensions and chunk_size " + std::to_string(chunk_size.size()) +
                          ", at most " + std::to_string(kMaxRank));
  if (chunk_size.size() != shape.size())
    throw InvalidArgument(who + ": chunk_size " + shape_to_string(chunk_size) + " has " +
                          std::to_string(chunk_size.size()) + " dimensions, shape " +
                          shape_to_string(shape) + " has " + std::to_string(shape.size()));
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 62;
  std::uint64_t elements = 1, chunk_elements = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0)
      throw InvalidArgument(who + ": negative extent in shape " + shape_to_string(shape));
    if (chunk_size[d] < 1)
      throw InvalidArgument(who + ": chunk_size " + shape_to_string(chunk_size) +
                            " must be at least 1 on every axis");
    auto mul = [&](std::uint64_t& acc, std::int64_t v) {
      if (v != 0 && acc > kLimit / static_cast<std::uint64_t>(v))
        throw InvalidArgument(who + ": shape " + shape_to_string(shape) + " with chunk_size " +
                              shape_to_string(chunk_size) + " is too large to address");
      acc *= static_cast<std::uint64_t>(v);
    };
    mul(elements, shape[d]);
    mul(chunk_elements, chunk_size[d]);
  }
  if (chunk_elements > kLimit / dtype.itemsize() || elements > kLimit / dtype.itemsize())
    throw InvalidArgument(who + ": byte size overflows");
}

void DatasetMeta::check_chunk_limit(std::string_view dataset, std::uint64_t max_bytes,
                                    bool stored) const {
  const std::uint64_t bytes = chunk_nbytes();
  if (bytes <= max_bytes) return;
  throw InvalidArgument(
      "dataset " + quote(dataset) + ": a chunk of " + shape_to_string(chunk_size) + " " +
      dtype.name() + " is " + std::to_string(bytes) + " bytes, more than max_chunk_bytes=" +
      std::to_string(max_bytes) +
      (stored ? " (raise the connection option max_chunk_bytes to open this dataset)"
              : " (choose a smaller chunk_size, or raise the connection option max_chunk_bytes)"));
}

namespace {

// Recycles the storage of large buffers (chunk payloads): a fresh block of
// that size is mmap()ed and page-faulted in on every allocation, which costs
// as much as filling it. Bounded; blocks of other sizes are freed.
class BlockCache {
 public:
  static constexpr std::size_t kMinSize = std::size_t{64} << 10;
  static constexpr std::size_t kMaxBytes = std::size_t{128} << 20;

  std::unique_ptr<std::byte[]> take(std::size_t size) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) return nullptr;
    auto block = std::move(it->second.back());
    it->second.pop_back();
    bytes_ -= size;
    return block;
  }
  void give(std::unique_ptr<std::byte[]> block, std::size_t size) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (bytes_ + size > kMaxBytes) return;
    bytes_ += size;
    free_[size].push_back(std::move(block));
  }

 private:
  std::mutex mutex_;
  std::size_t bytes_ = 0;
  std::map<std::size_t, std::vector<std::unique_ptr<std::byte[]>>> free_;
};

BlockCache& block_cache() {
  static auto* cache = new BlockCache;  // never destroyed: buffers may outlive statics
  return *cache;
}

}  // namespace

std::shared_ptr<Buffer> Buffer::allocate(std::size_t size) {
  if (size < BlockCache::kMinSize) {
    auto b = std::make_shared<Buffer>();
    b->data_.reset(new std::byte[std::max<std::size_t>(size, 1)]);
    b->size_ = size;
    return b;
  }
  std::shared_ptr<Buffer> b(new Buffer, [](Buffer* p) {
    block_cache().give(std::move(p->data_), p->size_);
    delete p;
  });
  b->data_ = block_cache().take(size);
  if (!b->data_) {
    try {
      b->data_.reset(new std::byte[size]);
    } catch (const std::bad_alloc&) {
      throw OutOfMemory("cannot allocate a chunk buffer of " + std::to_string(size) + " bytes");
    }
  }
  b->size_ = size;
  return b;
}

void ChunkStore::get_many(std::span<const ChunkIndex> indices, std::span<ChunkData> out) {
  for (std::size_t i = 0; i < indices.size(); ++i) out[i] = get(indices[i]);
}

std::vector<bool> ChunkStore::get_many_into(std::span<const ChunkIndex> indices,
                                            std::span<const std::span<std::byte>> out) {
  std::vector<ChunkData> data(indices.size());
  get_many(indices, data);
  std::vector<bool> found(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (!data[i]) continue;
    if (data[i]->size() != out[i].size())
      throw IoError("chunk " + shape_to_string(indices[i]) + " holds " +
                    std::to_string(data[i]->size()) + " bytes, expected " +
                    std::to_string(out[i].size()));
    std::memcpy(out[i].data(), data[i]->data(), out[i].size());
    found[i] = true;
  }
  return found;
}

void ChunkStore::put_many(std::span<const ChunkIndex> indices, std::span<const ChunkData> data) {
  for (std::size_t i = 0; i < indices.size(); ++i) put(indices[i], data[i]);
}

void ChunkStore::get_ranges_many(std::span<const ChunkIndex> indices,
                                 std::span<const std::vector<ByteRange>> ranges,
                                 std::span<ChunkData> out) {
  std::vector<ChunkData> whole(indices.size());
  get_many(indices, whole);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (!whole[i]) {
      out[i] = nullptr;
      continue;
    }
    std::size_t total = 0;
    for (const auto& r : ranges[i]) {
      if (r.offset > whole[i]->size() || r.length > whole[i]->size() - r.offset)
        throw IoError("chunk range " + std::to_string(r.offset) + "+" + std::to_string(r.length) +
                      " beyond a payload of " + std::to_string(whole[i]->size()) + " bytes");
      total += r.length;
    }
    auto part = Buffer::allocate(total);
    std::size_t pos = 0;
    for (const auto& r : ranges[i]) {
      std::memcpy(part->data() + pos, whole[i]->data() + r.offset, r.length);
      pos += r.length;
    }
    out[i] = std::move(part);
  }
}

void ChunkStore::remove_many(std::span<const ChunkIndex> indices) {
  for (const auto& i : indices) remove(i);
}

void ChunkStore::update(const ChunkIndex& index,
                        const std::function<ChunkData(const ChunkData& current)>& modify) {
  put(index, modify(get(index)));
}

void check_dosna_options(const StorageOptions& options, std::string_view store,
                         std::string_view what) {
  const std::string where = std::string(store) + ": dataset " + quote(what);
  if (options.format == "zarr3" || options.format == "zarr2")
    throw NotSupported(where + ": format " + options.format + " is not held by this store (only dosna)");
  if (!options.format.empty() && options.format != "dosna")
    throw InvalidArgument(where + ": unknown format " + quote(options.format) +
                          " (dosna, zarr3, zarr2)");
  auto refuse = [&](const char* option) {
    throw InvalidArgument(where + ": " + option +
                          " needs format zarr3 or zarr2: the dosna format stores raw chunks, "
                          "which is what the original DosNa reads");
  };
  if (options.compression) refuse("compression");
  if (options.compression_level) refuse("compression_level");
  if (!options.shard_shape.empty()) refuse("shard_shape");
  if (!options.codecs.empty()) refuse("codecs");
}

void Backend::create_dataset(const std::string& dataset, const DatasetMeta& meta,
                             const StorageOptions& options) {
  check_dosna_options(options, std::string(kind()) + " store " + quote(name()), dataset);
  create_dataset(dataset, meta);
}

std::string Backend::dataset_format(const std::string&) { return "dosna"; }

std::string Backend::read_attributes(const std::string& dataset) {
  throw NotSupported(std::string(kind()) + " store " + quote(name()) + ": dataset " + quote(dataset) +
                     ": this store keeps no attributes");
}
void Backend::write_attributes(const std::string& dataset, const std::string&) {
  read_attributes(dataset);
}
void Backend::resize_dataset(const std::string& dataset, const DatasetMeta&) {
  throw NotSupported(std::string(kind()) + " store " + quote(name()) + ": dataset " + quote(dataset) +
                     ": this store cannot resize a dataset");
}
std::string Backend::dataset_location(const std::string&) { return ""; }

}  // namespace dosna
