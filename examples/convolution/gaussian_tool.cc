// dosna-gaussian-filter: applies the job's Gaussian filters to a raw float32
// file, for the comparison with scipy (tests/convolution/check_gaussian.py).
//   dosna-gaussian-filter IN OUT SIGMA AXIS TRUNCATE D0 [D1 ...]
// AXIS 'all' = gaussian_filter, otherwise gaussian_filter1d along AXIS.
#include <cstdio>
#include <fstream>
#include <string>

#include "gaussian.h"

int main(int argc, char** argv) {
  using namespace dosna;
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s IN OUT SIGMA AXIS|all TRUNCATE D0 [D1 ...]\n", argv[0]);
    return 2;
  }
  try {
    Shape shape;
    for (int i = 6; i < argc; ++i) shape.push_back(std::stoll(argv[i]));
    NdArray a = NdArray::uninitialized(DType::of<float>(), shape);
    std::ifstream in(argv[1], std::ios::binary);
    in.read(reinterpret_cast<char*>(a.bytes()), static_cast<std::streamsize>(a.nbytes()));
    if (!in) throw IoError(std::string("cannot read ") + argv[1]);
    const double sigma = std::stod(argv[3]), truncate = std::stod(argv[5]);
    const std::string axis = argv[4];
    NdArray r = axis == "all" ? conv::gaussian_filter(a, sigma, truncate)
                              : conv::gaussian_filter1d(a, std::stoi(axis), sigma, truncate);
    std::ofstream out(argv[2], std::ios::binary);
    out.write(reinterpret_cast<const char*>(r.bytes()), static_cast<std::streamsize>(r.nbytes()));
    if (!out) throw IoError(std::string("cannot write ") + argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dosna-gaussian-filter: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
