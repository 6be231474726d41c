// A persistent pool of worker threads that runs index-range jobs together
// with the calling thread. Internal to the `threads` engine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dosna::engines {

class ThreadPool {
 public:
  // Starts `workers` threads (0 is allowed: every job then runs on the
  // caller). They live until the pool is destroyed.
  explicit ThreadPool(std::size_t workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t workers() const { return threads_.size(); }

  // Runs task(i) for i in [0, n) on the caller and up to workers() pool
  // threads, returning when every started task has finished. The first
  // exception stops tasks not yet started and is rethrown here. Safe to call
  // from many threads at once; a call from inside a task of this pool runs
  // its tasks inline on that thread (no deadlock, no oversubscription); so does a call from a task
  // of any other ThreadPool.
  void run(std::size_t n, const std::function<void(std::size_t)>& task);

 private:
  struct Job;
  void worker_loop();
  static void work_on(Job& job);

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dosna::engines
