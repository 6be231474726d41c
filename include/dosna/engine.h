// The execution seam: where and when per-chunk tasks run (sequentially, on a
// thread pool, across MPI ranks). load, map, apply, clear, clone and parallel
// slicing are written once in the core on top of it.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace dosna {

class Engine {
 public:
  virtual ~Engine() = default;

  // Registry name: "cpu", "threads", "mpi".
  virtual std::string_view kind() const = 0;

  // Tasks this process runs at once (1 for cpu and mpi).
  virtual std::size_t concurrency() const { return 1; }

  // Runs task(i) for every i in [0, n) in this process and returns when all
  // have finished. The first exception stops tasks not yet started and is
  // rethrown here. Not collective.
  virtual void run_local(std::size_t n, const std::function<void(std::size_t)>& task) = 0;

  // Collective (every rank calls it with the same n): each i runs on exactly
  // one rank. If a task fails on any rank, every rank throws (an Error naming
  // the failing rank on the others); no rank is left waiting.
  virtual void run_distributed(std::size_t n, const std::function<void(std::size_t)>& task) {
    run_local(n, task);
  }

  // Collective: `fn` runs on the root rank only; its failure is raised on
  // every rank; every rank returns after it finished (create/delete).
  virtual void run_on_root(const std::function<void()>& fn) { fn(); }

  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  bool is_root() const { return rank() == 0; }
  virtual void barrier() {}
  // True when ranks are separate processes (memory is not shared).
  virtual bool multi_process() const { return false; }
};

}  // namespace dosna
