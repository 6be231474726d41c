// Dataset and DataChunk: the user-facing handles for one N-d array stored as
// chunks, sliced like a numpy array.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dosna/array.h"
#include "dosna/backend.h"
#include "dosna/engine.h"
#include "dosna/selection.h"

namespace dosna {

class DataChunk;
namespace detail {
struct DatasetState;
}

// A per-chunk function for map/apply: receives the chunk's elements inside
// the dataset (edge chunks are clipped to the dataset's extent) and returns an
// array of the same shape and dtype; it may modify and return its argument.
using ChunkFunction = std::function<NdArray(NdArray chunk)>;

// A handle to one dataset; cheap to copy (copies share state). Reads and
// writes go through the connection's engine. Thread safety: a Dataset may be
// used from many threads; writes to the same chunk from this process are
// serialised so no update is lost.
class Dataset {
 public:
  const std::string& name() const;
  const Shape& shape() const;
  std::size_t ndim() const;
  DType dtype() const;
  const Scalar& fillvalue() const;
  // The on-store layout: "dosna", "zarr3" or "zarr2" (include/dosna/format.h).
  std::string format() const;
  // Where another zarr reader opens this dataset ("" for format dosna).
  std::string location() const;
  const Shape& chunk_size() const;
  const Shape& chunk_grid() const;
  std::int64_t total_chunks() const;
  const DatasetMeta& meta() const;
  Engine& engine() const;
  Backend& backend() const;

  // Reads a selection into a new array of numpy's result shape. Chunks never
  // written read as the fill value and are not created.
  NdArray read(const Selection& selection = {}) const;
  // Reads into a caller's buffer: `out.dtype` must equal dtype() and
  // `out.shape` the result shape (or the shape with squeezed axes as 1).
  void read(const Selection& selection, MutableArrayView out) const;
  template <class T>
  void read(const Selection& selection, std::span<T> out) const;
  // Reads several selections as one batched plan: the chunks of all of them
  // are requested together (up to the store's batch window), so a store with
  // asynchronous I/O keeps them in flight instead of waiting box by box.
  // Result i is what read(selections[i]) returns. A chunk that several
  // selections touch is fetched once for all of them (on a store that reads
  // byte ranges, the union of their ranges; elsewhere a selection that reads
  // one contiguous range of it still reads that range on its own). Every
  // selection (and buffer) is checked before any chunk is read; errors name
  // the selection's index.
  std::vector<NdArray> read_many(std::span<const Selection> selections) const;
  // Into callers' buffers: outs[i] as for read(selections[i], outs[i]); the
  // two spans must have the same length.
  void read_many(std::span<const Selection> selections,
                 std::span<const MutableArrayView> outs) const;

  // Writes `values` (dtype(), shape broadcastable to the selection as numpy
  // does) into the selection. Validation happens before any chunk is touched:
  // a rejected write changes nothing stored.
  void write(const Selection& selection, ArrayView values);
  void write(const Selection& selection, const NdArray& values) { write(selection, values.view()); }
  // Writes one value (converted to dtype()) into every selected element.
  void write(const Selection& selection, const Scalar& value);

  // Writes a whole array of shape(), chunk by chunk (split across the engine).
  void load(ArrayView data);
  // Deletes every chunk: reads give the fill value again.
  void clear();
  // Deletes every chunk and the dataset; the handle is unusable afterwards.
  void remove();
  // A new dataset `name` with the same shape, dtype, chunks and fill value;
  // with `copy_data` its chunks are copied too.
  Dataset clone(const std::string& name, bool copy_data = false) const;
  // A new dataset `name` whose chunks are fn(this dataset's chunk).
  Dataset map(const ChunkFunction& fn, const std::string& name) const;
  // A new dataset `name` computed chunk by chunk with a neighbourhood (for
  // stencils and filters whose result must show no seams at chunk borders).
  // fn receives the chunk's valid part extended by `halo` elements on both
  // sides of every axis: inside the dataset the values of the neighbouring
  // chunks, beyond its borders scipy.ndimage's mode 'reflect' padding
  // (d c b a | a b c d | d c b a, repeated when halo exceeds the extent).
  // fn returns an array of dtype() and EITHER that extended shape (the core
  // crops the halo off) OR the chunk's valid shape; any other shape throws
  // InvalidArgument. Split across the engine like map (collective under
  // mpi). halo = 0 behaves as map; a negative halo throws InvalidArgument.
  Dataset map_overlap(const ChunkFunction& fn, const std::string& name,
                      std::int64_t halo) const;
  // Replaces every chunk by fn(chunk), in place. Chunks never written are
  // passed as the fill value.
  void apply(const ChunkFunction& fn);

  // Changes the shape (same number of axes; chunk_size stays). Shrinking
  // deletes the chunks wholly outside the new shape and sets the cut part of
  // the edge chunks that stay to the fill value, so growing again reads the
  // fill value there; growing rewrites only the record. Collective under
  // mpi. Not concurrent with other operations on this dataset; other handles
  // (other processes) see the new shape once they open the dataset again.
  // A negative extent or another rank is an InvalidArgument (nothing changed).
  void resize(const Shape& new_shape);
  // Grows axis `axis` by values.shape[axis] and writes `values` there.
  // `values` has dtype() and this dataset's extent on every other axis
  // (InvalidArgument otherwise, before anything changes). Collective under mpi.
  void append(ArrayView values, std::size_t axis = 0);

  // The user attributes, a JSON object read from the store on each call
  // ({} when none; where they live: docs/format.md "Attributes").
  nlohmann::json attributes() const;
  // Replaces the attributes by `attributes` (a JSON object, InvalidArgument
  // otherwise) in one write; the last writer wins. Collective under mpi.
  void set_attributes(const nlohmann::json& attributes);

  // Chunk level. Indices are positions in chunk_grid(); out of range throws
  // IndexOutOfRange.
  DataChunk chunk(const ChunkIndex& index) const;  // a handle; does not create
  // Creates the chunk filled with the fill value, then writes `data` into
  // `selection` of it (whole chunk when empty), in one store write.
  DataChunk create_chunk(const ChunkIndex& index, std::optional<ArrayView> data = std::nullopt,
                         const Selection& selection = {});
  bool has_chunk(const ChunkIndex& index) const;
  // Removes the chunk; returns whether it existed.
  bool del_chunk(const ChunkIndex& index);
  // Number of chunks currently stored (lists the store).
  std::int64_t stored_chunks() const;

  explicit Dataset(std::shared_ptr<detail::DatasetState> state) : state_(std::move(state)) {}
  const std::shared_ptr<detail::DatasetState>& state() const { return state_; }

 private:
  std::shared_ptr<detail::DatasetState> state_;
};

template <class T>
void Dataset::read(const Selection& selection, std::span<T> out) const {
  NormalizedSelection norm = normalize(selection, shape(), name());
  if (static_cast<std::int64_t>(out.size()) != norm.size())
    throw InvalidArgument("dataset '" + name() + "': buffer of " + std::to_string(out.size()) +
                          " elements for a selection of " + std::to_string(norm.size()));
  read(selection, MutableArrayView{DType::of<T>(), norm.box_shape(),
                                   reinterpret_cast<std::byte*>(out.data()), {}});
}

// One chunk of a dataset. Its shape is the dataset's chunk_size (edge chunks
// included, as stored); selections are relative to the chunk.
class DataChunk {
 public:
  DataChunk(Dataset dataset, ChunkIndex index)
      : dataset_(std::move(dataset)), index_(std::move(index)) {}

  // "<dataset>/<i>.<j>.<k>"
  std::string name() const;
  const ChunkIndex& index() const { return index_; }
  const Shape& shape() const { return dataset_.chunk_size(); }
  std::int64_t size() const { return shape_size(shape()); }
  DType dtype() const { return dataset_.dtype(); }
  const Scalar& fillvalue() const { return dataset_.fillvalue(); }
  std::size_t byte_count() const { return dataset_.meta().chunk_nbytes(); }
  bool exists() const { return dataset_.has_chunk(index_); }

  // A missing chunk reads as the fill value (and is not created).
  NdArray read(const Selection& selection = {}) const;
  void write(const Selection& selection, ArrayView values);
  void write(const Selection& selection, const Scalar& value);

 private:
  Dataset dataset_;
  ChunkIndex index_;
};

}  // namespace dosna
