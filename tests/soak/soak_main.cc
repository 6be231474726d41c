// dosna-soak: a bounded soak of the library with faults. A mixed workload on
// every store at once (ram, hdf5, ceph, s3): partial writers on a shared
// dataset per store (threads here and writer processes), a checking reader,
// creates, copies, deletes and listings; faults on a schedule (OSD and
// radosgw restarted through scripts/local-services.sh, a writer process
// SIGKILLed, the hdf5 filesystem filled up). At the end every acknowledged
// write is checked against the ledger (soak/ledger.h), the failures are
// counted by type, and the process's RSS is compared with its value after
// warm-up. Prints a summary; exits 0 only if nothing was lost, torn or
// misplaced, every failure was a typed dosna error, every fault was survived
// and the memory stayed within its bound. scripts/soak.sh sets everything up;
// `dosna-soak --help` lists the options.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "dosna/registry.h"
#include "soak/faults.h"
#include "soak/ledger.h"
#include "soak/workload.h"

namespace dosna::soak {
namespace {

constexpr const char* kUsage = R"(usage: dosna-soak [options]
  --seconds N           length of the workload (default 60)
  --stores LIST         comma-separated subset of ram,hdf5,ceph,s3 (default: every built one)
  --threads N           writer threads per store (default 2)
  --processes N         writer processes, each writing every store but ram (default 2)
  --faults LIST         subset of osd,rgw,kill,disk in schedule order (default all four)
  --fault-interval S    seconds from one fault to the next (default: fit every kind once
                        into the run, at most 20)
  --fault-hold S        seconds a service stays down / the disk stays full (default 6)
  --warmup S            seconds before the first fault (default min(10, N/6))
  --rss-growth-mib M    allowed RSS growth after warm-up (default 64)
  --work DIR            ledger and logs (default: a new /tmp/dosna-soak.* removed at the end)
  --hdf5-dir DIR        the hdf5 store's parent; the disk-full fault needs it to be a
                        filesystem of its own of at most 1 GiB (default WORK/hdf5)
  --services-dir DIR    a scripts/local-services.sh cluster (its env.sh must be sourced)
  --services-script F   scripts/local-services.sh (osd-stop/osd-start/rgw-stop/rgw-start)
  --ceph-op-timeout S   ceph option op_timeout (default 4)
  --pace-ms MS          pause after each operation of a loop (default 2)
  --seed N              box partition and random choices (default 1)
  --sabotage LIST       controls that must make the run FAIL: stale (an acked write
                        undone), torn, untyped (a non-dosna failure), rss (grow the heap)
)";

struct Args {
  Settings settings;
  double seconds = 60;
  std::vector<FaultKind> faults{FaultKind::kOsd, FaultKind::kRgw, FaultKind::kKill, FaultKind::kDiskFull};
  double fault_interval = 0, fault_hold = 6, warmup = -1, rss_growth_mib = 64;
  std::string work, services_dir, services_script;
  int child = -1;
  std::string ledger;
  long long end_ns = 0;
  std::vector<std::string> sabotage;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "dosna-soak: %s\n%s", what.c_str(), kUsage);
  std::exit(2);
}

double number(const std::string& flag, const std::string& v) {
  try {
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size() && d >= 0) return d;
  } catch (const std::exception&) {
  }
  usage_error(flag + " needs a non-negative number, got '" + v + "'");
}

Args parse(int argc, char** argv) {
  Args a;
  for (const auto& b : available_backends())
    for (const char* k : kStoreKinds)
      if (b == k) a.settings.stores.push_back(b);
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) usage_error(flag == "" ? "empty argument" : "unknown option or missing value: " + flag);
    const std::string v = argv[++i];
    Settings& s = a.settings;
    if (flag == "--seconds") a.seconds = number(flag, v);
    else if (flag == "--stores") s.stores = split(v);
    else if (flag == "--threads") s.threads = static_cast<int>(number(flag, v));
    else if (flag == "--processes") s.processes = static_cast<int>(number(flag, v));
    else if (flag == "--seed") s.seed = static_cast<std::uint64_t>(number(flag, v));
    else if (flag == "--prefix") s.prefix = v;
    else if (flag == "--hdf5-dir") s.hdf5_dir = v;
    else if (flag == "--ceph-op-timeout") s.ceph_op_timeout = number(flag, v);
    else if (flag == "--pace-ms") s.pace_ms = number(flag, v);
    else if (flag == "--fault-interval") a.fault_interval = number(flag, v);
    else if (flag == "--fault-hold") a.fault_hold = number(flag, v);
    else if (flag == "--warmup") a.warmup = number(flag, v);
    else if (flag == "--rss-growth-mib") a.rss_growth_mib = number(flag, v);
    else if (flag == "--work") a.work = v;
    else if (flag == "--services-dir") a.services_dir = v;
    else if (flag == "--services-script") a.services_script = v;
    else if (flag == "--child") a.child = static_cast<int>(number(flag, v));
    else if (flag == "--ledger") a.ledger = v;
    else if (flag == "--end-ns") a.end_ns = static_cast<long long>(number(flag, v));
    else if (flag == "--sabotage") {
      a.sabotage = split(v);
      for (const auto& x : a.sabotage)
        if (x != "stale" && x != "torn" && x != "untyped" && x != "rss")
          usage_error("unknown sabotage '" + x + "' (stale, torn, untyped, rss)");
    }
    else if (flag == "--faults") {
      a.faults.clear();
      for (const auto& f : split(v)) {
        if (f == "osd") a.faults.push_back(FaultKind::kOsd);
        else if (f == "rgw") a.faults.push_back(FaultKind::kRgw);
        else if (f == "kill") a.faults.push_back(FaultKind::kKill);
        else if (f == "disk") a.faults.push_back(FaultKind::kDiskFull);
        else if (f != "none") usage_error("unknown fault '" + f + "' (osd, rgw, kill, disk, none)");
      }
    } else {
      usage_error("unknown option " + flag);
    }
  }
  if (a.settings.stores.empty()) usage_error("no store to soak");
  if (a.settings.threads < 1) usage_error("--threads must be at least 1");
  if (a.settings.processes > kMaxChildren) usage_error("--processes must be at most " + std::to_string(kMaxChildren));
  return a;
}

// The arguments a writer process needs to agree with this one.
std::vector<std::string> child_args(const Args& a, const std::string& ledger, Clock::time_point end) {
  const Settings& s = a.settings;
  std::string stores;
  for (const auto& k : s.stores) stores += (stores.empty() ? "" : ",") + k;
  return {"--stores", stores, "--seed", std::to_string(s.seed), "--threads", std::to_string(s.threads),
          "--processes", std::to_string(s.processes), "--prefix", s.prefix, "--hdf5-dir", s.hdf5_dir,
          "--ceph-op-timeout", std::to_string(s.ceph_op_timeout), "--pace-ms", std::to_string(s.pace_ms),
          "--ledger", ledger, "--end-ns",
          std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(end.time_since_epoch()).count())};
}

int child_main(const Args& a) {
  // Stop when the soak process is gone (PR_SET_PDEATHSIG would fire when the
  // thread that spawned us ends, not the process).
  const pid_t parent = ::getppid();
  std::thread([parent] {
    for (;;) {
      if (::getppid() != parent) std::_Exit(4);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }).detach();
  try {
    Ledger ledger = Ledger::open(a.ledger);
    const Clock::time_point end{std::chrono::nanoseconds(a.end_ns)};
    std::vector<std::thread> threads;
    for (const auto& kind : a.settings.stores) {
      StoreSpec store = make_store(kind, a.settings);
      if (!store.multi_process) continue;
      threads.emplace_back([store, &a, &ledger, end] {
        run_writer(store, a.settings, *ledger, a.settings.threads + a.child, end, &ledger->children[a.child]);
      });
    }
    for (auto& t : threads) t.join();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dosna-soak writer process %d: %s\n", a.child, e.what());
    return 3;
  }
}

long self_rss() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

double mib(long bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

struct RssSample {
  double t;
  long bytes;
};

int parent_main(Args a) {
  Settings& s = a.settings;
  bool own_work = false;
  if (a.work.empty()) {
    char tmpl[] = "/tmp/dosna-soak.XXXXXX";
    if (!::mkdtemp(tmpl)) usage_error(std::string("cannot create a work directory: ") + std::strerror(errno));
    a.work = tmpl;
    own_work = true;
  }
  std::filesystem::create_directories(a.work);
  if (s.hdf5_dir.empty()) s.hdf5_dir = a.work + "/hdf5";
  s.prefix = "soak" + std::to_string(::getpid());
  if (a.warmup < 0) a.warmup = std::min(10.0, a.seconds / 6);

  std::vector<StoreSpec> stores;
  try {
    for (const auto& k : s.stores) stores.push_back(make_store(k, s));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dosna-soak: %s\n", e.what());
    return 2;
  }
  const bool any_multi = std::any_of(stores.begin(), stores.end(), [](const StoreSpec& x) { return x.multi_process; });
  if (!any_multi) s.processes = 0;
  const std::string ledger_path = a.work + "/ledger";
  std::filesystem::remove(ledger_path);
  Ledger ledger = Ledger::create(ledger_path);

  for (const auto& store : stores) {
    try {
      Connection con(store.config);
      con.connect();
      if (con.has_dataset(shared_name(s))) con.del_dataset(shared_name(s));
      const testing::BoxPlan plan = shared_plan(store, s);
      con.create_dataset(shared_name(s), plan.shape, DType::of<std::int64_t>(), plan.chunks, Scalar(0));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dosna-soak: cannot set up the %s store: %s\n", store.kind.c_str(), e.what());
      return 1;
    }
  }

  std::string names;
  for (const auto& st : stores) names += " " + st.kind;
  std::fprintf(stderr, "soak: %.0f s on%s; %d writer threads per store, %d writer processes; work %s\n",
               a.seconds, names.c_str(), s.threads, s.processes, a.work.c_str());

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  Children children("/proc/self/exe", child_args(a, ledger_path, end), a.work, *ledger);
  children.start(s.processes);

  FaultConfig fc;
  fc.kinds = a.faults;
  fc.services_dir = a.services_dir;
  fc.services_script = a.services_script;
  fc.fill_dir = s.hdf5_dir;
  fc.log_path = a.work + "/faults.log";
  fc.warmup = a.warmup;
  fc.hold = a.fault_hold;
  fc.interval = a.fault_interval;
  FaultInjector injector(fc, s, stores, *ledger, &children);
  const std::vector<std::string> skipped = injector.prepare();
  for (const auto& why : skipped) std::fprintf(stderr, "soak: fault skipped: %s\n", why.c_str());

  std::vector<ChurnLog> churn(stores.size());
  std::atomic<int> running{0};
  std::mutex problems_mu;
  std::vector<std::string> problems;
  std::vector<std::thread> workers;
  auto worker = [&](std::function<void()> body, std::string what) {
    ++running;
    workers.emplace_back([&running, &problems_mu, &problems, body = std::move(body), what = std::move(what)] {
      try {
        body();
      } catch (const std::exception& e) {
        std::lock_guard lock(problems_mu);
        problems.push_back(what + " stopped: " + e.what());
      }
      --running;
    });
  };
  for (std::size_t i = 0; i < stores.size(); ++i) {
    const StoreSpec& store = stores[i];
    for (int w = 0; w < s.threads; ++w)
      worker([&, w] { run_writer(store, s, *ledger, w, end, nullptr); }, store.kind + " writer " + std::to_string(w));
    worker([&] { run_reader(store, s, *ledger, end); }, store.kind + " reader");
    worker([&, i] { run_churn(store, s, *ledger, end, churn[i]); }, store.kind + " churn");
  }
  std::thread fault_thread([&] { injector.run(start, end); });

  auto sabotaged = [&](const char* what) {
    return std::find(a.sabotage.begin(), a.sabotage.end(), what) != a.sabotage.end();
  };
  const double rss_warmup_t = std::max(a.warmup, std::min(60.0, 0.2 * a.seconds));
  std::vector<char> ballast;
  std::vector<RssSample> rss;
  long child_rss_peak = 0;
  double last_report = 0;
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (sabotaged("rss") && ballast.empty() && t > rss_warmup_t + 0.5)
      ballast.assign(static_cast<std::size_t>((a.rss_growth_mib + 32) * 1024 * 1024), 1);
    rss.push_back({t, self_rss()});
    for (long r : children.rss()) child_rss_peak = std::max(child_rss_peak, r);
    if (Clock::now() < end - std::chrono::seconds(2)) children.poll();
    if (t - last_report >= 30) {
      last_report = t;
      std::string line;
      for (const auto& st : stores)
        line += " " + st.kind + " " + std::to_string(ledger->stores[st.index].ok[kWrite].load()) + "/" +
                std::to_string(ledger->stores[st.index].failed[kWrite].load());
      std::fprintf(stderr, "soak: [%7.1f s] writes ok/failed:%s; rss %.1f MiB\n", t, line.c_str(), mib(rss.back().bytes));
    }
  }
  fault_thread.join();
  const auto stop_deadline = Clock::now() + std::chrono::seconds(300);
  while (running.load() > 0 && Clock::now() < stop_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (running.load() > 0) {
    std::fprintf(stderr, "dosna-soak: FAIL: %d workers still running 300 s after the end (a hung call)\n",
                 running.load());
    std::fflush(nullptr);
    std::_Exit(1);
  }
  for (auto& t : workers) t.join();
  children.finish(std::chrono::seconds(120));
  injector.heal();
  const long rss_end = self_rss();

  std::fprintf(stderr, "soak: workload over; checking the ledger\n");
  for (const auto& store : stores) {
    try {
      sabotage_shared(store, s, *ledger, sabotaged("stale"), sabotaged("torn"));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dosna-soak: sabotage on %s failed: %s\n", store.kind.c_str(), e.what());
    }
  }
  if (sabotaged("untyped"))
    record_failure(ledger->stores[stores.front().index], kWrite,
                   std::make_exception_ptr(std::runtime_error("sabotage: not a dosna error")));
  std::vector<Findings> shared;
  std::vector<ChurnFindings> churned;
  for (std::size_t i = 0; i < stores.size(); ++i) {
    shared.push_back(verify_shared(stores[i], s, *ledger, std::chrono::seconds(180)));
    churned.push_back(verify_churn(stores[i], s, *ledger, churn[i], std::chrono::seconds(120)));
    remove_shared(stores[i], s);
  }

  // ---- summary
  bool pass = true;
  std::printf("== dosna soak: %.0f s on%s (%d writer threads per store, %d writer processes on every store but ram; seed %llu)\n",
              a.seconds, names.c_str(), s.threads, s.processes, static_cast<unsigned long long>(s.seed));
  std::printf("operations, ok/failed:\n  %-5s", "store");
  for (int op = 0; op < kOpCount; ++op) std::printf(" %15s", op_name(op));
  std::printf("\n");
  for (const auto& st : stores) {
    std::printf("  %-5s", st.kind.c_str());
    for (int op = 0; op < kOpCount; ++op) {
      const std::string cell = std::to_string(ledger->stores[st.index].ok[op].load()) + "/" +
                               std::to_string(ledger->stores[st.index].failed[op].load());
      std::printf(" %15s", cell.c_str());
    }
    std::printf("\n");
  }
  std::printf("  resize: not exercised (the library has no resize yet)\n");

  const auto& events = injector.events();
  const long survived = std::count_if(events.begin(), events.end(), [](const FaultEvent& e) { return e.survived; });
  std::printf("faults: %zu injected, %ld survived\n", events.size(), survived);
  std::map<std::string, std::pair<int, int>> by_kind;
  double worst_recovery = 0;
  for (const auto& e : events) {
    auto& [n, ok] = by_kind[fault_name(e.kind)];
    ++n;
    ok += e.survived;
    worst_recovery = std::max(worst_recovery, e.recovery);
  }
  for (const auto& [k, v] : by_kind) std::printf("  %-12s %d/%d survived\n", k.c_str(), v.second, v.first);
  if (!events.empty()) std::printf("  slowest recovery %.1f s\n", worst_recovery);
  for (const auto& e : events)
    if (!e.survived) std::printf("  NOT SURVIVED at %.1f s: %s: %s\n", e.at, fault_name(e.kind), e.note.c_str());
  for (const auto& why : skipped) std::printf("  skipped %s\n", why.c_str());
  if (survived != static_cast<long>(events.size())) pass = false;
  if (events.empty() && !a.faults.empty()) std::printf("  (the run was too short for a fault)\n");

  std::printf("errors by type:\n");
  long untyped = 0;
  for (const auto& st : stores) {
    const StoreCounters& c = ledger->stores[st.index];
    std::string line;
    for (int k = 0; k < kErrorKindCount; ++k) {
      const auto n = c.errors[k].load();
      if (n == 0) continue;
      line += std::string(line.empty() ? "" : ", ") + error_kind_name(k) + " " + std::to_string(n);
      if (k == kIoError) {
        std::string codes;
        for (int code = 0; code < kIoCodes; ++code)
          if (auto m = c.io_codes[code].load())
            codes += (codes.empty() ? "" : " ") + std::to_string(code) + ":" + std::to_string(m);
        line += " (code:count " + codes + ")";
      }
      if (k == kUntyped) untyped += static_cast<long>(n);
    }
    std::printf("  %-5s %s\n", st.kind.c_str(), line.empty() ? "none" : line.c_str());
    for (int k = 0; k < kErrorKindCount; ++k)
      if (c.sample_taken[k].load() && k != kIoError)
        std::printf("        first %s: %s\n", error_kind_name(k), c.sample[k]);
    for (int i = 0; i < 8; ++i)
      if (const int code = c.io_sample_code[i].load())
        std::printf("        first IoError code %d: %s\n", code - 1, c.io_sample[i]);
  }
  if (untyped > 0) {
    std::printf("  FAIL: %ld failures were not dosna errors\n", untyped);
    pass = false;
  }

  std::printf("ledger check of the shared datasets (each element: acked <= write <= attempted):\n");
  for (std::size_t i = 0; i < stores.size(); ++i) {
    const Findings& f = shared[i];
    const StoreCounters& c = ledger->stores[stores[i].index];
    std::printf("  %-5s %ld elements: lost %ld, torn %ld, misplaced %ld, phantom %ld; unacked writes landed in %ld elements; "
                "wrong data seen while running %llu\n",
                stores[i].kind.c_str(), f.elements, f.lost, f.torn, f.misplaced, f.phantom, f.unacked,
                static_cast<unsigned long long>(c.violations.load()));
    if (!f.ok()) std::printf("        FAIL: %s\n", f.first.c_str());
    if (c.violations.load()) std::printf("        FAIL: %s\n", c.violation);
    if (!f.ok() || c.violations.load()) pass = false;
  }
  std::printf("created/copied datasets at the end:\n");
  for (std::size_t i = 0; i < stores.size(); ++i) {
    const ChurnFindings& f = churned[i];
    std::printf("  %-5s live and intact %ld, deleted and gone %ld, failed ops cleaned up %ld; lost %ld, resurrected %ld, "
                "leftovers %ld\n",
                stores[i].kind.c_str(), f.live_ok, f.deleted_ok, f.unknown_removed, f.lost, f.resurrected, f.leftovers);
    if (f.lost || f.resurrected) {
      std::printf("        FAIL: %s\n", f.first.c_str());
      pass = false;
    } else if (f.leftovers) {
      std::printf("        note: %s\n", f.leftover.c_str());
    }
  }

  const auto child_problems = children.problems();
  std::printf("writer processes: %d, respawned %ld (SIGKILLed by the schedule or died)\n", s.processes,
              children.respawns());
  for (const auto& p : child_problems) std::printf("  FAIL: %s\n", p.c_str());
  for (const auto& p : problems) std::printf("  FAIL: %s\n", p.c_str());
  if (!child_problems.empty() || !problems.empty()) pass = false;

  long start_rss = rss.empty() ? rss_end : rss.front().bytes, warm = -1, peak = 0;
  for (const auto& r : rss) {
    if (r.t >= rss_warmup_t) {
      if (warm < 0) warm = r.bytes;
      peak = std::max(peak, r.bytes);
    }
  }
  if (warm < 0) warm = peak = rss_end;
  peak = std::max(peak, rss_end);
  const bool rss_ok = mib(peak - warm) <= a.rss_growth_mib;
  std::printf("RSS of the soak process (MiB): start %.1f, after warm-up (%.0f s) %.1f, peak after warm-up %.1f, end %.1f; "
              "bound: warm-up + %.0f -> %s\n",
              mib(start_rss), rss_warmup_t, mib(warm), mib(peak), mib(rss_end), a.rss_growth_mib,
              rss_ok ? "ok" : "EXCEEDED");
  std::printf("RSS peak of a writer process (MiB): %.1f\n", mib(child_rss_peak));
  if (!rss_ok) pass = false;
  std::printf("result: %s\n", pass ? "PASS" : "FAIL");
  std::fflush(stdout);
  if (own_work && pass) std::filesystem::remove_all(a.work);
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace dosna::soak

int main(int argc, char** argv) {
  const dosna::soak::Args args = dosna::soak::parse(argc, argv);
  if (args.child >= 0) return dosna::soak::child_main(args);
  return dosna::soak::parent_main(args);
}
