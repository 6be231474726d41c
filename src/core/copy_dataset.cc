#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <span>

#include "dosna/copy.h"
#include "dosna/errors.h"
#include "core/chunk_grid.h"

namespace dosna {

std::size_t chunks_per_batch(std::size_t chunk_nbytes) {
  return std::clamp<std::size_t>((std::size_t{2} << 20) / std::max<std::size_t>(chunk_nbytes, 1),
                                 1, 64);
}

namespace {

class Reporter {
 public:
  Reporter(const CopyOptions& options, std::int64_t total)
      : fn_(options.progress), total_(total) {
    if (fn_) fn_(0, total_);
  }
  void add(std::int64_t bytes) {
    if (!fn_) return;
    std::lock_guard lock(mutex_);
    done_ += bytes;
    fn_(done_, total_);
  }
  void finish() {
    if (!fn_) return;
    std::lock_guard lock(mutex_);
    if (done_ != total_) fn_(done_ = total_, total_);
  }

 private:
  const std::function<void(std::int64_t, std::int64_t)>& fn_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::mutex mutex_;
};

std::int64_t copy_stored(const Dataset& src, Dataset& dst, const CopyOptions& options) {
  const auto src_store = src.backend().chunks(src.name(), src.meta());
  const auto dst_store = dst.backend().chunks(dst.name(), dst.meta());
  std::vector<ChunkIndex> indices = src_store->list();
  std::sort(indices.begin(), indices.end());
  const std::size_t expected = src.meta().chunk_nbytes();
  const std::size_t workers = std::max<std::size_t>(dst.engine().concurrency(), 1);
  const std::size_t batch = std::clamp<std::size_t>(
      options.max_bytes_in_flight / (std::max<std::size_t>(expected, 1) * workers), 1,
      chunks_per_batch(expected));
  Reporter progress(options, static_cast<std::int64_t>(indices.size() * expected));
  std::atomic<std::int64_t> copied{0};
  // Rounds of at most `workers` batches bound what is held at once.
  const std::size_t batches = (indices.size() + batch - 1) / batch;
  for (std::size_t round = 0; round < batches; round += workers) {
    dst.engine().run_local(std::min(workers, batches - round), [&](std::size_t r) {
      const std::size_t first = (round + r) * batch, last = std::min(indices.size(), first + batch);
      std::span<const ChunkIndex> idx(indices.data() + first, last - first);
      std::vector<ChunkData> data(idx.size());
      src_store->get_many(idx, data);
      std::vector<ChunkIndex> put_idx;
      std::vector<ChunkData> put_data;
      for (std::size_t k = 0; k < idx.size(); ++k) {
        if (!data[k]) continue;  // removed since listed: nothing to copy
        if (data[k]->size() != expected)
          throw IoError("dataset '" + src.name() + "': chunk " + shape_to_string(idx[k]) +
                        " holds " + std::to_string(data[k]->size()) + " bytes, expected " +
                        std::to_string(expected));
        put_idx.push_back(idx[k]);
        put_data.push_back(std::move(data[k]));
      }
      dst_store->put_many(put_idx, put_data);
      copied += static_cast<std::int64_t>(put_idx.size());
      progress.add(static_cast<std::int64_t>(idx.size() * expected));
    });
  }
  progress.finish();
  return copied;
}

std::int64_t copy_rechunked(const Dataset& src, Dataset& dst, const CopyOptions& options) {
  const DatasetMeta& meta = dst.meta();
  const Shape grid = meta.chunk_grid();
  const std::size_t isz = meta.dtype.itemsize();
  const auto n = static_cast<std::size_t>(meta.total_chunks());
  const std::size_t round_size =
      std::max<std::size_t>(options.max_bytes_in_flight / std::max<std::size_t>(meta.chunk_nbytes(), 1), 1);
  const NdArray fill = NdArray::filled(meta.dtype, meta.chunk_size, meta.fillvalue);
  Reporter progress(options, shape_size(meta.shape) * static_cast<std::int64_t>(isz));
  std::atomic<std::int64_t> written{0};
  for (std::size_t first = 0; first < n; first += round_size) {
    dst.engine().run_local(std::min(round_size, n - first), [&](std::size_t t) {
      const ChunkIndex index = detail::unravel(static_cast<std::int64_t>(first + t), grid);
      const detail::ChunkBox box = detail::chunk_box(meta, index);
      NdArray box_data = src.read(box_selection(box.start, box.count));
      const std::int64_t bytes = shape_size(box.count) * static_cast<std::int64_t>(isz);
      if (std::memcmp(box_data.bytes(), fill.bytes(), static_cast<std::size_t>(bytes)) != 0) {
        dst.create_chunk(index, box_data.view(), box_selection(Shape(box.count.size(), 0), box.count));
        ++written;
      }
      progress.add(bytes);
    });
  }
  progress.finish();
  return written;
}

}  // namespace

std::int64_t copy_chunks(const Dataset& src, Dataset& dst, const CopyOptions& options) {
  if (dst.shape() != src.shape() || !(dst.dtype() == src.dtype()))
    throw InvalidArgument("copy of dataset '" + src.name() + "' to '" + dst.name() +
                          "': the destination is " + shape_to_string(dst.shape()) + " " +
                          dst.dtype().str() + ", the source " + shape_to_string(src.shape()) +
                          " " + src.dtype().str());
  return dst.chunk_size() == src.chunk_size() ? copy_stored(src, dst, options)
                                              : copy_rechunked(src, dst, options);
}

Dataset copy_dataset(const Dataset& src, Connection& dst, const std::string& name,
                     const CopyOptions& options) {
  if (dst.has_dataset(name))
    throw AlreadyExists("copy of dataset '" + src.name() + "': the destination dataset '" +
                        name + "' exists");
  const Shape chunks = options.chunk_size.empty() ? src.chunk_size() : options.chunk_size;
  Dataset out =
      dst.create_dataset(name, src.shape(), src.dtype(), chunks, src.fillvalue(), options.storage);
  try {
    copy_chunks(src, out, options);
  } catch (...) {
    try {
      dst.del_dataset(name);
    } catch (...) {
    }
    throw;
  }
  return out;
}

}  // namespace dosna
