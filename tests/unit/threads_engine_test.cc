// The `threads` engine at the execution seam: parallelism (the caller takes
// part), first-failure propagation, nested calls, concurrent callers, options.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "dosna/engine.h"
#include "dosna/errors.h"
#include "dosna/registry.h"

namespace dosna {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<Engine> threads(int njobs) {
  return make_engine("threads", {{"njobs", std::to_string(njobs)}});
}

// Blocks until `expected` threads have arrived, or the timeout passes;
// returns whether all arrived (so a sequential engine fails, never hangs).
class Rendezvous {
 public:
  explicit Rendezvous(int expected) : expected_(expected) {}
  bool arrive_and_wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (++arrived_ >= expected_) cv_.notify_all();
    return cv_.wait_for(lock, timeout, [&] { return arrived_ >= expected_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int expected_;
  int arrived_ = 0;
};

TEST(ThreadsEngine, AnswersToJoblibNames) {
  for (const char* name : {"threads", "jl", "joblib"}) {
    auto engine = make_engine(name, {});
    EXPECT_EQ(engine->kind(), "threads") << name;
    const unsigned hw = std::thread::hardware_concurrency();
    EXPECT_EQ(engine->concurrency(), hw == 0 ? 1u : hw) << name;
    EXPECT_EQ(engine->rank(), 0);
    EXPECT_EQ(engine->size(), 1);
    EXPECT_TRUE(engine->is_root());
    EXPECT_FALSE(engine->multi_process());
  }
}

TEST(ThreadsEngine, Options) {
  EXPECT_EQ(threads(3)->concurrency(), 3u);
  EXPECT_EQ(make_engine("jl", {{"njobs", "2"}, {"jlbackend", "threading"}})->concurrency(), 2u);
  // 'multiprocessing' is accepted and runs on threads as well.
  EXPECT_EQ(make_engine("jl", {{"njobs", "2"}, {"jlbackend", "multiprocessing"}})->kind(),
            "threads");
  EXPECT_GE(make_engine("jl", {{"njobs", "-1"}})->concurrency(), 1u);
  EXPECT_THROW(threads(0), InvalidArgument);
  EXPECT_THROW(make_engine("jl", {{"njobs", "two"}}), InvalidArgument);
  EXPECT_THROW(make_engine("jl", {{"jlbackend", "dask"}}), InvalidArgument);
  EXPECT_THROW(make_engine("jl", {{"workers", "2"}}), InvalidArgument);
}

TEST(ThreadsEngine, RunsEveryIndexExactlyOnce) {
  auto engine = threads(4);
  for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    engine->run_local(n, [&](std::size_t i) { hits[i]++; });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadsEngine, TasksRunAtOnceOnNjobsThreadsIncludingTheCaller) {
  auto engine = threads(4);
  Rendezvous all(4);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::atomic<int> met{0};
  engine->run_local(4, [&](std::size_t) {
    {
      std::lock_guard lock(mutex);
      ids.insert(std::this_thread::get_id());
    }
    if (all.arrive_and_wait(10s)) met++;
  });
  EXPECT_EQ(met.load(), 4) << "the 4 tasks did not run at the same time";
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_TRUE(ids.count(std::this_thread::get_id())) << "the caller should run tasks too";
}

TEST(ThreadsEngine, SingleTaskAndOneJobRunOnTheCaller) {
  const auto caller = std::this_thread::get_id();
  std::thread::id seen;
  threads(4)->run_local(1, [&](std::size_t) { seen = std::this_thread::get_id(); });
  EXPECT_EQ(seen, caller);
  std::atomic<int> elsewhere{0};
  threads(1)->run_local(50, [&](std::size_t) {
    if (std::this_thread::get_id() != caller) elsewhere++;
  });
  EXPECT_EQ(elsewhere.load(), 0);
}

TEST(ThreadsEngine, FirstExceptionIsRethrownWithItsTypeAndStopsTheRest) {
  auto engine = threads(2);
  std::atomic<int> ran{0};
  try {
    engine->run_local(100000, [&](std::size_t i) {
      ran++;
      if (i == 0) throw IoError("chunk 0 of dataset 'd' failed", 5);
      std::this_thread::sleep_for(200us);
    });
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_STREQ(e.what(), "chunk 0 of dataset 'd' failed");
    EXPECT_EQ(e.code(), 5);
  }
  EXPECT_LT(ran.load(), 1000) << "tasks kept starting after the failure";

  // Several failures: exactly one is raised, and the engine stays usable.
  EXPECT_THROW(
      engine->run_local(64, [](std::size_t i) { throw std::runtime_error(std::to_string(i)); }),
      std::runtime_error);
  std::atomic<int> after{0};
  engine->run_local(64, [&](std::size_t) { after++; });
  EXPECT_EQ(after.load(), 64);
}

TEST(ThreadsEngine, ExceptionOnAWorkerThreadReachesTheCaller) {
  auto engine = threads(2);
  const auto caller = std::this_thread::get_id();
  Rendezvous both(2);
  EXPECT_THROW(engine->run_local(2,
                                 [&](std::size_t) {
                                   both.arrive_and_wait(10s);
                                   if (std::this_thread::get_id() != caller)
                                     throw NotFound("from the worker");
                                 }),
               NotFound);
}

TEST(ThreadsEngine, NestedCallsFromTasksDoNotDeadlock) {
  auto engine = threads(2);
  std::atomic<int> inner{0};
  engine->run_local(8, [&](std::size_t) {
    engine->run_local(8, [&](std::size_t) { engine->run_local(3, [&](std::size_t) { inner++; }); });
  });
  EXPECT_EQ(inner.load(), 8 * 8 * 3);
  // A nested failure propagates through both levels.
  EXPECT_THROW(engine->run_local(4,
                                 [&](std::size_t) {
                                   engine->run_local(4, [](std::size_t j) {
                                     if (j == 2) throw InvalidArgument("inner");
                                   });
                                 }),
               InvalidArgument);
}

TEST(ThreadsEngine, ManyCallersShareOnePool) {
  auto engine = threads(3);
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round)
        engine->run_local(5, [&](std::size_t i) { total += static_cast<long>(i) + 1; });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4L * 200 * 15);
}

TEST(ThreadsEngine, DistributedAndRootDefaultsRunInThisProcess) {
  auto engine = threads(2);
  std::vector<std::atomic<int>> hits(33);
  engine->run_distributed(hits.size(), [&](std::size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  bool ran = false;
  engine->run_on_root([&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_THROW(engine->run_on_root([] { throw AlreadyExists("dataset 'x' exists"); }),
               AlreadyExists);
  engine->barrier();
}

TEST(ThreadsEngine, ManyEnginesComeAndGo) {
  for (int i = 0; i < 50; ++i) {
    auto engine = threads(3);
    std::atomic<int> n{0};
    engine->run_local(6, [&](std::size_t) { n++; });
    ASSERT_EQ(n.load(), 6);
  }
}

}  // namespace
}  // namespace dosna
