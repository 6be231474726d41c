// Gaussian filters on float32 N-d arrays that equal scipy.ndimage's
// gaussian_filter1d / gaussian_filter (order 0, mode 'reflect'): the same
// kernel, double-precision sums, a float32 result after every 1-D pass.
#pragma once

#include <vector>

#include "dosna/array.h"

namespace dosna::conv {

// scipy's _gaussian_kernel1d(sigma, 0, radius) with radius =
// int(truncate * sigma + 0.5): normalised weights w[0..2*radius].
std::vector<double> gaussian_kernel1d(double sigma, double truncate = 4.0);
int gaussian_radius(double sigma, double truncate = 4.0);

// scipy.ndimage.gaussian_filter1d(a, sigma, axis, mode='reflect', truncate).
// `a` must be float32; throws InvalidArgument otherwise or for a bad axis or
// sigma <= 0.
NdArray gaussian_filter1d(const NdArray& a, int axis, double sigma, double truncate = 4.0);

// scipy.ndimage.gaussian_filter(a, sigma, mode='reflect', truncate): 1-D
// passes along axis 0, 1, ... in turn.
NdArray gaussian_filter(const NdArray& a, double sigma, double truncate = 4.0);

}  // namespace dosna::conv
