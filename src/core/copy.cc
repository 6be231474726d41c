#include "core/copy.h"

#include <cstring>
#include <vector>

namespace dosna {
namespace {

struct Dim {
  std::int64_t n, src, dst;
};

template <std::size_t N>
struct Elem {
  unsigned char b[N];
};

template <std::size_t N>
void copy_row_typed(const std::byte* src, std::int64_t ss, std::byte* dst, std::int64_t ds,
                    std::int64_t n) {
  using E = Elem<N>;
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(dst, src, sizeof(E));
    src += ss;
    dst += ds;
  }
}

using RowFn = void (*)(const std::byte*, std::int64_t, std::byte*, std::int64_t, std::int64_t,
                       std::size_t);

void row_contiguous(const std::byte* src, std::int64_t, std::byte* dst, std::int64_t,
                    std::int64_t n, std::size_t itemsize) {
  std::memcpy(dst, src, static_cast<std::size_t>(n) * itemsize);
}

void row_strided(const std::byte* src, std::int64_t ss, std::byte* dst, std::int64_t ds,
                 std::int64_t n, std::size_t itemsize) {
  switch (itemsize) {
    case 1: copy_row_typed<1>(src, ss, dst, ds, n); return;
    case 2: copy_row_typed<2>(src, ss, dst, ds, n); return;
    case 4: copy_row_typed<4>(src, ss, dst, ds, n); return;
    case 8: copy_row_typed<8>(src, ss, dst, ds, n); return;
    case 16: copy_row_typed<16>(src, ss, dst, ds, n); return;
    default:
      for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, itemsize);
  }
}

}  // namespace

void copy_strided(const std::byte* src, const std::int64_t* src_strides, std::byte* dst,
                  const std::int64_t* dst_strides, const std::int64_t* shape, std::size_t ndim,
                  std::size_t itemsize) {
  // Drop size-1 axes and merge axes that are contiguous in both buffers, so a
  // copy between two C-contiguous blocks becomes one memcpy.
  Dim dims[16];
  std::vector<Dim> heap;
  Dim* d = dims;
  if (ndim > 16) {
    heap.resize(ndim);
    d = heap.data();
  }
  std::size_t nd = 0;
  for (std::size_t i = 0; i < ndim; ++i) {
    if (shape[i] == 0) return;
    if (shape[i] == 1) continue;
    Dim cur{shape[i], src_strides[i], dst_strides[i]};
    if (nd > 0) {
      Dim& prev = d[nd - 1];
      if (prev.src == cur.src * cur.n && prev.dst == cur.dst * cur.n) {
        prev = {prev.n * cur.n, cur.src, cur.dst};
        continue;
      }
    }
    d[nd++] = cur;
  }
  if (nd == 0) {
    std::memcpy(dst, src, itemsize);
    return;
  }
  const Dim inner = d[nd - 1];
  const auto isz = static_cast<std::int64_t>(itemsize);
  const RowFn row = (inner.src == isz && inner.dst == isz) ? row_contiguous : row_strided;
  if (nd == 1) {
    row(src, inner.src, dst, inner.dst, inner.n, itemsize);
    return;
  }
  const Dim second = d[nd - 2];
  const std::size_t outer = nd - 2;
  std::int64_t counter[16] = {0};
  std::vector<std::int64_t> counter_heap;
  std::int64_t* ctr = counter;
  if (outer > 16) {
    counter_heap.assign(outer, 0);
    ctr = counter_heap.data();
  }
  while (true) {
    const std::byte* s = src;
    std::byte* t = dst;
    for (std::int64_t j = 0; j < second.n; ++j) {
      row(s, inner.src, t, inner.dst, inner.n, itemsize);
      s += second.src;
      t += second.dst;
    }
    std::size_t k = outer;
    while (k > 0) {
      --k;
      src += d[k].src;
      dst += d[k].dst;
      if (++ctr[k] < d[k].n) break;
      src -= d[k].src * d[k].n;
      dst -= d[k].dst * d[k].n;
      ctr[k] = 0;
      if (k == 0) return;
    }
    if (outer == 0) return;
  }
}

void fill_bytes(std::byte* dst, std::int64_t count, DType dtype, const Scalar& value) {
  if (count <= 0) return;
  const std::size_t isz = dtype.itemsize();
  value.store(dtype, dst);
  std::size_t filled = isz;
  const std::size_t total = static_cast<std::size_t>(count) * isz;
  while (filled < total) {
    const std::size_t n = std::min(filled, total - filled);
    std::memcpy(dst + filled, dst, n);
    filled += n;
  }
}

}  // namespace dosna
