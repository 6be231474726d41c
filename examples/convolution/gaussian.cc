#include "gaussian.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// Columns processed together on a strided axis: the accumulators stay in L1.
constexpr std::int64_t kTile = 1024;

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

  if (inner == 1) {
    std::vector<double> line(static_cast<std::size_t>(n + 2 * r));
    for (std::int64_t o = 0; o < outer; ++o) {
      const float* s = src + o * n;
      float* d = dst + o * n;
      for (std::size_t t = 0; t < line.size(); ++t) line[t] = s[refl[t]];
      const double* c = line.data() + r;
      for (std::int64_t i = 0; i < n; ++i) {
        double acc = wc[0] * c[i];
        for (int k = 1; k <= r; ++k) acc += wc[k] * (c[i - k] + c[i + k]);
        d[i] = static_cast<float>(acc);
      }
    }
    return out;
  }

  std::vector<double> acc(static_cast<std::size_t>(std::min(inner, kTile)));
  for (std::int64_t o = 0; o < outer; ++o) {
    const float* s = src + o * n * inner;
    float* d = dst + o * n * inner;
    for (std::int64_t j0 = 0; j0 < inner; j0 += kTile) {
      const std::int64_t m = std::min(kTile, inner - j0);
      for (std::int64_t i = 0; i < n; ++i) {
        const float* c = s + i * inner + j0;
        for (std::int64_t j = 0; j < m; ++j) acc[static_cast<std::size_t>(j)] = wc[0] * c[j];
        for (int k = 1; k <= r; ++k) {
          const float* lo = s + refl[static_cast<std::size_t>(i + r - k)] * inner + j0;
          const float* hi = s + refl[static_cast<std::size_t>(i + r + k)] * inner + j0;
          const double wk = wc[k];
          for (std::int64_t j = 0; j < m; ++j)
            acc[static_cast<std::size_t>(j)] +=
                wk * (static_cast<double>(lo[j]) + static_cast<double>(hi[j]));
        }
        float* out_row = d + i * inner + j0;
        for (std::int64_t j = 0; j < m; ++j) out_row[j] = static_cast<float>(acc[static_cast<std::size_t>(j)]);
      }
    }
  }
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
