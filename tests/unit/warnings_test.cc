// dosna::warn() and set_warning_handler: a handler that blocks (the Python
// one waits for the GIL) blocks neither another thread's warning nor, beyond
// its own call, the handler's replacement.
#include "dosna/warnings.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace dosna::testing {
namespace {

using namespace std::chrono_literals;

TEST(Warnings, ABlockedHandlerBlocksNoOtherThreadsWarning) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::string> seen;
  WarningHandler old = set_warning_handler([&](const std::string& m) {
    {
      std::lock_guard lock(mutex);
      seen.push_back(m);
    }
    if (calls++ == 0) released.wait();  // the first call waits, as for the GIL
  });

  std::thread blocked([] { warn("first"); });
  while (calls.load() == 0) std::this_thread::sleep_for(1ms);
  auto second = std::async(std::launch::async, [] { warn("second"); });
  EXPECT_EQ(second.wait_for(5s), std::future_status::ready)
      << "a warning waited for another thread's handler call";

  // Replacing the handler returns only once its running call has ended.
  auto replaced = std::async(std::launch::async, [&] { return set_warning_handler(std::move(old)); });
  EXPECT_EQ(replaced.wait_for(200ms), std::future_status::timeout)
      << "set_warning_handler returned while the old handler still ran";
  release.set_value();
  blocked.join();
  ASSERT_EQ(replaced.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(static_cast<bool>(replaced.get()));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second"}));
}

}  // namespace
}  // namespace dosna::testing
