// Reference line for dosna-bench's read_boxes on ceph: the same 200 random
// 24^3 boxes (same generator and seed as dosna-bench) of a 256^3 float32
// dataset in 64^3 chunks, read one chunk at a time with one synchronous
// whole-object rados_read per chunk (no stat first), each box then cut out of
// the chunks row by row. Plain librados C API, no DosNa code.
//
//   dosna-ceph-sync-boxes [--reps 3]   (CEPH_CONF, DOSNA_CEPH_POOL)
//
// Prints one JSON line in dosna-bench's format (median of the reps).
#include <rados/librados.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::int64_t kShape = 256, kChunk = 64, kEdge = 24, kGrid = kShape / kChunk;
constexpr int kBoxes = 200;
constexpr std::uint64_t kSeed = 20240601;  // dosna-bench's kReadBoxSeed

void check(int rc, const char* what) {
  if (rc < 0) {
    std::fprintf(stderr, "dosna-ceph-sync-boxes: %s: %s\n", what, std::strerror(-rc));
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--reps") reps = std::atoi(argv[i + 1]);
  const char* conf = std::getenv("CEPH_CONF");
  const char* pool = std::getenv("DOSNA_CEPH_POOL");
  if (!conf || !pool) {
    std::fprintf(stderr, "dosna-ceph-sync-boxes: CEPH_CONF and DOSNA_CEPH_POOL must be set\n");
    return 2;
  }
  rados_t rados;
  rados_ioctx_t io;
  check(rados_create2(&rados, "ceph", "client.admin", 0), "create");
  check(rados_conf_read_file(rados, conf), "conf");
  check(rados_connect(rados), "connect");
  check(rados_ioctx_create(rados, pool, &io), "pool");

  const std::size_t chunk_bytes = kChunk * kChunk * kChunk * sizeof(float);
  const std::string prefix = "sync-boxes-ref-" + std::to_string(getpid()) + "/";
  auto oid = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return prefix + std::to_string(i) + "." + std::to_string(j) + "." + std::to_string(k);
  };
  std::vector<float> chunk(chunk_bytes / sizeof(float));
  for (std::int64_t i = 0; i < kGrid; ++i)
    for (std::int64_t j = 0; j < kGrid; ++j)
      for (std::int64_t k = 0; k < kGrid; ++k) {
        for (std::size_t n = 0; n < chunk.size(); ++n) chunk[n] = static_cast<float>(n + i + j + k);
        check(rados_write_full(io, oid(i, j, k).c_str(), reinterpret_cast<char*>(chunk.data()),
                               chunk_bytes),
              "write");
      }

  std::mt19937_64 rng(kSeed);
  std::vector<std::array<std::int64_t, 3>> starts(kBoxes);
  for (auto& s : starts)
    for (auto& x : s) x = std::uniform_int_distribution<std::int64_t>(0, kShape - kEdge)(rng);

  std::vector<float> box(kEdge * kEdge * kEdge);
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& s : starts) {
      for (std::int64_t ci = s[0] / kChunk; ci <= (s[0] + kEdge - 1) / kChunk; ++ci)
        for (std::int64_t cj = s[1] / kChunk; cj <= (s[1] + kEdge - 1) / kChunk; ++cj)
          for (std::int64_t ck = s[2] / kChunk; ck <= (s[2] + kEdge - 1) / kChunk; ++ck) {
            int n = rados_read(io, oid(ci, cj, ck).c_str(), reinterpret_cast<char*>(chunk.data()),
                               chunk_bytes, 0);
            check(n, "read");
            const std::int64_t c[3] = {ci, cj, ck};
            std::int64_t lo[3], hi[3];
            for (int d = 0; d < 3; ++d) {
              lo[d] = std::max(s[d], c[d] * kChunk);
              hi[d] = std::min(s[d] + kEdge, (c[d] + 1) * kChunk);
            }
            for (std::int64_t x = lo[0]; x < hi[0]; ++x)
              for (std::int64_t y = lo[1]; y < hi[1]; ++y)
                std::memcpy(&box[((x - s[0]) * kEdge + (y - s[1])) * kEdge + (lo[2] - s[2])],
                            &chunk[((x - ci * kChunk) * kChunk + (y - cj * kChunk)) * kChunk +
                                   (lo[2] - ck * kChunk)],
                            (hi[2] - lo[2]) * sizeof(float));
          }
    }
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  for (std::int64_t i = 0; i < kGrid; ++i)
    for (std::int64_t j = 0; j < kGrid; ++j)
      for (std::int64_t k = 0; k < kGrid; ++k) rados_remove(io, oid(i, j, k).c_str());
  rados_ioctx_destroy(io);
  rados_shutdown(rados);

  std::sort(times.begin(), times.end());
  const double sec = times[times.size() / 2];
  const double bytes = kBoxes * kEdge * kEdge * kEdge * sizeof(float);
  std::printf(
      "{\"op\":\"read_boxes_sync_reference\",\"backend\":\"librados, one synchronous whole-chunk "
      "read at a time\",\"engine\":null,\"shape\":[256,256,256],\"chunks\":[64,64,64],"
      "\"bytes\":%.0f,\"seconds\":%.6f,\"mb_per_s\":%.1f,\"ops_per_s\":%.1f,\"us_per_op\":%.1f}\n",
      bytes, sec, bytes / sec / 1e6, kBoxes / sec, sec / kBoxes * 1e6);
  return 0;
}
