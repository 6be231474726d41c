// Crash safety of the hdf5 backend: a child process rewriting a whole
// dataset over and over is SIGKILLed at a random moment; afterwards every
// chunk file is absent or holds one complete payload (old or new), never a
// torn one, and the dataset reads cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "dosna/connection.h"
#include "dosna/registry.h"
#include "support/stores.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

TEST(Hdf5Crash, KilledWriterLeavesNoTornChunk) {
  const fs::path root = fs::temp_directory_path() / testing::unique_name("hdf5-crash");
  fs::create_directories(root / "store");
  const Options options{{"directory", root.string()}};
  const Shape shape{256, 256, 128};
  const Shape chunks{64, 64, 64};
  {
    Connection con("store", options, "hdf5");
    con.connect();
    con.create_dataset("victim", shape, DType::parse("<f4"), chunks, -1.0);
  }
  std::mt19937 gen(12345);
  int mixed_rounds = 0;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const fs::path probe = root / "store" / "victim" / "chunk_3_3_1.h5";
    auto inode_of = [](const fs::path& p) -> ino_t {
      struct stat st;
      return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
    };
    const ino_t old_inode = inode_of(probe);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        Connection con("store", options, "hdf5");
        con.connect();
        Dataset ds = con.get_dataset("victim");
        for (int k = 1 + round * 100000;; ++k) ds.write({}, Scalar(k));
      } catch (...) {
      }
      ::_exit(3);
    }
    // Wait until the child has renamed a new chunk file into place (it is
    // mid-load from then on), then kill it at a random moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const ino_t now = inode_of(probe);
      if (now != 0 && now != old_inode) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<>(0, 40000)(gen)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << status;

    auto backend = make_backend("hdf5", "store", options);
    backend->connect();
    auto meta = backend->read_dataset("victim");
    ASSERT_TRUE(meta.has_value());
    auto store = backend->chunks("victim", *meta);
    const Shape grid = meta->chunk_grid();
    int present = 0;
    std::set<float> versions;
    for (std::int64_t i = 0; i < grid[0]; ++i) {
      for (std::int64_t j = 0; j < grid[1]; ++j) {
        for (std::int64_t k = 0; k < grid[2]; ++k) {
          ChunkData data = store->get({i, j, k});
          if (!data) continue;
          ++present;
          ASSERT_EQ(data->size(), meta->chunk_nbytes());
          const float* v = reinterpret_cast<const float*>(data->data());
          const std::size_t n = data->size() / sizeof(float);
          ASSERT_GE(v[0], 1.0f);
          versions.insert(v[0]);
          for (std::size_t e = 1; e < n; ++e) {
            ASSERT_EQ(v[e], v[0]) << "chunk " << i << "," << j << "," << k << " is torn at " << e;
          }
        }
      }
    }
    EXPECT_GT(present, 0);
    // Several versions side by side: the kill landed mid-load.
    if (versions.size() > 1) ++mixed_rounds;
    EXPECT_LE(store->list().size(), static_cast<std::size_t>(present));
    // Only complete chunk files carry the chunk name; leftovers are hidden
    // temporaries.
    for (const auto& e : fs::directory_iterator(root / "store" / "victim")) {
      const std::string f = e.path().filename().string();
      if (f.starts_with("chunk_")) EXPECT_TRUE(f.ends_with(".h5")) << f;
      else EXPECT_TRUE(f == "dataset.h5" || f.starts_with(".")) << f;
    }
  }
  RecordProperty("rounds_killed_mid_load", mixed_rounds);
  std::cout << "rounds killed mid-load (chunks of mixed versions): " << mixed_rounds << "/4\n";
  Connection con("store", options, "hdf5");
  con.connect();
  EXPECT_NO_THROW(con.get_dataset("victim").read());
  fs::remove_all(root);
}

}  // namespace
}  // namespace dosna
