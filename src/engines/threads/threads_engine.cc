// The `threads` engine (registry aliases `jl` and `joblib`, the original's
// joblib engine): per-chunk tasks on a persistent thread pool that the
// calling thread joins, so a call costs a queue push and a wake-up rather than
// the original's pool and memmap set-up.
#include <algorithm>
#include <memory>
#include <string>
#include <thread>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/engine.h"
#include "dosna/errors.h"
#include "engines/threads/thread_pool.h"

namespace dosna {
namespace {

class ThreadsEngine final : public Engine {
 public:
  explicit ThreadsEngine(std::size_t njobs) : njobs_(njobs), pool_(njobs - 1) {}

  std::string_view kind() const override { return "threads"; }
  std::size_t concurrency() const override { return njobs_; }

  void run_local(std::size_t n, const std::function<void(std::size_t)>& task) override {
    pool_.run(n, task);
  }

 private:
  std::size_t njobs_;
  engines::ThreadPool pool_;
};

std::size_t hardware_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

}  // namespace

// Options:
//   njobs      tasks run at once, the caller included (default: hardware
//              threads). As in joblib, a negative value counts back from the
//              hardware threads: -1 = all, -2 = all but one.
//   jlbackend  'threading' (default). 'multiprocessing' and 'loky' are
//              accepted for scripts written for the original and also run on
//              threads: chunk I/O and the copy kernels release no interpreter
//              lock here, so separate processes would only add copies.
std::shared_ptr<Engine> builtin::make_threads_engine(const Options& options) {
  OptionReader reader(options, "threads engine");
  const long long hw = static_cast<long long>(hardware_threads());
  long long njobs = reader.take_int("njobs", hw);
  const std::string backend = reader.take_string("jlbackend", "threading");
  reader.finish();
  if (njobs == 0 || njobs < -hw || njobs > 4096)
    throw InvalidArgument("threads engine: njobs=" + std::to_string(njobs) +
                          " is out of range (1..4096, or -1..-" + std::to_string(hw) +
                          " counting back from the " + std::to_string(hw) + " hardware threads)");
  if (njobs < 0) njobs = hw + 1 + njobs;
  if (backend != "threading" && backend != "multiprocessing" && backend != "loky")
    throw InvalidArgument("threads engine: jlbackend='" + backend +
                          "' is not supported (accepted: threading, multiprocessing, loky)");
  return std::make_shared<ThreadsEngine>(static_cast<std::size_t>(njobs));
}

}  // namespace dosna
