#include "soak/faults.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace dosna::soak {
namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void sleep_seconds(double s) {
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(s * 1e6)));
}

// Starts argv[0] (looked up in PATH) with stdout and stderr appended to `log`.
pid_t spawn_logged(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("died of signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

long rss_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  long pages = 0, resident = 0;
  if (!(in >> pages >> resident)) return 0;
  return resident * ::sysconf(_SC_PAGESIZE);
}

}  // namespace

const char* fault_name(FaultKind k) {
  switch (k) {
    case FaultKind::kOsd: return "osd-restart";
    case FaultKind::kRgw: return "rgw-restart";
    case FaultKind::kKill: return "writer-kill";
    case FaultKind::kDiskFull: return "disk-full";
  }
  return "?";
}

// --- Children --------------------------------------------------------------

Children::Children(std::string exe, std::vector<std::string> args, std::string log_dir, Shared& ledger)
    : exe_(std::move(exe)), args_(std::move(args)), log_dir_(std::move(log_dir)), ledger_(ledger) {}

Children::~Children() {
  std::lock_guard lock(mu_);
  for (pid_t pid : pids_) {
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
}

pid_t Children::spawn(int k) {
  ledger_.children[k].acked_writes.store(0);
  ledger_.children[k].failed_writes.store(0);
  std::vector<std::string> argv{exe_};
  argv.insert(argv.end(), args_.begin(), args_.end());
  argv.push_back("--child");
  argv.push_back(std::to_string(k));
  return spawn_logged(argv, log_dir_ + "/child-" + std::to_string(k) + ".log");
}

void Children::start(int count) {
  if (count > kMaxChildren) throw std::runtime_error("at most " + std::to_string(kMaxChildren) + " writer processes");
  std::lock_guard lock(mu_);
  for (int k = 0; k < count; ++k) pids_.push_back(spawn(k));
}

std::pair<std::uint64_t, std::uint64_t> Children::kill_and_respawn(int k) {
  std::lock_guard lock(mu_);
  pid_t& pid = pids_[static_cast<std::size_t>(k)];
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
      problems_.push_back("writer process " + std::to_string(k) + " had " + describe_status(status) +
                          " before it was killed");
  }
  const std::pair<std::uint64_t, std::uint64_t> before{ledger_.children[k].acked_writes.load(),
                                                       ledger_.children[k].failed_writes.load()};
  pid = spawn(k);
  ++respawns_;
  return before;
}

void Children::poll() {
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < pids_.size(); ++k) {
    if (pids_[k] <= 0) continue;
    int status = 0;
    if (::waitpid(pids_[k], &status, WNOHANG) != pids_[k]) continue;
    pids_[k] = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;  // reached the end time
    problems_.push_back("writer process " + std::to_string(k) + " " + describe_status(status) +
                        " (see child-" + std::to_string(k) + ".log)");
    pids_[k] = spawn(static_cast<int>(k));
    ++respawns_;
  }
}

void Children::finish(std::chrono::seconds grace) {
  const auto give_up = Clock::now() + grace;
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < pids_.size(); ++k) {
    if (pids_[k] <= 0) continue;
    int status = 0;
    while (::waitpid(pids_[k], &status, WNOHANG) == 0) {
      if (Clock::now() >= give_up) {
        ::kill(pids_[k], SIGKILL);
        ::waitpid(pids_[k], &status, 0);
        problems_.push_back("writer process " + std::to_string(k) + " still ran " +
                            std::to_string(grace.count()) + " s after the end (hung; killed)");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !WIFSIGNALED(status))
      problems_.push_back("writer process " + std::to_string(k) + " " + describe_status(status));
    pids_[k] = -1;
  }
}

std::vector<std::string> Children::problems() const {
  std::lock_guard lock(mu_);
  return problems_;
}

std::vector<long> Children::rss() const {
  std::lock_guard lock(mu_);
  std::vector<long> out;
  for (pid_t pid : pids_)
    if (pid > 0) out.push_back(rss_of(pid));
  return out;
}

// --- FaultInjector ---------------------------------------------------------

FaultInjector::FaultInjector(FaultConfig config, const Settings& settings, std::vector<StoreSpec> stores,
                             Shared& ledger, Children* children)
    : config_(std::move(config)), settings_(settings), stores_(std::move(stores)), ledger_(ledger),
      children_(children) {}

std::vector<std::string> FaultInjector::prepare() {
  std::vector<std::string> skipped;
  auto has = [&](const char* kind) {
    return std::any_of(stores_.begin(), stores_.end(), [&](const StoreSpec& s) { return s.kind == kind; });
  };
  const bool services = !config_.services_dir.empty() && !config_.services_script.empty() &&
                        std::filesystem::exists(config_.services_dir + "/state.env");
  std::vector<FaultKind> kept;
  for (FaultKind k : config_.kinds) {
    std::string why;
    if ((k == FaultKind::kOsd || k == FaultKind::kRgw) && !services)
      why = "no running scripts/local-services.sh cluster (--services-dir)";
    else if (k == FaultKind::kOsd && !has("ceph") && !has("s3"))
      why = "no ceph or s3 store";
    else if (k == FaultKind::kRgw && !has("s3"))
      why = "no s3 store";
    else if (k == FaultKind::kKill && (!children_ || children_->count() == 0))
      why = "no writer processes";
    else if (k == FaultKind::kDiskFull) {
      struct statvfs st {};
      if (!has("hdf5")) {
        why = "no hdf5 store";
      } else if (config_.fill_dir.empty() || ::statvfs(config_.fill_dir.c_str(), &st) != 0) {
        why = "the hdf5 store is not on a filesystem of its own (--fill-dir)";
      } else if (static_cast<double>(st.f_blocks) * static_cast<double>(st.f_frsize) > 1024.0 * 1024 * 1024) {
        why = "the filesystem of " + config_.fill_dir + " is larger than 1 GiB (refusing to fill it)";
      }
    }
    if (why.empty())
      kept.push_back(k);
    else
      skipped.push_back(std::string(fault_name(k)) + ": " + why);
  }
  config_.kinds = kept;
  return skipped;
}

bool FaultInjector::service(const std::string& command) {
  try {
    const pid_t pid = spawn_logged({"bash", config_.services_script, command, config_.services_dir},
                                   config_.log_path);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: %s\n", e.what());
    return false;
  }
}

bool FaultInjector::fill_disk(std::string& note) {
  const std::string path = config_.fill_dir + "/.soak-filler";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    note = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  std::vector<char> block(1 << 20, 'x');
  long long written = 0;
  for (std::size_t size : {block.size(), std::size_t{4096}}) {
    for (;;) {
      const ssize_t n = ::write(fd, block.data(), size);
      if (n <= 0) break;
      written += n;
    }
  }
  const int err = errno;
  ::close(fd);
  struct statvfs st {};
  ::statvfs(config_.fill_dir.c_str(), &st);
  note = "filled " + std::to_string(written >> 20) + " MiB (" + std::strerror(err) + "), " +
         std::to_string(st.f_bavail * st.f_frsize) + " bytes left";
  return err == ENOSPC;
}

void FaultInjector::unfill_disk() {
  if (!config_.fill_dir.empty()) std::filesystem::remove(config_.fill_dir + "/.soak-filler");
}

std::vector<const StoreSpec*> FaultInjector::affected(FaultKind k) const {
  std::vector<const StoreSpec*> out;
  for (const auto& s : stores_) {
    const bool hit = (k == FaultKind::kOsd && (s.kind == "ceph" || s.kind == "s3")) ||
                     (k == FaultKind::kRgw && s.kind == "s3") ||
                     (k == FaultKind::kKill && s.multi_process) ||
                     (k == FaultKind::kDiskFull && s.kind == "hdf5");
    if (hit) out.push_back(&s);
  }
  return out;
}

bool FaultInjector::recovered(FaultKind k, int child, Clock::time_point deadline, std::string& note) {
  const auto stores = affected(k);
  std::vector<std::uint64_t> base;
  std::vector<bool> probed(stores.size(), false);
  for (const StoreSpec* s : stores) base.push_back(ledger_.stores[s->index].ok[kWrite].load());
  for (;;) {
    std::string waiting;
    for (std::size_t i = 0; i < stores.size(); ++i) {
      if (!probed[i]) probed[i] = probe(*stores[i], settings_, ledger_, ++probes_);
      if (!probed[i]) waiting += " " + stores[i]->kind + " (probe)";
      else if (ledger_.stores[stores[i]->index].ok[kWrite].load() <= base[i])
        waiting += " " + stores[i]->kind + " (no new acked write)";
    }
    if (child >= 0 && ledger_.children[child].acked_writes.load() == 0)
      waiting += " respawned writer process " + std::to_string(child) + " (no acked write)";
    if (waiting.empty()) return true;
    if (Clock::now() >= deadline) {
      note += "; not recovered after " + std::to_string(static_cast<int>(config_.recovery_limit)) +
              " s:" + waiting;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void FaultInjector::run(Clock::time_point start, Clock::time_point end) {
  if (config_.kinds.empty()) return;
  if (config_.interval <= 0) {
    // Every kind once in the run, then again; at most one fault per 20 s.
    const double room = seconds_between(start, end) - config_.warmup - config_.hold - 8;
    config_.interval = std::clamp(room / static_cast<double>(config_.kinds.size()), config_.hold + 2, 20.0);
  }
  auto next = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.warmup));
  for (std::size_t i = 0;; ++i) {
    while (Clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // The fault, its recovery and a few seconds of normal load must fit.
    if (seconds_between(Clock::now(), end) < config_.hold + 8) break;
    FaultEvent ev;
    ev.kind = config_.kinds[i % config_.kinds.size()];
    const auto began = Clock::now();
    ev.at = seconds_between(start, began);
    std::vector<std::uint64_t> failed_before;
    const auto stores = affected(ev.kind);
    for (const StoreSpec* s : stores) failed_before.push_back(ledger_.stores[s->index].failed[kWrite].load());
    bool injected = true;
    int child = -1;
    switch (ev.kind) {
      case FaultKind::kOsd:
        injected = service("osd-stop");
        sleep_seconds(config_.hold);
        for (int tries = 0; tries < 3 && !service("osd-start"); ++tries) injected = false;
        break;
      case FaultKind::kRgw:
        injected = service("rgw-stop");
        sleep_seconds(config_.hold);
        for (int tries = 0; tries < 3 && !service("rgw-start"); ++tries) injected = false;
        break;
      case FaultKind::kKill: {
        child = next_child_++ % children_->count();
        const auto [acked, failed] = children_->kill_and_respawn(child);
        ev.note = "writer process " + std::to_string(child) + " SIGKILLed after " + std::to_string(acked) +
                  " acked writes";
        break;
      }
      case FaultKind::kDiskFull:
        injected = fill_disk(ev.note);
        sleep_seconds(config_.hold);
        unfill_disk();
        break;
    }
    const auto restored = Clock::now();
    ev.outage = seconds_between(began, restored);
    std::string errs;
    for (std::size_t s = 0; s < stores.size(); ++s) {
      const auto n = ledger_.stores[stores[s]->index].failed[kWrite].load() - failed_before[s];
      errs += (errs.empty() ? "" : ", ") + stores[s]->kind + " " + std::to_string(n);
    }
    ev.note += (ev.note.empty() ? "" : "; ") + std::string("failed writes during it: ") + errs;
    if (!injected) ev.note += "; the service script FAILED (see faults.log)";
    const auto deadline = restored + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(config_.recovery_limit));
    ev.survived = recovered(ev.kind, child, deadline, ev.note) && injected;
    ev.recovery = seconds_between(restored, Clock::now());
    std::fprintf(stderr, "soak: [%7.1f s] %s: %s, outage %.1f s, recovered in %.1f s (%s)\n", ev.at,
                 fault_name(ev.kind), ev.survived ? "survived" : "NOT SURVIVED", ev.outage, ev.recovery,
                 ev.note.c_str());
    events_.push_back(ev);
    next = std::max(next + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.interval)),
                    Clock::now());
  }
}

void FaultInjector::heal() {
  unfill_disk();
  if (config_.services_dir.empty() || !std::filesystem::exists(config_.services_dir + "/state.env")) return;
  service("osd-start");
  for (const auto& s : stores_)
    if (s.kind == "s3") service("rgw-start");
}

}  // namespace dosna::soak
