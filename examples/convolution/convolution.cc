// dosna-convolution: the original's convolution benchmark. For each data size
// N a random float32 N^3 volume; for each chunk size C <= N, ntest times:
//   DATA      create a dataset of C^3 chunks and load the volume
//   3D        Dataset::map with a 3-D Gaussian of each chunk (seams at chunk
//             borders, as in the original)
//   1D        three clones by 1-D Gaussian passes along z, y, x, each pass
//             reading whole slabs of chunk rows of the previous result (same
//             result as 3D)
//   3D-exact  Dataset::map_overlap with a halo of the kernel radius: equals
//             scipy.ndimage.gaussian_filter of the whole volume (no seams)
// Timings (taken between engine barriers, so across all MPI ranks) go to
// <out>/result.h5 as "<backend>/<mpi_size>" of shape (sizes, chunks, 4, ntest)
// with axis2_value ['DATA', '3D', '1D', '3D-exact']; middle z-slices to PNGs.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "dosna/dosna.h"
#include "gaussian.h"
#include "image.h"
#include "result_file.h"

namespace {

using namespace dosna;

struct Args {
  std::string backend = "hdf5";
  std::string engine = "cpu";
  std::string connection = "dosna-convolution";
  std::vector<std::string> connection_options, engine_options;
  std::string out = ".";
  std::vector<std::int64_t> sizes{128, 256, 512};
  std::vector<std::int64_t> chunks{24, 36, 48, 60, 72, 96, 128};
  double sigma = 1.5;
  std::int64_t ntest = 10;
  bool save_volumes = false;
};

enum Test { kData = 0, k3d = 1, k1d = 2, k3dExact = 3, kTests = 4 };
const std::vector<std::string> kTestNames{"DATA", "3D", "1D", "3D-exact"};

Options parse_options(const std::vector<std::string>& items, const std::string& what) {
  Options out;
  for (const auto& kv : items) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InvalidArgument(what + ": '" + kv + "' is not key=value");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

// The same pseudo-random volume on every rank (splitmix64, uniform [0, 1)).
NdArray random_volume(std::int64_t n) {
  NdArray a = NdArray::uninitialized(DType::of<float>(), {n, n, n});
  std::uint64_t state = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(n);
  for (float& v : a.values<float>()) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    v = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
  }
  return a;
}

// Deletes a leftover dataset of an interrupted run (collective).
void drop_if_exists(Connection& con, const std::string& name) {
  con.engine().barrier();
  if (con.has_dataset(name)) con.get_dataset(name).remove();
}

// One separable pass along `axis`: reads whole slabs one chunk row thick
// (split across the engine), filters them along `axis`, writes them to a
// clone of `src`.
Dataset pass_1d(const Dataset& src, int axis, double sigma, const std::string& name) {
  Dataset dst = src.clone(name);
  const auto a = static_cast<std::size_t>(axis);
  const std::int64_t c = src.chunk_size()[a];
  const std::int64_t n = src.shape()[a];
  src.engine().run_distributed(static_cast<std::size_t>(src.chunk_grid()[a]), [&](std::size_t s) {
    const auto lo = static_cast<std::int64_t>(s) * c;
    std::vector<IndexItem> items(src.ndim(), all);
    items[a] = slice(lo, std::min(n, lo + c));
    const Selection sel(std::move(items));
    dst.write(sel, conv::gaussian_filter1d(src.read(sel), axis, sigma));
  });
  src.engine().barrier();
  return dst;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

void save_raw(const std::string& path, const NdArray& a) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(a.bytes()), static_cast<std::streamsize>(a.nbytes()));
  if (!f) throw IoError("cannot write " + path);
}

int run(const Args& args) {
  ConnectionConfig cfg;
  cfg.name = args.connection;
  cfg.backend = args.backend;
  cfg.options = parse_options(args.connection_options, "--connection-options");
  cfg.engine = args.engine;
  cfg.engine_options = parse_options(args.engine_options, "--engine-options");
  if (!(args.sigma > 0)) throw InvalidArgument("--sigma " + std::to_string(args.sigma) + " must be positive");
  if (args.ntest < 1) throw InvalidArgument("--ntest " + std::to_string(args.ntest) + " must be >= 1");
  for (auto v : args.sizes)
    if (v < 1) throw InvalidArgument("--data-sizes: " + std::to_string(v) + " must be >= 1");
  for (auto v : args.chunks)
    if (v < 1) throw InvalidArgument("--chunk-sizes: " + std::to_string(v) + " must be >= 1");

  Connection con(cfg);
  if (cfg.backend == "hdf5") {
    // The original's hdf5 connection made its directory; ours expects it.
    const auto dir = cfg.options.count("directory") ? cfg.options.at("directory") : ".";
    con.engine().run_on_root([&] { std::filesystem::create_directories(std::filesystem::path(dir) / cfg.name); });
  }
  con.connect();
  Engine& eng = con.engine();
  const int nproc = eng.size();
  const bool root = eng.is_root();
  const std::string key = args.backend + "/" + std::to_string(nproc);
  const std::string result_path = (std::filesystem::path(args.out) / "result.h5").string();
  conv::ResultLayout layout{args.sizes, args.chunks, kTestNames, args.ntest};
  eng.run_on_root([&] {
    std::filesystem::create_directories(args.out);
    conv::check_result_file(result_path, key, layout);
  });

  const int radius = conv::gaussian_radius(args.sigma);
  const std::size_t nsz = args.sizes.size(), nch = args.chunks.size();
  const auto nt = static_cast<std::size_t>(args.ntest);
  std::vector<float> times(nsz * nch * kTests * nt, std::numeric_limits<float>::quiet_NaN());
  auto slot = [&](std::size_t i, std::size_t j, int t, std::size_t k) -> float& {
    return times[((i * nch + j) * kTests + static_cast<std::size_t>(t)) * nt + k];
  };
  auto timed = [&](auto&& fn) {
    eng.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    eng.barrier();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const std::string label = "[" + args.backend + "/" + std::string(eng.kind()) + " np=" +
                            std::to_string(nproc) + "]";

  for (std::size_t i = 0; i < nsz; ++i) {
    const std::int64_t n = args.sizes[i];
    const NdArray data = random_volume(n);
    for (std::size_t j = 0; j < nch; ++j) {
      const std::int64_t c = args.chunks[j];
      if (c > n) continue;
      const std::string base = "conv-" + std::to_string(n) + "-" + std::to_string(c);
      const std::vector<std::string> names{base, base + "-3d", base + "-z", base + "-zy",
                                           base + "-3x1d", base + "-exact"};
      for (const auto& nm : names) drop_if_exists(con, nm);
      for (std::size_t k = 0; k < nt; ++k) {
        auto report = [&](int t, double s) {
          slot(i, j, t, k) = static_cast<float>(s);
          if (root)
            std::fprintf(stderr, "%s N=%lld C=%lld test %zu/%zu %-8s %8.3f s\n", label.c_str(),
                         static_cast<long long>(n), static_cast<long long>(c), k + 1, nt,
                         kTestNames[static_cast<std::size_t>(t)].c_str(), s);
        };
        std::optional<Dataset> ds, g3, z, zy, g1, ex;
        report(kData, timed([&] { ds = con.create_dataset(names[0], data, {c, c, c}); }));
        report(k3d, timed([&] {
                 g3 = ds->map([&](NdArray chunk) { return conv::gaussian_filter(chunk, args.sigma); },
                              names[1]);
               }));
        report(k1d, timed([&] {
                 z = pass_1d(*ds, 0, args.sigma, names[2]);
                 zy = pass_1d(*z, 1, args.sigma, names[3]);
                 g1 = pass_1d(*zy, 2, args.sigma, names[4]);
               }));
        report(k3dExact, timed([&] {
                 ex = ds->map_overlap(
                     [&](NdArray block) { return conv::gaussian_filter(block, args.sigma); },
                     names[5], radius);
               }));
        if (k == 0) {
          eng.run_on_root([&] {
            const std::string tag = std::to_string(nproc) + "-" + std::to_string(n) + "-" +
                                    std::to_string(c) + ".png";
            const std::filesystem::path out(args.out);
            const Selection mid{n / 2, all, all};
            conv::write_png((out / ("conv3d_" + tag)).string(), g3->read(mid));
            conv::write_png((out / ("conv3x1d_" + tag)).string(), g1->read(mid));
            conv::write_png((out / ("conv3dexact_" + tag)).string(), ex->read(mid));
            if (args.save_volumes) {
              const std::string raw = "-" + std::to_string(n) + "-" + std::to_string(c) + ".f32";
              save_raw((out / ("data" + raw)).string(), data);
              save_raw((out / ("conv3d" + raw)).string(), g3->read());
              save_raw((out / ("conv3x1d" + raw)).string(), g1->read());
              save_raw((out / ("conv3dexact" + raw)).string(), ex->read());
            }
          });
        }
        for (auto* d : {&ds, &g3, &z, &zy, &g1, &ex}) (*d)->remove();
      }
    }
  }

  if (!root) return 0;
  conv::write_result_file(result_path, key, layout, times);
  std::printf("dosna-convolution: backend=%s engine=%s ranks=%d sigma=%g ntest=%lld "
              "(seconds: median [min .. max])\n",
              args.backend.c_str(), std::string(eng.kind()).c_str(), nproc, args.sigma,
              static_cast<long long>(args.ntest));
  std::printf("%6s %5s", "N", "C");
  for (const auto& t : kTestNames) std::printf(" %24s", t.c_str());
  std::printf("\n");
  for (std::size_t i = 0; i < nsz; ++i)
    for (std::size_t j = 0; j < nch; ++j) {
      if (args.chunks[j] > args.sizes[i]) continue;
      std::printf("%6lld %5lld", static_cast<long long>(args.sizes[i]),
                  static_cast<long long>(args.chunks[j]));
      for (int t = 0; t < kTests; ++t) {
        std::vector<double> v;
        for (std::size_t k = 0; k < nt; ++k) v.push_back(slot(i, j, t, k));
        char cell[64];
        std::snprintf(cell, sizeof cell, "%.3f [%.3f .. %.3f]", median(v),
                      *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
        std::printf(" %24s", cell);
      }
      std::printf("\n");
    }
  std::printf("results: %s (dataset '%s'); images: %s/conv{3d,3x1d,3dexact}_%d-<N>-<C>.png\n",
              result_path.c_str(), key.c_str(), args.out.c_str(), nproc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Chunk and slab buffers of a few MB are allocated and freed all the time:
  // keep them in the heap instead of fresh mmaps whose page faults serialise
  // threads on the address-space lock.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  Args args;
  CLI::App app{"DosNa convolution benchmark: 3-D Gaussian filtering of random volumes, per chunk "
               "(3D), by separable passes (1D) and exactly with a halo (3D-exact)"};
  app.add_option("--backend", args.backend, "Storage backend (ram, hdf5, ceph, s3)")->capture_default_str();
  app.add_option("--engine", args.engine, "Engine (cpu, threads, mpi)")->capture_default_str();
  app.add_option("--connection", args.connection, "Connection name (directory, pool, bucket label)")
      ->capture_default_str();
  app.add_option("--connection-options", args.connection_options, "Backend options key=value ...");
  app.add_option("--engine-options", args.engine_options, "Engine options key=value ... (njobs=2)");
  app.add_option("--out", args.out, "Output directory for result.h5 and PNGs")->capture_default_str();
  app.add_option("--data-sizes", args.sizes, "Edge lengths N of the N^3 volumes")->capture_default_str();
  app.add_option("--chunk-sizes", args.chunks, "Chunk edge lengths C (C > N skipped)")->capture_default_str();
  app.add_option("--sigma", args.sigma, "Gaussian sigma (truncate 4.0, mode reflect)")->capture_default_str();
  app.add_option("--ntest", args.ntest, "Repetitions of every test")->capture_default_str();
  app.add_flag("--save-volumes", args.save_volumes,
               "Also write the input and results of the first test as raw float32 files (for tests)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dosna-convolution: error: %s\n", e.what());
    return 1;
  }
}
