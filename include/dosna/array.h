// N-d arrays at the API boundary: an owning C-contiguous NdArray, and strided
// views over memory the caller owns (numpy arrays, broadcast scalars).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dosna/dtype.h"
#include "dosna/errors.h"
#include "dosna/scalar.h"
#include "dosna/selection.h"

namespace dosna {

// Read-only strided view. `strides` are in bytes, one per axis; empty means
// C-contiguous. A stride of 0 broadcasts (a scalar is all-zero strides).
struct ArrayView {
  DType dtype;
  Shape shape;
  const std::byte* data = nullptr;
  std::vector<std::int64_t> strides;
};

// Writable strided view; same conventions as ArrayView.
struct MutableArrayView {
  DType dtype;
  Shape shape;
  std::byte* data = nullptr;
  std::vector<std::int64_t> strides;
  operator ArrayView() const { return {dtype, shape, data, strides}; }  // NOLINT
};

std::int64_t shape_size(const Shape& shape);  // product; 1 for a 0-d shape
// C-order byte strides of a contiguous array of `shape` with `itemsize`.
std::vector<std::int64_t> contiguous_strides(const Shape& shape, std::size_t itemsize);

// An owning, C-contiguous N-d array. Move-only; copies are explicit (copy()).
class NdArray {
 public:
  NdArray() = default;
  // Elements are zero-initialised.
  NdArray(DType dtype, Shape shape);
  static NdArray filled(DType dtype, Shape shape, const Scalar& value);
  // Elements left uninitialised: for buffers about to be overwritten.
  static NdArray uninitialized(DType dtype, Shape shape);
  template <class T>
  static NdArray from_vector(const std::vector<T>& values, Shape shape);

  NdArray(NdArray&&) noexcept = default;
  NdArray& operator=(NdArray&&) noexcept = default;
  NdArray copy() const;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::size_t ndim() const { return shape_.size(); }
  std::int64_t size() const { return size_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(size_) * dtype_.itemsize(); }
  std::byte* bytes() { return data_.get(); }
  const std::byte* bytes() const { return data_.get(); }

  // Typed access; throws InvalidArgument if T does not match dtype().
  template <class T>
  std::span<T> values();
  template <class T>
  std::span<const T> values() const;
  // Element at a full N-d index (no bounds wrap); for tests and small tools.
  template <class T>
  T at(const std::vector<std::int64_t>& index) const;

  ArrayView view() const { return {dtype_, shape_, data_.get(), {}}; }
  MutableArrayView mutable_view() { return {dtype_, shape_, data_.get(), {}}; }
  // Same elements, new shape of the same size (no copy).
  NdArray reshaped(Shape shape) &&;

 private:
  void check_type(DType requested) const;
  DType dtype_;
  Shape shape_;
  std::int64_t size_ = 0;
  struct FreeBytes {
    void operator()(std::byte* p) const noexcept;
  };
  std::unique_ptr<std::byte[], FreeBytes> data_;
};

template <class T>
NdArray NdArray::from_vector(const std::vector<T>& values, Shape shape) {
  NdArray out = uninitialized(DType::of<T>(), std::move(shape));
  if (static_cast<std::int64_t>(values.size()) != out.size())
    throw InvalidArgument("from_vector: " + std::to_string(values.size()) +
                          " values do not fill shape " + shape_to_string(out.shape()));
  std::copy(values.begin(), values.end(), out.values<T>().begin());
  return out;
}

template <class T>
std::span<T> NdArray::values() {
  check_type(DType::of<T>());
  return {reinterpret_cast<T*>(data_.get()), static_cast<std::size_t>(size_)};
}

template <class T>
std::span<const T> NdArray::values() const {
  check_type(DType::of<T>());
  return {reinterpret_cast<const T*>(data_.get()), static_cast<std::size_t>(size_)};
}

template <class T>
T NdArray::at(const std::vector<std::int64_t>& index) const {
  std::int64_t flat = 0;
  for (std::size_t d = 0; d < shape_.size(); ++d) flat = flat * shape_[d] + index.at(d);
  return values<T>()[static_cast<std::size_t>(flat)];
}

// A view of one scalar broadcast to `shape` (all strides 0). `storage` must
// outlive the view and hold at least dtype.itemsize() bytes.
ArrayView broadcast_scalar(const Scalar& value, DType dtype, const Shape& shape,
                           std::byte* storage);

}  // namespace dosna
