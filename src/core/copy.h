// Strided N-d copies: the only place element bytes move between chunk
// buffers and user buffers. Strides are in bytes and may be negative (numpy
// negative steps) or zero (broadcast source).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dosna/dtype.h"
#include "dosna/scalar.h"

namespace dosna {

// Copies the box `shape[0..ndim)` of `itemsize`-byte elements.
void copy_strided(const std::byte* src, const std::int64_t* src_strides, std::byte* dst,
                  const std::int64_t* dst_strides, const std::int64_t* shape, std::size_t ndim,
                  std::size_t itemsize);

// Writes `count` contiguous elements of `value` converted to `dtype`.
void fill_bytes(std::byte* dst, std::int64_t count, DType dtype, const Scalar& value);

}  // namespace dosna
