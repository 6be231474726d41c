// Nothing lost: K writers (threads, or separate processes each with its own
// Connection) write many small, randomly placed boxes that are disjoint in
// elements but share chunks, for a bounded time; then the dataset must equal,
// element by element, what every writer was acknowledged to have written.
// Repeated over several seeds for every compiled backend (ram: threads only,
// a ram store cannot be shared between processes).
//
// Element values encode (pass, element): a stale chunk shows up as an older
// pass or the fill value, a misplaced box as a wrong element number.
//
// Knobs (environment): DOSNA_STRESS_SECONDS (per seed, default 0.7),
// DOSNA_STRESS_SEEDS (default 3), DOSNA_STRESS_WRITERS (default 4).
//
// The control cases run the same load through a wrapper that bypasses every
// lock (plain get + put, and a private in-process lock key) and expect loss:
// they prove the check can see a lost update.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <csignal>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <random>
#include <thread>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/box_plan.h"
#include "support/stores.h"

extern char** environ;

namespace dosna {
namespace {

using Clock = std::chrono::system_clock;

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atof(v) : fallback;
}

// The dataset and its partition into boxes, each owned by one writer; element
// values encode (pass, element).
struct Plan : testing::BoxPlan {
  Plan(std::uint64_t seed, int writers) : BoxPlan({24, 30, 20}, {8, 10, 7}, seed, writers) {}

  static std::int64_t value(int pass, std::int64_t flat) {
    return (static_cast<std::int64_t>(pass + 1) << 32) | (flat + 1);
  }

  NdArray values(std::size_t box, int pass) const {
    return BoxPlan::values(box, [pass](std::int64_t f) { return value(pass, f); });
  }
};

// A backend whose chunk stores do read-modify-writes as a plain get + put,
// under an in-process lock key of its own: no protection at all.
class NaiveStore final : public ChunkStore {
 public:
  explicit NaiveStore(std::shared_ptr<ChunkStore> inner) : inner_(std::move(inner)) {}
  // The pause widens the read-to-write window so that the control loses
  // updates even on a busy or sanitised run.
  ChunkData get(const ChunkIndex& i) override {
    ChunkData d = inner_->get(i);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return d;
  }
  void put(const ChunkIndex& i, ChunkData d) override { inner_->put(i, std::move(d)); }
  bool has(const ChunkIndex& i) override { return inner_->has(i); }
  bool remove(const ChunkIndex& i) override { return inner_->remove(i); }
  std::vector<ChunkIndex> list() override { return inner_->list(); }

 private:
  std::shared_ptr<ChunkStore> inner_;
};

class NaiveBackend final : public Backend {
 public:
  NaiveBackend(std::shared_ptr<Backend> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)) {}
  std::string_view kind() const override { return inner_->kind(); }
  const std::string& name() const override { return name_; }
  void connect() override { inner_->connect(); }
  void disconnect() noexcept override { inner_->disconnect(); }
  bool connected() const override { return inner_->connected(); }
  void create_dataset(const std::string& d, const DatasetMeta& m) override {
    inner_->create_dataset(d, m);
  }
  std::optional<DatasetMeta> read_dataset(const std::string& d) override {
    return inner_->read_dataset(d);
  }
  void delete_dataset(const std::string& d) override { inner_->delete_dataset(d); }
  std::vector<std::string> list_datasets() override { return inner_->list_datasets(); }
  std::shared_ptr<ChunkStore> chunks(const std::string& d, const DatasetMeta& m) override {
    return std::make_shared<NaiveStore>(inner_->chunks(d, m));
  }

 private:
  std::shared_ptr<Backend> inner_;
  std::string name_;
};

Connection open(const ConnectionConfig& config, bool naive) {
  if (!naive) {
    Connection con(config);
    con.connect();
    return con;
  }
  static std::atomic<int> counter{0};
  auto inner = make_backend(config.backend, config.name, config.options);
  Connection con(std::make_shared<NaiveBackend>(
                     inner, "naive-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)),
                 make_engine(config.engine, config.engine_options));
  con.connect();
  return con;
}

// What one writer was acknowledged for: the last pass of each of its boxes
// (-1 = never written), and how many box writes it made.
struct Acked {
  std::map<std::size_t, int> last_pass;
  long writes = 0;
};

Acked run_writer(const Plan& plan, int writer, std::uint64_t seed, Dataset ds,
                 Clock::time_point start, Clock::time_point end) {
  std::vector<std::size_t> mine;
  for (std::size_t b = 0; b < plan.boxes.size(); ++b)
    if (plan.owner[b] == writer) mine.push_back(b);
  std::mt19937_64 rng(seed * 1000 + static_cast<std::uint64_t>(writer));
  Acked acked;
  std::this_thread::sleep_until(start);
  for (int pass = 0;; ++pass) {
    std::shuffle(mine.begin(), mine.end(), rng);
    for (std::size_t b : mine) {
      // At least one write each: a writer process that started late under
      // load still takes part.
      if (Clock::now() >= end && acked.writes > 0) return acked;
      ds.write(plan.selection(b), plan.values(b, pass));
      acked.last_pass[b] = pass;
      ++acked.writes;
    }
  }
}

struct Outcome {
  long writes = 0;
  long lost = 0;  // elements differing from the acknowledged union
  std::string first_diff;
};

Outcome verify(const Plan& plan, Dataset ds, const std::vector<Acked>& acked) {
  std::vector<std::int64_t> expected(static_cast<std::size_t>(plan.size()), 0);
  Outcome out;
  for (const Acked& a : acked) {
    out.writes += a.writes;
    for (auto [b, pass] : a.last_pass) {
      plan.for_each(b, [&, pass = pass](std::int64_t f) {
        expected[static_cast<std::size_t>(f)] = Plan::value(pass, f);
      });
    }
  }
  const NdArray back = ds.read();
  const auto got = back.values<std::int64_t>();
  for (std::size_t f = 0; f < expected.size(); ++f) {
    if (got[f] == expected[f]) continue;
    if (out.lost++ == 0) {
      out.first_diff = "element " + std::to_string(f) + ": got pass " +
                       std::to_string((got[f] >> 32) - 1) + " elem " +
                       std::to_string((got[f] & 0xffffffff) - 1) + ", expected pass " +
                       std::to_string((expected[f] >> 32) - 1);
    }
  }
  return out;
}

// --- the child side of the process mode ---------------------------------

// A writer process: `dosna_tests --gtest_filter=LostUpdateChild.Writer` with
// DOSNA_LOST_UPDATE_SPEC naming a key=value file written by the parent.
std::map<std::string, std::string> read_spec(const std::string& path) {
  std::map<std::string, std::string> spec;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) spec[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return spec;
}

TEST(LostUpdateChild, Writer) {
  const char* spec_path = std::getenv("DOSNA_LOST_UPDATE_SPEC");
  if (!spec_path) GTEST_SKIP() << "only run as a writer process by LostUpdate.*";
  auto spec = read_spec(spec_path);
  ConnectionConfig config;
  config.backend = spec.at("backend");
  config.name = spec.at("name");
  for (const auto& [k, v] : spec)
    if (k.starts_with("opt.")) config.options[k.substr(4)] = v;
  if (spec.count("hold")) {
    // Take chunk (0,0,0)'s lock in update(), say so, and wait to be killed.
    Connection con(config);
    con.connect();
    const std::string dataset = spec.at("dataset");
    auto store = con.backend().chunks(dataset, *con.backend().read_dataset(dataset));
    store->update({0, 0, 0}, [&](const ChunkData& current) {
      std::ofstream(spec.at("hold")) << "holding\n";
      std::this_thread::sleep_for(std::chrono::seconds(120));
      return current;
    });
    FAIL() << "was not killed";
  }
  const std::uint64_t seed = std::stoull(spec.at("seed"));
  const int writer = std::stoi(spec.at("writer"));
  const Plan plan(seed, std::stoi(spec.at("writers")));
  const Clock::time_point start{std::chrono::milliseconds(std::stoll(spec.at("start_ms")))};
  const Clock::time_point end{std::chrono::milliseconds(std::stoll(spec.at("end_ms")))};
  Connection con = open(config, spec.at("naive") == "1");
  Acked acked =
      run_writer(plan, writer, seed, con.get_dataset(spec.at("dataset")), start, end);
  std::ofstream out(spec.at("out"));
  out << acked.writes << "\n";
  for (auto [b, pass] : acked.last_pass) out << b << " " << pass << "\n";
  out.close();
  ASSERT_TRUE(out) << "cannot write " << spec.at("out");
}

// --- the parent side -----------------------------------------------------

enum class Mode { kThreads, kProcesses };

std::int64_t epoch_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Starts this test binary as a child running LostUpdateChild.Writer with the
// spec file `spec_path`; its stdout and stderr go to `log`.
pid_t spawn_child(const std::string& spec_path, const std::string& log) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (!std::string_view(*e).starts_with("DOSNA_LOST_UPDATE_SPEC=")) env.emplace_back(*e);
  env.push_back("DOSNA_LOST_UPDATE_SPEC=" + spec_path);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe", filter = "--gtest_filter=LostUpdateChild.Writer",
              brief = "--gtest_brief=1";
  char* argv[] = {exe.data(), filter.data(), brief.data(), nullptr};
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &files, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) throw std::runtime_error("posix_spawn: " + std::to_string(rc));
  return pid;
}

std::vector<Acked> run_processes(const testing::TestStore& store, const std::string& dataset,
                                 std::uint64_t seed, int writers, bool naive,
                                 Clock::time_point start, Clock::time_point end) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          testing::unique_name("lost-update");
  std::filesystem::create_directories(dir);
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    const std::string spec_path = dir + "/spec" + std::to_string(w);
    std::ofstream spec(spec_path);
    spec << "backend=" << store.config.backend << "\nname=" << store.config.name
         << "\ndataset=" << dataset << "\nseed=" << seed << "\nwriter=" << w
         << "\nwriters=" << writers << "\nnaive=" << (naive ? 1 : 0)
         << "\nstart_ms=" << epoch_ms(start) << "\nend_ms=" << epoch_ms(end) << "\nout=" << dir
         << "/out" << w << "\n";
    for (const auto& [k, v] : store.config.options) spec << "opt." << k << "=" << v << "\n";
    spec.close();
    const pid_t pid = spawn_child(spec_path, dir + "/log" + std::to_string(w));
    pids.push_back(pid);
  }
  std::vector<Acked> acked(static_cast<std::size_t>(writers));
  std::string failed;
  for (int w = 0; w < writers; ++w) {
    int status = 0;
    ::waitpid(pids[static_cast<std::size_t>(w)], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ifstream log(dir + "/log" + std::to_string(w));
      failed += "\nwriter " + std::to_string(w) + " status " + std::to_string(status) + ":\n" +
                std::string(std::istreambuf_iterator<char>(log), {});
      continue;
    }
    std::ifstream in(dir + "/out" + std::to_string(w));
    in >> acked[static_cast<std::size_t>(w)].writes;
    std::size_t b;
    int pass;
    while (in >> b >> pass) acked[static_cast<std::size_t>(w)].last_pass[b] = pass;
  }
  std::filesystem::remove_all(dir);
  if (!failed.empty()) throw std::runtime_error("writer processes failed:" + failed);
  return acked;
}

struct Totals {
  int seeds = 0;
  long writes = 0, lost = 0;
  std::string first_diff;
};

Totals stress(const std::string& backend, Mode mode, bool naive, int seeds) {
  const int writers = static_cast<int>(env_double("DOSNA_STRESS_WRITERS", 4));
  const double seconds = env_double("DOSNA_STRESS_SECONDS", 0.7);
  testing::TestStore store = testing::make_test_store(backend);
  Totals totals;
  Connection con(store.config);
  con.connect();
  for (int s = 0; s < seeds; ++s) {
    const std::uint64_t seed = 1000 + static_cast<std::uint64_t>(s) * 7919;
    const Plan plan(seed, writers);
    const std::string dataset = testing::unique_name("lost");
    Dataset ds = con.create_dataset(dataset, plan.shape, DType::of<std::int64_t>(), plan.chunks);
    const auto start = Clock::now() + std::chrono::milliseconds(mode == Mode::kThreads ? 20 : 400);
    const auto end = start + std::chrono::microseconds(static_cast<long>(seconds * 1e6));
    std::vector<Acked> acked(static_cast<std::size_t>(writers));
    if (mode == Mode::kThreads) {
      std::vector<std::thread> threads;
      std::vector<std::exception_ptr> errors(static_cast<std::size_t>(writers));
      for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
          try {
            Connection mine = open(store.config, naive);
            acked[static_cast<std::size_t>(w)] =
                run_writer(plan, w, seed, mine.get_dataset(dataset), start, end);
          } catch (...) {
            errors[static_cast<std::size_t>(w)] = std::current_exception();
          }
        });
      }
      for (auto& t : threads) t.join();
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    } else {
      acked = run_processes(store, dataset, seed, writers, naive, start, end);
    }
    Outcome o = verify(plan, ds, acked);
    std::printf("[lost-update] backend=%s mode=%s%s writers=%d seed=%llu boxes=%ld lost=%ld%s%s\n",
                backend.c_str(), mode == Mode::kThreads ? "threads" : "processes",
                naive ? " (naive control)" : "", writers, static_cast<unsigned long long>(seed),
                o.writes, o.lost, o.first_diff.empty() ? "" : " first: ", o.first_diff.c_str());
    ++totals.seeds;
    totals.writes += o.writes;
    totals.lost += o.lost;
    if (totals.first_diff.empty()) totals.first_diff = o.first_diff;
    con.del_dataset(dataset);
  }
  con.disconnect();
  store.cleanup();
  return totals;
}

class LostUpdate : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    testing::TestStore probe = testing::make_test_store(GetParam());
    probe.cleanup();
    if (!probe.skip_reason.empty()) {
      if (testing::services_required()) FAIL() << probe.skip_reason;
      GTEST_SKIP() << probe.skip_reason;
    }
  }
  int seeds() const { return static_cast<int>(env_double("DOSNA_STRESS_SEEDS", 3)); }
};

TEST_P(LostUpdate, ThreadsLoseNothing) {
  const Totals t = stress(GetParam(), Mode::kThreads, false, seeds());
  EXPECT_GT(t.writes, 0);
  EXPECT_EQ(t.lost, 0) << t.first_diff;
}

TEST_P(LostUpdate, ProcessesLoseNothing) {
  if (GetParam() == "ram") GTEST_SKIP() << "a ram store lives in one process";
  const Totals t = stress(GetParam(), Mode::kProcesses, false, seeds());
  EXPECT_GT(t.writes, 0);
  EXPECT_EQ(t.lost, 0) << t.first_diff;
}

// The check sees lost updates when nothing protects the read-modify-write.
TEST(LostUpdateControl, UnprotectedThreadsLoseUpdates) {
  const Totals t = stress("ram", Mode::kThreads, true, 1);
  EXPECT_GT(t.lost, 0) << "the stress load cannot detect a lost update";
}

TEST(LostUpdateControl, UnprotectedHdf5ProcessesLoseUpdates) {
  const auto backends = available_backends();
  if (std::find(backends.begin(), backends.end(), "hdf5") == backends.end())
    GTEST_SKIP() << "hdf5 not built";
  const Totals t = stress("hdf5", Mode::kProcesses, true, 1);
  EXPECT_GT(t.lost, 0) << "the stress load cannot detect a lost update";
}

// A writer SIGKILLed while it holds a chunk's lock inside update() leaves
// nothing locked: the kernel drops its lock and the next writer proceeds.
TEST(Hdf5LockCrash, KilledLockHolderDoesNotBlockOtherWriters) {
  const auto backends = available_backends();
  if (std::find(backends.begin(), backends.end(), "hdf5") == backends.end())
    GTEST_SKIP() << "hdf5 not built";
  testing::TestStore store = testing::make_test_store("hdf5");
  Connection con(store.config);
  con.connect();
  Dataset ds = con.create_dataset("held", {8, 8, 8}, DType::of<std::int32_t>(), {4, 4, 4}, 0);
  ds.write({1, 1, 1}, Scalar(7));
  const std::string dir = store.config.options.at("directory");
  {
    std::ofstream spec(dir + "/spec");
    spec << "backend=hdf5\nname=" << store.config.name << "\ndataset=held\nhold=" << dir
         << "/holding\n";
    for (const auto& [k, v] : store.config.options) spec << "opt." << k << "=" << v << "\n";
  }
  const pid_t pid = spawn_child(dir + "/spec", dir + "/log");
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(dir + "/holding") && Clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(std::filesystem::exists(dir + "/holding")) << "the child never took the lock";
  // While the child holds it, a partial write of that chunk waits.
  auto blocked = std::async(std::launch::async, [&] { ds.write({2, 2, 2}, Scalar(9)); });
  EXPECT_EQ(blocked.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "a partial write did not wait for the chunk lock";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_EQ(blocked.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the lock outlived its killed holder";
  blocked.get();
  EXPECT_EQ(ds.read({slice(0, 4), slice(0, 4), slice(0, 4)}).values<std::int32_t>()[1 * 16 + 1 * 4 + 1], 7);
  EXPECT_EQ(ds.read({2, 2, 2}).values<std::int32_t>()[0], 9);
  con.disconnect();
  store.cleanup();
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, LostUpdate, ::testing::ValuesIn(available_backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dosna
