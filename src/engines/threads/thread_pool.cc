#include "engines/threads/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace dosna::engines {
namespace {

// Set while this thread runs a pool task (any pool): nested run() calls then
// run inline, so a task waiting on its own sub-tasks never waits for workers
// that are all busy waiting too.
thread_local bool in_pool_task = false;

class InTaskScope {
 public:
  InTaskScope() : previous_(in_pool_task) { in_pool_task = true; }
  ~InTaskScope() { in_pool_task = previous_; }
  InTaskScope(const InTaskScope&) = delete;
  InTaskScope& operator=(const InTaskScope&) = delete;

 private:
  bool previous_;
};

}  // namespace

struct ThreadPool::Job {
  const std::function<void(std::size_t)>* task = nullptr;
  std::size_t n = 0;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  // Pool threads that may help (at most n - 1), and those currently inside
  // work_on(); both guarded by the pool's mutex_.
  std::size_t wanted = 0;
  std::size_t active = 0;

  bool exhausted() const { return failed.load() || next.load() >= n; }
};

ThreadPool::ThreadPool(std::size_t workers) {
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::work_on(Job& job) {
  for (;;) {
    if (job.failed.load(std::memory_order_relaxed)) return;
    const std::size_t i = job.next.fetch_add(1);
    if (i >= job.n) return;
    try {
      (*job.task)(i);
    } catch (...) {
      std::lock_guard lock(job.error_mutex);
      if (!job.error) job.error = std::current_exception();
      job.failed.store(true);
      return;
    }
  }
}

void ThreadPool::worker_loop() {
  in_pool_task = true;
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
    if (shutdown_) return;
    std::shared_ptr<Job> job = jobs_.front();
    if (job->exhausted()) {
      jobs_.pop_front();
      continue;
    }
    ++job->active;
    // Wake helpers one at a time, each by the previous one: a short job then
    // costs one wake-up instead of one per pool thread.
    if (job->active < job->wanted && job->next.load() + 1 < job->n) work_cv_.notify_one();
    lock.unlock();
    work_on(*job);
    lock.lock();
    if (--job->active == 0) done_cv_.notify_all();
  }
}

void ThreadPool::run(std::size_t n, const std::function<void(std::size_t)>& task) {
  if (n == 0) return;
  if (n == 1 || threads_.empty() || in_pool_task) {
    InTaskScope scope;
    for (std::size_t i = 0; i < n; ++i) task(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->task = &task;
  job->n = n;
  job->wanted = std::min(n - 1, threads_.size());
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(job);
  }
  work_cv_.notify_one();
  {
    InTaskScope scope;
    work_on(*job);
  }
  {
    // Withdraw the job so no worker joins late, then wait for those inside.
    std::unique_lock lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (*it == job) {
        jobs_.erase(it);
        break;
      }
    }
    done_cv_.wait(lock, [&] { return job->active == 0; });
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace dosna::engines
