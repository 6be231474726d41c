// The README's C++ quick start: a 100^3 float64 random dataset in 32^3
// chunks, print ds[0, 0, :10], check the whole array and a sub-block
// round-trip. Any backend/engine: dosna-readme-example [BACKEND [ENGINE [key=value...]]]
#include <cstdio>
#include <random>

#include "dosna/dosna.h"

int main(int argc, char** argv) {
  using namespace dosna;
  const std::string backend = argc > 1 ? argv[1] : "ram";
  const std::string engine = argc > 2 ? argv[2] : "cpu";
  Options options;
  for (int i = 3; i < argc; ++i) {
    const std::string kv = argv[i];
    const auto eq = kv.find('=');
    options[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }

  NdArray data(DType::of<double>(), {100, 100, 100});
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  for (double& v : data.values<double>()) v = normal(rng);

  Connection con("dosna-tutorial", options, backend, engine);
  con.connect();
  if (con.has_dataset("data")) con.del_dataset("data");
  Dataset ds = con.create_dataset("data", data, {32, 32, 32});

  NdArray row = ds.read({0, 0, slice(std::nullopt, 10)});
  std::printf("ds[0, 0, :10] = [");
  for (double v : row.values<double>()) std::printf(" %.8f", v);
  std::printf(" ]\n");

  NdArray all = ds.read({ellipsis});
  const bool whole_ok = std::equal(all.values<double>().begin(), all.values<double>().end(),
                                   data.values<double>().begin());

  // ds[36:80, 89:, :56] = data[36:80, 89:, :56] + 1, then read it back
  const Selection block{slice(36, 80), slice(89, std::nullopt), slice(std::nullopt, 56)};
  ds.write(block, 1.0);
  NdArray back = ds.read(block);
  bool block_ok = back.shape() == Shape{44, 11, 56};
  for (double v : back.values<double>()) block_ok &= v == 1.0;

  std::printf("whole array round-trips: %s; block write reads back: %s\n",
              whole_ok ? "yes" : "NO", block_ok ? "yes" : "NO");
  con.del_dataset("data");
  return whole_ok && block_ok ? 0 : 1;
}
