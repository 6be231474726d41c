// Fault test: radosgw is stopped and restarted (scripts/local-services.sh
// rgw-stop / rgw-start) while a load runs; the load must finish by retrying
// and the data read back must equal what was written.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

NdArray pattern(const Shape& shape, float salt) {
  NdArray a = NdArray::uninitialized(DType::parse("<f4"), shape);
  auto v = a.values<float>();
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = static_cast<float>(n % 100003) * 0.5f + salt;
  return a;
}

TEST(S3Fault, LoadSurvivesRadosgwRestart) {
  DOSNA_S3_STORE_OR_SKIP(store);
  const std::string dir = services_dir();
  if (dir.empty() || !fs::exists(services_script()) || !fs::exists(fs::path(dir) / "env.sh")) {
    const std::string why = "radosgw restart needs scripts/local-services.sh and its DIR "
                            "(CEPH_CONF or DOSNA_SERVICES_DIR)";
    if (services_required()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  const Shape shape{128, 128, 128};
  Connection con(store.config);
  con.connect();
  const std::string name = s3_dataset_name("fault");
  Dataset ds = con.create_dataset(name, shape, DType::parse("<f4"), {32, 32, 32}, Scalar(0));
  struct Cleanup {
    Connection& con;
    const std::string& name;
    ~Cleanup() {
      services("rgw-start");  // idempotent; radosgw must be up for the next tests
      try {
        if (con.has_dataset(name)) con.del_dataset(name);
      } catch (const std::exception&) {
      }
    }
  } cleanup{con, name};

  // Loads run back to back; radosgw is down for 2 s in the middle of them.
  std::atomic<bool> restarted{false};
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> loads;  // [began, ended]
  std::exception_ptr failure;
  float last_salt = 0;
  std::thread loader([&] {
    try {
      for (int round = 0;; ++round) {
        const bool restarted_before = restarted.load();
        const auto began = Clock::now();
        const float salt = static_cast<float>(round);
        ds.load(pattern(shape, salt).view());
        last_salt = salt;
        {
          std::lock_guard lock(mutex);
          loads.emplace_back(began, Clock::now());
        }
        if (restarted_before) break;  // one whole load after the restart too
      }
    } catch (...) {
      failure = std::current_exception();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int stop_rc = services("rgw-stop");
  const auto down_from = Clock::now();  // radosgw is gone from here...
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto down_until = Clock::now();  // ...to here
  const int start_rc = services("rgw-start");
  restarted = true;
  loader.join();
  ASSERT_EQ(stop_rc, 0) << "rgw-stop failed";
  ASSERT_EQ(start_rc, 0) << "rgw-start failed";
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      FAIL() << "load failed across the radosgw restart: " << e.what();
    }
  }
  // A load running while radosgw was down can only have finished by retrying.
  int overlapping = 0;
  for (const auto& [began, ended] : loads) {
    if (began < down_until && ended > down_from) ++overlapping;
  }
  EXPECT_GE(overlapping, 1) << "no load ran during the outage; the test proved nothing";

  NdArray got = ds.read();
  NdArray want = pattern(shape, last_salt);
  ASSERT_EQ(got.nbytes(), want.nbytes());
  EXPECT_EQ(std::memcmp(got.bytes(), want.bytes(), got.nbytes()), 0);
}

}  // namespace
}  // namespace dosna::testing
