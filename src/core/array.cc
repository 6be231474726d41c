#include "dosna/array.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/copy.h"

namespace dosna {

std::int64_t shape_size(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<std::int64_t> contiguous_strides(const Shape& shape, std::size_t itemsize) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t s = static_cast<std::int64_t>(itemsize);
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = s;
    s *= std::max<std::int64_t>(shape[d], 1);
  }
  return strides;
}

namespace {

// Arrays of at least this many bytes are backed by transparent huge pages
// where the kernel offers them (as numpy does): first-touch page faults and
// TLB misses of a big read's scatter copy drop by 512x.
constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
constexpr std::size_t kHugeArrayBytes = std::size_t{4} << 20;

std::byte* allocate_elements(std::size_t bytes) {
  if (bytes < kHugeArrayBytes)
    return static_cast<std::byte*>(std::malloc(std::max<std::size_t>(bytes, 1)));
  const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (p) ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
  return static_cast<std::byte*>(p);
}

}  // namespace

void NdArray::FreeBytes::operator()(std::byte* p) const noexcept { std::free(p); }

NdArray NdArray::uninitialized(DType dtype, Shape shape) {
  for (auto d : shape)
    if (d < 0) throw InvalidArgument("negative dimension in shape " + shape_to_string(shape));
  std::size_t bytes = dtype.itemsize();
  for (auto d : shape)
    if (__builtin_mul_overflow(bytes, static_cast<std::size_t>(d), &bytes))
      throw OutOfMemory("an array of shape " + shape_to_string(shape) + " " + dtype.name() +
                        " is larger than any memory");
  NdArray a;
  a.dtype_ = dtype;
  a.size_ = shape_size(shape);
  a.shape_ = std::move(shape);
  a.data_.reset(allocate_elements(a.nbytes()));
  if (!a.data_) {
    throw OutOfMemory("cannot allocate an array of shape " + shape_to_string(a.shape_) + " " +
                      dtype.name() + " (" + std::to_string(a.nbytes()) + " bytes)");
  }
  return a;
}

NdArray::NdArray(DType dtype, Shape shape) : NdArray(uninitialized(dtype, std::move(shape))) {
  std::memset(data_.get(), 0, nbytes());
}

NdArray NdArray::filled(DType dtype, Shape shape, const Scalar& value) {
  NdArray a = uninitialized(dtype, std::move(shape));
  fill_bytes(a.bytes(), a.size(), dtype, value);
  return a;
}

NdArray NdArray::copy() const {
  NdArray a = uninitialized(dtype_, shape_);
  std::memcpy(a.bytes(), bytes(), nbytes());
  return a;
}

NdArray NdArray::reshaped(Shape shape) && {
  if (shape_size(shape) != size_)
    throw InvalidArgument("cannot reshape array of shape " + shape_to_string(shape_) +
                          " into shape " + shape_to_string(shape));
  shape_ = std::move(shape);
  return std::move(*this);
}

void NdArray::check_type(DType requested) const {
  if (!(requested == dtype_))
    throw InvalidArgument("array of dtype " + dtype_.str() + " accessed as " + requested.str());
}

ArrayView broadcast_scalar(const Scalar& value, DType dtype, const Shape& shape,
                           std::byte* storage) {
  value.store(dtype, storage);
  return {dtype, shape, storage, std::vector<std::int64_t>(shape.size(), 0)};
}

}  // namespace dosna
