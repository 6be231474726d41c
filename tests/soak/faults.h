// The soak's writer processes and its fault schedule.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "soak/ledger.h"
#include "soak/workload.h"

namespace dosna::soak {

// Writer processes: this binary run again as `<exe> <args> --child K`, with
// stdout/stderr appended to <log_dir>/child-K.log. Thread safe.
class Children {
 public:
  Children(std::string exe, std::vector<std::string> args, std::string log_dir, Shared& ledger);
  ~Children();
  void start(int count);
  int count() const { return static_cast<int>(pids_.size()); }
  // SIGKILLs child k, reaps it and starts it again (its ack counters reset).
  // Returns how many writes it had acked and not acked before the kill.
  std::pair<std::uint64_t, std::uint64_t> kill_and_respawn(int k);
  // Reaps children that died by themselves (recorded as problems) and
  // starts them again.
  void poll();
  // Waits for every child to exit (they stop at the end time by themselves),
  // SIGKILLs what is left after `grace`; a non-zero exit is a problem.
  void finish(std::chrono::seconds grace);
  std::vector<std::string> problems() const;
  long respawns() const { return respawns_; }
  // Resident set size of every live child, in bytes.
  std::vector<long> rss() const;

 private:
  pid_t spawn(int k);
  std::string exe_;
  std::vector<std::string> args_;
  std::string log_dir_;
  Shared& ledger_;
  mutable std::mutex mu_;
  std::vector<pid_t> pids_;
  std::vector<std::string> problems_;
  long respawns_ = 0;
};

enum class FaultKind { kOsd, kRgw, kKill, kDiskFull };
const char* fault_name(FaultKind k);

struct FaultEvent {
  FaultKind kind;
  double at = 0;          // seconds since the start when injected
  double outage = 0;      // seconds the fault lasted (stop .. start returned)
  double recovery = 0;    // seconds from its end until every affected store worked again
  bool survived = false;
  std::string note;
};

struct FaultConfig {
  std::vector<FaultKind> kinds;   // in schedule order, repeated
  std::string services_dir;       // scripts/local-services.sh cluster (osd, rgw)
  std::string services_script;
  std::string fill_dir;           // a small filesystem holding the hdf5 store (disk full)
  std::string log_path;           // output of the service script
  double warmup = 10;             // seconds before the first fault
  double interval = 0;            // seconds from one fault's start to the next (0: fit
                                  // every kind into the run once, at most 20)
  double hold = 6;                // seconds a fault lasts
  double recovery_limit = 120;    // seconds a store may take to work again
};

// Injects the faults of the schedule from `start` until shortly before
// `end`, each followed by a recovery check of the stores it affects: a probe
// (create, write, read, delete) and new acked writes to the shared dataset.
class FaultInjector {
 public:
  FaultInjector(FaultConfig config, const Settings& settings, std::vector<StoreSpec> stores,
                Shared& ledger, Children* children);
  // Checks what each kind needs (services, writer processes, a small
  // filesystem) and drops the kinds it cannot inject, saying why.
  std::vector<std::string> prepare();
  void run(Clock::time_point start, Clock::time_point end);
  // Leaves every daemon running and the filesystem unfilled (idempotent).
  void heal();
  const std::vector<FaultEvent>& events() const { return events_; }

 private:
  bool service(const std::string& command);
  bool fill_disk(std::string& note);
  void unfill_disk();
  std::vector<const StoreSpec*> affected(FaultKind k) const;
  bool recovered(FaultKind k, int child, Clock::time_point deadline, std::string& note);

  FaultConfig config_;
  const Settings& settings_;
  std::vector<StoreSpec> stores_;
  Shared& ledger_;
  Children* children_;
  std::vector<FaultEvent> events_;
  int probes_ = 0;
  int next_child_ = 0;
};

}  // namespace dosna::soak
