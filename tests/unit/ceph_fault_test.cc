// Fault test: a dead OSD gives a typed IoError within op_timeout instead of a
// hang, and after the OSD restarts the data is intact. Runs on a cluster of
// its own (scripts/local-services.sh --no-rgw) so stopping its OSD cannot
// disturb the other suites sharing the main cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "ceph_test_util.h"
#include "dosna/connection.h"

namespace dosna::testing {
namespace {

int services(const std::string& args) {
  const std::string cmd = "bash '" + (source_root() / "scripts/local-services.sh").string() +
                          "' " + args + " >&2";
  return std::system(cmd.c_str());
}

// A private cluster, stopped and removed on scope exit.
class OwnCluster {
 public:
  OwnCluster() {
    char tmpl[] = "/tmp/dosna-fault.XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir_ = tmpl;
    started_ = services("start '" + dir_ + "' --no-rgw") == 0;
  }
  ~OwnCluster() {
    if (dir_.empty()) return;
    services("stop '" + dir_ + "'");
    std::filesystem::remove_all(dir_);
  }
  bool started() const { return started_; }
  const std::string& dir() const { return dir_; }
  std::string conf() const { return dir_ + "/ceph.conf"; }

 private:
  std::string dir_;
  bool started_ = false;
};

TEST(CephFault, DeadOsdIsIoErrorThenDataIsIntact) {
  DOSNA_REQUIRE_CEPH();
  OwnCluster cluster;
  ASSERT_TRUE(cluster.started()) << "scripts/local-services.sh start failed in " << cluster.dir();
  Connection c("dosna", {{"conffile", cluster.conf()}, {"op_timeout", "3"}}, "ceph");
  c.connect();
  NdArray data(DType::parse("<i8"), {16, 16});
  auto v = data.values<std::int64_t>();
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = static_cast<std::int64_t>(n * n);
  Dataset ds = c.create_dataset("fault", data, {8, 8}, -1);

  ASSERT_EQ(services("osd-stop '" + cluster.dir() + "' TERM"), 0);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    ds.read();
    ADD_FAILURE() << "read with the OSD down succeeded";
  } catch (const IoError& e) {
    EXPECT_EQ(e.code(), ETIMEDOUT) << e.what();
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(waited, 2.5);
  EXPECT_LE(waited, 6.0);

  ASSERT_EQ(services("osd-start '" + cluster.dir() + "'"), 0);
  NdArray back = ds.read();
  EXPECT_EQ(back.values<std::int64_t>().size(), v.size());
  for (std::size_t n = 0; n < v.size(); ++n)
    ASSERT_EQ(back.values<std::int64_t>()[n], v[n]) << n;
  c.del_dataset("fault");
}

}  // namespace
}  // namespace dosna::testing
