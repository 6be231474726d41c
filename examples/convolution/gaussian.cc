#include "gaussian.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "dosna/errors.h"

namespace dosna::conv {
namespace {

// scipy.ndimage mode 'reflect': (d c b a | a b c d | d c b a), periodic in 2n.
std::int64_t reflect_index(std::int64_t p, std::int64_t n) {
  const std::int64_t period = 2 * n;
  std::int64_t m = p % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DOSNA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DOSNA_VECTOR_CLONES
#endif

// Four lanes of double sums; with the AVX2 clone one ymm register. The
// unaligned, aliasing variants load straight from the arrays.
using V4d = double __attribute__((vector_size(32)));
using V4f = float __attribute__((vector_size(16)));
using V4dU = double __attribute__((vector_size(32), aligned(8), may_alias));
using V4fU = float __attribute__((vector_size(16), aligned(4), may_alias));

inline V4d load4(const float* p) {
  return __builtin_convertvector(*reinterpret_cast<const V4fU*>(p), V4d);
}
inline V4d load4(const double* p) { return *reinterpret_cast<const V4dU*>(p); }
inline void store4(float* p, V4d v) {
  *reinterpret_cast<V4fU*>(p) = __builtin_convertvector(v, V4f);
}

// Filters `outer` contiguous lines of n elements. refl[t] is the source of
// padded position t - r. Each output is w0*x[i] + sum_k wk*(x[i-k] + x[i+k])
// in double, in that order (as scipy's correlate1d for symmetric weights).
DOSNA_VECTOR_CLONES
void filter_lines(const float* src, float* dst, std::int64_t outer, std::int64_t n, int r,
                  const double* wc, const std::int64_t* refl) {
  std::vector<double> line(static_cast<std::size_t>(n + 2 * r));
  for (std::int64_t o = 0; o < outer; ++o) {
    const float* s = src + o * n;
    float* d = dst + o * n;
    for (std::size_t t = 0; t < line.size(); ++t) line[t] = s[refl[t]];
    const double* c = line.data() + r;
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      V4d acc = wc[0] * load4(c + i);
      for (int k = 1; k <= r; ++k) acc += wc[k] * (load4(c + i - k) + load4(c + i + k));
      store4(d + i, acc);
    }
    for (; i < n; ++i) {
      double acc = wc[0] * c[i];
      for (int k = 1; k <= r; ++k) acc += wc[k] * (c[i - k] + c[i + k]);
      d[i] = static_cast<float>(acc);
    }
  }
}

// Filters along an axis of stride `inner` (> 1) elements: four neighbouring
// columns at a time, the 2r+1 source rows fixed per output row.
DOSNA_VECTOR_CLONES
void filter_strided(const float* src, float* dst, std::int64_t outer, std::int64_t n,
                    std::int64_t inner, int r, const double* wc, const std::int64_t* refl) {
  std::vector<const float*> lo(static_cast<std::size_t>(r + 1)), hi(static_cast<std::size_t>(r + 1));
  for (std::int64_t o = 0; o < outer; ++o) {
    const float* s = src + o * n * inner;
    float* d = dst + o * n * inner;
    for (std::int64_t i = 0; i < n; ++i) {
      for (int k = 0; k <= r; ++k) {
        lo[static_cast<std::size_t>(k)] = s + refl[i + r - k] * inner;
        hi[static_cast<std::size_t>(k)] = s + refl[i + r + k] * inner;
      }
      const float* c = s + i * inner;
      float* out_row = d + i * inner;
      std::int64_t j = 0;
      for (; j + 4 <= inner; j += 4) {
        V4d acc = wc[0] * load4(c + j);
        for (int k = 1; k <= r; ++k)
          acc += wc[k] * (load4(lo[static_cast<std::size_t>(k)] + j) +
                          load4(hi[static_cast<std::size_t>(k)] + j));
        store4(out_row + j, acc);
      }
      for (; j < inner; ++j) {
        double acc = wc[0] * c[j];
        for (int k = 1; k <= r; ++k)
          acc += wc[k] * (static_cast<double>(lo[static_cast<std::size_t>(k)][j]) +
                          static_cast<double>(hi[static_cast<std::size_t>(k)][j]));
        out_row[j] = static_cast<float>(acc);
      }
    }
  }
}

}  // namespace

int gaussian_radius(double sigma, double truncate) {
  return static_cast<int>(truncate * sigma + 0.5);
}

std::vector<double> gaussian_kernel1d(double sigma, double truncate) {
  if (!(sigma > 0) || !(truncate > 0))
    throw InvalidArgument("gaussian kernel: sigma " + std::to_string(sigma) + " and truncate " +
                          std::to_string(truncate) + " must be positive");
  const int radius = gaussian_radius(sigma, truncate);
  std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0;
  for (int x = -radius; x <= radius; ++x) {
    const double v = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(x) * x);
    w[static_cast<std::size_t>(x + radius)] = v;
    sum += v;
  }
  for (double& v : w) v /= sum;
  return w;
}

NdArray gaussian_filter1d(const NdArray& a, int axis, double sigma, double truncate) {
  if (!(a.dtype() == DType::of<float>()))
    throw InvalidArgument("gaussian_filter1d: needs float32, got " + a.dtype().str());
  const auto nd = static_cast<int>(a.ndim());
  if (axis < 0) axis += nd;
  if (axis < 0 || axis >= nd)
    throw InvalidArgument("gaussian_filter1d: axis " + std::to_string(axis) + " out of range for " +
                          std::to_string(nd) + "-d array");
  const std::vector<double> w = gaussian_kernel1d(sigma, truncate);
  const int r = gaussian_radius(sigma, truncate);
  const double* wc = w.data() + r;  // wc[k] = weight at offset k (symmetric)
  NdArray out = NdArray::uninitialized(a.dtype(), a.shape());
  if (a.size() == 0) return out;
  const auto& shape = a.shape();
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[static_cast<std::size_t>(d)];
  for (int d = axis + 1; d < nd; ++d) inner *= shape[static_cast<std::size_t>(d)];
  const std::int64_t n = shape[static_cast<std::size_t>(axis)];
  // refl[t] = source position of padded position t - r.
  std::vector<std::int64_t> refl(static_cast<std::size_t>(n + 2 * r));
  for (std::int64_t t = 0; t < n + 2 * r; ++t)
    refl[static_cast<std::size_t>(t)] = reflect_index(t - r, n);
  const float* src = a.values<float>().data();
  float* dst = out.values<float>().data();
  if (r == 0) {
    std::copy(src, src + a.size(), dst);
    return out;
  }

  if (inner == 1) filter_lines(src, dst, outer, n, r, wc, refl.data());
  else filter_strided(src, dst, outer, n, inner, r, wc, refl.data());
  return out;
}

NdArray gaussian_filter(const NdArray& a, double sigma, double truncate) {
  if (a.ndim() == 0) return a.copy();
  NdArray cur = gaussian_filter1d(a, 0, sigma, truncate);
  for (int d = 1; d < static_cast<int>(a.ndim()); ++d)
    cur = gaussian_filter1d(cur, d, sigma, truncate);
  return cur;
}

}  // namespace dosna::conv
