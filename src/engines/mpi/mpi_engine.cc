// The `mpi` engine: every rank runs the same program; per-chunk work is split
// by chunk index modulo the number of ranks, create/delete run on the root,
// and every collective call agrees on failure before returning so a failing
// rank never leaves the others waiting.
// Only the C API: the deprecated C++ bindings do not compile warning-free.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/engine.h"
#include "dosna/error_kinds.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

// Initialises MPI unless the caller (e.g. mpi4py) already did; finalises at
// exit only what we initialised.
void ensure_mpi_initialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) throw NotSupported("mpi engine: MPI was already finalised in this process");
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      throw ConnectionError("mpi engine: MPI_Init_thread failed");
    std::atexit([] {
      int done = 0;
      MPI_Finalized(&done);
      if (!done) MPI_Finalize();
    });
  });
}

// A rank's failure as it travels to the others: the error kind (from the
// table in dosna/error_kinds.h), so every rank re-raises the same type.
struct Failure {
  bool failed = false;
  ErrorKind kind = ErrorKind::kError;
  int io_code = 0;
  std::string message;
  std::exception_ptr exception;  // only on the rank that failed

  explicit operator bool() const { return failed; }
};

Failure capture(std::exception_ptr e) {
  Failure f;
  f.failed = true;
  f.exception = e;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    f.kind = error_kind_info(x).kind, f.message = x.what();
    if (const auto* io = dynamic_cast<const IoError*>(&x)) f.io_code = io->code();
  } catch (...) {
    f.message = "unknown exception";
  }
  return f;
}

[[noreturn]] void raise_remote(const Failure& f, int rank) {
  throw_error(f.kind, "mpi rank " + std::to_string(rank) + " failed: " + f.message, f.io_code);
}

class MpiEngine final : public Engine {
 public:
  MpiEngine() {
    ensure_mpi_initialised();
    // A private communicator keeps our collectives apart from the caller's.
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  ~MpiEngine() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  MpiEngine(const MpiEngine&) = delete;
  MpiEngine& operator=(const MpiEngine&) = delete;

  std::string_view kind() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  bool multi_process() const override { return true; }
  void barrier() override {
    MPI_Request request;
    MPI_Ibarrier(comm_, &request);
    wait(request);
  }

  void run_local(std::size_t n, const std::function<void(std::size_t)>& task) override {
    for (std::size_t i = 0; i < n; ++i) task(i);
  }

  void run_distributed(std::size_t n, const std::function<void(std::size_t)>& task) override {
    Failure local;
    try {
      const auto step = static_cast<std::size_t>(size_);
      for (auto i = static_cast<std::size_t>(rank_); i < n; i += step) task(i);
    } catch (...) {
      local = capture(std::current_exception());
    }
    int mine = local ? rank_ : size_;
    int first = size_;
    MPI_Request request;
    MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_, &request);
    wait(request);
    if (first == size_) return;
    share(first, local);
  }

  void run_on_root(const std::function<void()>& fn) override {
    // Every rank arrives first, so the root never deletes what another rank
    // is still reading.
    barrier();
    Failure local;
    if (rank_ == 0) {
      try {
        fn();
      } catch (...) {
        local = capture(std::current_exception());
      }
    }
    // The broadcast also holds the other ranks until the root has finished.
    int failed = local ? 1 : 0;
    bcast(&failed, 1, MPI_INT, 0);
    if (failed) share(0, local);
  }

 private:
  // Sends the failure of rank `from` to every rank, then throws everywhere:
  // a rank that failed itself rethrows its own exception, the others raise
  // the type and message of rank `from`, naming it.
  [[noreturn]] void share(int from, const Failure& local) {
    Failure f = local;
    int header[3] = {static_cast<int>(f.kind), f.io_code, static_cast<int>(f.message.size())};
    bcast(header, 3, MPI_INT, from);
    if (rank_ != from) {
      f.kind = static_cast<ErrorKind>(header[0]);
      f.io_code = header[1];
      f.message.resize(static_cast<std::size_t>(header[2]));
    }
    if (header[2] > 0) bcast(f.message.data(), header[2], MPI_CHAR, from);
    if (local) std::rethrow_exception(local.exception);
    raise_remote(f, from);
  }

  void bcast(void* data, int count, MPI_Datatype type, int root) {
    MPI_Request request;
    MPI_Ibcast(data, count, type, root, comm_, &request);
    wait(request);
  }

  // Waits for a collective without occupying a core: ranks that finished
  // their share early would otherwise spin in MPI's progress loop, taking CPU
  // from ranks still computing whenever ranks share cores. Polls briefly,
  // then sleeps with a backoff of at most 1 ms.
  static void wait(MPI_Request& request) {
    int done = 0;
    for (int i = 0; i < 100 && !done; ++i) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    auto pause = std::chrono::microseconds(20);
    while (!done) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

// Options:
//   comm  the communicator; only the world communicator can be named in a
//         string option ('world', the default; 'MPI_COMM_WORLD' too). The
//         engine works on a private duplicate of it.
std::shared_ptr<Engine> builtin::make_mpi_engine(const Options& options) {
  OptionReader reader(options, "mpi engine");
  const std::string comm = reader.take_string("comm", "world");
  reader.finish();
  if (comm != "world" && comm != "MPI_COMM_WORLD" && comm != "COMM_WORLD")
    throw InvalidArgument("mpi engine: comm='" + comm +
                          "' is not supported (only the world communicator: 'world')");
  return std::make_shared<MpiEngine>();
}

}  // namespace dosna
