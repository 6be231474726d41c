#include "soak/workload.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include "dosna/errors.h"

namespace dosna::soak {
namespace {

using testing::Box;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void pause_ms(double ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(ms * 1000)));
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::mt19937_64 worker_rng(const Settings& s, const StoreSpec& store, int role) {
  return std::mt19937_64(splitmix(s.seed ^ (static_cast<std::uint64_t>(::getpid()) << 20) ^
                                  (static_cast<std::uint64_t>(store.index) << 8) ^
                                  static_cast<std::uint64_t>(role)));
}

// A connected Connection, retried until `end`; nullopt if it never came up.
std::optional<Connection> connect_until(const StoreSpec& store, StoreCounters& c,
                                        const std::string& engine, Clock::time_point end) {
  ConnectionConfig config = store.config;
  config.engine = engine;
  if (engine == "threads") config.engine_options = {{"njobs", "2"}};
  while (Clock::now() < end) {
    try {
      Connection con(config);
      con.connect();
      return con;
    } catch (...) {
      record_failure(c, kOpen, std::current_exception());
      pause_ms(200);
    }
  }
  return std::nullopt;
}

// The shared dataset, opened again after a failure until `end`.
std::optional<Dataset> open_shared(Connection& con, const Settings& s, StoreCounters& c,
                                   Clock::time_point end) {
  while (Clock::now() < end) {
    try {
      return con.get_dataset(shared_name(s));
    } catch (...) {
      record_failure(c, kOpen, std::current_exception());
      pause_ms(200);
    }
  }
  return std::nullopt;
}

Selection box_selection(const Shape& start, const Shape& count) {
  std::vector<IndexItem> items;
  for (std::size_t d = 0; d < start.size(); ++d) items.emplace_back(slice(start[d], start[d] + count[d]));
  return Selection(std::move(items));
}

std::string where(const Shape& shape, std::int64_t flat) {
  const std::int64_t k = flat % shape[2], j = (flat / shape[2]) % shape[1],
                     i = flat / (shape[1] * shape[2]);
  return "element (" + std::to_string(i) + "," + std::to_string(j) + "," + std::to_string(k) + ")";
}

// --- churn datasets --------------------------------------------------------

NdArray churn_content(const ChurnRecord& r) {
  NdArray a(DType::of<std::int32_t>(), r.shape);
  auto v = a.values<std::int32_t>();
  for (std::size_t f = 0; f < v.size(); ++f)
    v[f] = static_cast<std::int32_t>(splitmix(r.content + f));
  return a;
}

bool same_content(const ChurnRecord& r, const NdArray& got) {
  if (got.shape() != r.shape || got.dtype() != DType::of<std::int32_t>()) return false;
  const NdArray want = churn_content(r);
  return std::ranges::equal(got.values<std::int32_t>(), want.values<std::int32_t>());
}

bool is_dataset_not_found(std::exception_ptr e) { return classify(e) == kDatasetNotFound; }

}  // namespace

StoreSpec make_store(const std::string& kind, const Settings& s) {
  StoreSpec store;
  const auto* it = std::find_if(std::begin(kStoreKinds), std::end(kStoreKinds),
                                [&](const char* k) { return kind == k; });
  if (it == std::end(kStoreKinds))
    throw std::runtime_error("unknown store '" + kind + "' (ram, hdf5, ceph, s3)");
  store.index = static_cast<int>(it - std::begin(kStoreKinds));
  store.kind = kind;
  store.config.backend = kind;
  store.multi_process = kind != "ram";
  if (kind == "ram") {
    store.config.name = s.prefix;
  } else if (kind == "hdf5") {
    if (s.hdf5_dir.empty()) throw std::runtime_error("hdf5: no --hdf5-dir");
    std::filesystem::create_directories(std::filesystem::path(s.hdf5_dir) / "store");
    store.config.name = "store";
    store.config.options = {{"directory", s.hdf5_dir}};
  } else if (kind == "ceph") {
    if (env("CEPH_CONF").empty() || env("DOSNA_CEPH_POOL").empty())
      throw std::runtime_error("ceph: CEPH_CONF and DOSNA_CEPH_POOL must be set (source the env.sh of "
                               "scripts/local-services.sh, or run scripts/soak.sh)");
    store.config.name = env("DOSNA_CEPH_POOL");
    store.config.options = {{"conffile", env("CEPH_CONF")},
                            {"op_timeout", std::to_string(s.ceph_op_timeout)}};
  } else {
    if (env("DOSNA_S3_ENDPOINT").empty())
      throw std::runtime_error("s3: DOSNA_S3_ENDPOINT (and AWS_* keys) must be set (source the env.sh "
                               "of scripts/local-services.sh, or run scripts/soak.sh)");
    store.config.name = s.prefix;
    store.config.options = {{"endpoint_url", env("DOSNA_S3_ENDPOINT")}};
  }
  return store;
}

std::string shared_name(const Settings& s) { return s.prefix + "-shared"; }

int writer_count(const StoreSpec& store, const Settings& s) {
  return s.threads + (store.multi_process ? s.processes : 0);
}

testing::BoxPlan shared_plan(const StoreSpec& store, const Settings& s) {
  testing::BoxPlan plan({24, 30, 20}, {8, 10, 7}, s.seed, std::max(1, writer_count(store, s)));
  if (plan.boxes.size() > kMaxBoxes || plan.size() >= (std::int64_t{1} << kFlatBits))
    throw std::logic_error("shared plan larger than the ledger");
  return plan;
}

std::vector<std::uint32_t> box_index(const testing::BoxPlan& plan) {
  std::vector<std::uint32_t> box_of(static_cast<std::size_t>(plan.size()));
  for (std::size_t b = 0; b < plan.boxes.size(); ++b)
    plan.for_each(b, [&](std::int64_t f) { box_of[static_cast<std::size_t>(f)] = static_cast<std::uint32_t>(b); });
  return box_of;
}

void run_writer(const StoreSpec& store, const Settings& s, Shared& ledger, int writer,
                Clock::time_point end, ChildSlot* child) {
  StoreCounters& c = ledger.stores[store.index];
  const testing::BoxPlan plan = shared_plan(store, s);
  std::vector<std::size_t> mine;
  for (std::size_t b = 0; b < plan.boxes.size(); ++b)
    if (plan.owner[b] == writer) mine.push_back(b);
  if (mine.empty()) return;
  std::mt19937_64 rng = worker_rng(s, store, 100 + writer);
  // Odd writers split their writes across the threads engine.
  auto con = connect_until(store, c, writer % 2 ? "threads" : "cpu", end);
  if (!con) return;
  std::optional<Dataset> ds;
  while (Clock::now() < end) {
    if (!ds && !(ds = open_shared(*con, s, c, end))) return;
    const std::size_t b = mine[rng() % mine.size()];
    BoxSlot& slot = ledger.boxes[store.index][b];
    const std::uint64_t seq = slot.attempted.load() + 1;
    slot.attempted.store(seq);
    const NdArray values = plan.values(b, [seq](std::int64_t f) { return encode(seq, f); });
    try {
      ds->write(plan.selection(b), values);
      slot.acked.store(seq);
      c.ok[kWrite].fetch_add(1);
      if (child) child->acked_writes.fetch_add(1);
    } catch (...) {
      record_failure(c, kWrite, std::current_exception());
      if (child) child->failed_writes.fetch_add(1);
      pause_ms(50);
    }
    pause_ms(s.pace_ms);
  }
}

Findings check_values(const testing::BoxPlan& plan, const std::vector<std::uint32_t>& box_of,
                      const Shape& start, const Shape& count, const std::int64_t* values,
                      const std::vector<std::uint64_t>& floor,
                      const std::vector<std::uint64_t>& ceiling) {
  Findings out;
  // (box, chunk) -> the first seq seen there, and whether the pair is torn.
  std::map<std::pair<std::uint32_t, std::int64_t>, std::pair<std::uint64_t, bool>> seq_in_chunk;
  const Shape grid{(plan.shape[0] + plan.chunks[0] - 1) / plan.chunks[0],
                   (plan.shape[1] + plan.chunks[1] - 1) / plan.chunks[1],
                   (plan.shape[2] + plan.chunks[2] - 1) / plan.chunks[2]};
  auto note = [&](long& counter, const std::string& what) {
    if (counter++ == 0 && out.first.empty()) out.first = what;
  };
  std::size_t n = 0;
  for (std::int64_t i = start[0]; i < start[0] + count[0]; ++i)
    for (std::int64_t j = start[1]; j < start[1] + count[1]; ++j)
      for (std::int64_t k = start[2]; k < start[2] + count[2]; ++k) {
        const std::int64_t f = plan.flat(i, j, k);
        const std::int64_t v = values[n++];
        const std::uint32_t b = box_of[static_cast<std::size_t>(f)];
        ++out.elements;
        std::uint64_t seq = 0;
        const std::string at = where(plan.shape, f) + " of box " + std::to_string(b);
        if (v == 0) {
          if (floor[b] > 0)
            note(out.lost, at + " holds the fill value; write " + std::to_string(floor[b]) +
                               " of its box was acknowledged");
        } else if (flat_of(v) != f || seq_of(v) == 0) {
          note(out.misplaced, at + " holds " + std::to_string(v) + " (" +
                                  (flat_of(v) == f ? "no sequence number" : where(plan.shape, flat_of(v))) +
                                  "'s value)");
          continue;
        } else {
          seq = seq_of(v);
          if (seq < floor[b]) {
            note(out.lost, at + " holds write " + std::to_string(seq) + "; write " +
                               std::to_string(floor[b]) + " was acknowledged");
          } else if (seq > ceiling[b]) {
            note(out.phantom, at + " holds write " + std::to_string(seq) + "; only " +
                                  std::to_string(ceiling[b]) + " were attempted");
          } else if (seq > floor[b]) {
            ++out.unacked;
          }
        }
        const std::int64_t chunk =
            ((i / plan.chunks[0]) * grid[1] + j / plan.chunks[1]) * grid[2] + k / plan.chunks[2];
        auto [it, fresh] = seq_in_chunk.emplace(std::pair{b, chunk}, std::pair{seq, false});
        if (!fresh && it->second.first != seq && !it->second.second) {
          it->second.second = true;
          note(out.torn, at + " holds write " + std::to_string(seq) + ", another element of its box in chunk " +
                             std::to_string(chunk) + " holds write " + std::to_string(it->second.first));
        }
      }
  return out;
}

void run_reader(const StoreSpec& store, const Settings& s, Shared& ledger, Clock::time_point end) {
  StoreCounters& c = ledger.stores[store.index];
  const testing::BoxPlan plan = shared_plan(store, s);
  const std::vector<std::uint32_t> box_of = box_index(plan);
  std::vector<std::uint64_t> floor(plan.boxes.size()), ceiling(plan.boxes.size());
  std::mt19937_64 rng = worker_rng(s, store, 1);
  auto con = connect_until(store, c, "cpu", end);
  if (!con) return;
  std::optional<Dataset> ds;
  for (long reads = 0; Clock::now() < end; ++reads) {
    if (!ds && !(ds = open_shared(*con, s, c, end))) return;
    Shape start(3), count(3);
    for (std::size_t d = 0; d < 3; ++d) {
      if (reads % 25 == 0) {
        start[d] = 0;
        count[d] = plan.shape[d];
      } else {
        start[d] = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(plan.shape[d]));
        count[d] = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(
                               std::min<std::int64_t>(12, plan.shape[d] - start[d])));
      }
    }
    // Every box is snapshotted: cheap next to the read, and simpler than
    // finding the boxes the region touches.
    for (std::size_t b = 0; b < plan.boxes.size(); ++b) floor[b] = ledger.boxes[store.index][b].acked.load();
    try {
      const NdArray got = ds->read(box_selection(start, count));
      for (std::size_t b = 0; b < plan.boxes.size(); ++b)
        ceiling[b] = ledger.boxes[store.index][b].attempted.load();
      c.ok[kRead].fetch_add(1);
      const Findings f = check_values(plan, box_of, start, count, got.values<std::int64_t>().data(),
                                      floor, ceiling);
      if (!f.ok()) record_violation(c, store.kind + " read while writing: " + f.first);
    } catch (...) {
      record_failure(c, kRead, std::current_exception());
      pause_ms(50);
    }
    pause_ms(2 * s.pace_ms);
  }
}

Findings verify_shared(const StoreSpec& store, const Settings& s, Shared& ledger,
                       std::chrono::seconds patience) {
  StoreCounters& c = ledger.stores[store.index];
  const testing::BoxPlan plan = shared_plan(store, s);
  const std::vector<std::uint32_t> box_of = box_index(plan);
  std::vector<std::uint64_t> floor(plan.boxes.size()), ceiling(plan.boxes.size());
  for (std::size_t b = 0; b < plan.boxes.size(); ++b) {
    floor[b] = ledger.boxes[store.index][b].acked.load();
    ceiling[b] = ledger.boxes[store.index][b].attempted.load();
  }
  const auto give_up = Clock::now() + patience;
  std::string last;
  do {
    try {
      Connection con(store.config);
      con.connect();
      const NdArray got = con.get_dataset(shared_name(s)).read();
      c.ok[kRead].fetch_add(1);
      return check_values(plan, box_of, {0, 0, 0}, plan.shape, got.values<std::int64_t>().data(),
                          floor, ceiling);
    } catch (const std::exception& e) {
      record_failure(c, kRead, std::current_exception());
      last = e.what();
      pause_ms(1000);
    }
  } while (Clock::now() < give_up);
  Findings out;
  out.lost = 1;
  out.first = "could not read the shared dataset for " + std::to_string(patience.count()) + " s: " + last;
  return out;
}

void run_churn(const StoreSpec& store, const Settings& s, Shared& ledger, Clock::time_point end,
               ChurnLog& log) {
  StoreCounters& c = ledger.stores[store.index];
  std::mt19937_64 rng = worker_rng(s, store, 2);
  auto con = connect_until(store, c, "threads", end);
  if (!con) return;
  auto live = [&] {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < log.records.size(); ++i)
      if (log.records[i].state == ChurnRecord::kLive) out.push_back(i);
    return out;
  };
  auto fresh_name = [&] { return s.prefix + "-c" + std::to_string(log.next_id++); };
  auto gone = [](const ChurnRecord& r) {
    return r.state == ChurnRecord::kDeleted || r.state == ChurnRecord::kRemoved;
  };
  // Checks the oldest deleted datasets absent and drops them, keeping 64.
  auto forget = [&] {
    while (std::count_if(log.records.begin(), log.records.end(), gone) > 64) {
      const auto oldest = std::find_if(log.records.begin(), log.records.end(), gone);
      try {
        if (con->has_dataset(oldest->name))
          record_violation(c, store.kind + ": deleted dataset " + oldest->name + " exists again");
        c.ok[kList].fetch_add(1);
      } catch (...) {
        record_failure(c, kList, std::current_exception());
        return;
      }
      ++(oldest->state == ChurnRecord::kDeleted ? log.forgotten_deleted : log.forgotten_removed);
      log.records.erase(oldest);
    }
  };
  for (long round = 0; Clock::now() < end; ++round) {
    const std::vector<std::size_t> alive = live();
    const int r = static_cast<int>(rng() % 100);
    if (round % 10 == 9) {
      // Datasets whose create, copy or delete failed: remove them once the store lets us.
      for (auto& rec : log.records) {
        if (rec.state != ChurnRecord::kUnknown) continue;
        try {
          con->del_dataset(rec.name);
          c.ok[kDelete].fetch_add(1);
          rec.state = ChurnRecord::kRemoved;
        } catch (...) {
          if (is_dataset_not_found(std::current_exception())) {
            rec.state = ChurnRecord::kRemoved;
          } else {
            record_failure(c, kDelete, std::current_exception());
            break;
          }
        }
      }
    } else if (alive.size() < 2 || (r < 35 && alive.size() < 5)) {
      ChurnRecord rec;
      rec.name = fresh_name();
      for (int d = 0; d < 3; ++d) {
        const std::int64_t n = 3 + static_cast<std::int64_t>(rng() % 18);
        const std::int64_t min_chunk = (n + 2) / 3;
        rec.shape.push_back(n);
        rec.chunks.push_back(min_chunk + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n - min_chunk + 1)));
      }
      rec.fill = static_cast<std::int64_t>(rng() % 100) - 50;
      rec.content = rng();
      try {
        const NdArray data = churn_content(rec);
        Dataset ds = con->create_dataset(rec.name, data, rec.chunks, Scalar(rec.fill));
        c.ok[kCreate].fetch_add(1);
        log.records.push_back(rec);
        try {
          const NdArray back = ds.read();
          c.ok[kRead].fetch_add(1);
          if (!same_content(rec, back))
            record_violation(c, store.kind + ": dataset " + rec.name + " reads back other values right after its create");
        } catch (...) {
          record_failure(c, kRead, std::current_exception());
        }
      } catch (...) {
        record_failure(c, kCreate, std::current_exception());
        rec.state = ChurnRecord::kUnknown;
        log.records.push_back(rec);
      }
    } else if (r < 55 && alive.size() < 5) {
      const ChurnRecord& src = log.records[alive[rng() % alive.size()]];
      ChurnRecord rec = src;
      rec.name = fresh_name();
      try {
        con->get_dataset(src.name).clone(rec.name, true);
        c.ok[kCopy].fetch_add(1);
      } catch (...) {
        if (is_dataset_not_found(std::current_exception()))
          record_violation(c, store.kind + ": live dataset " + src.name + " not found to copy");
        record_failure(c, kCopy, std::current_exception());
        rec.state = ChurnRecord::kUnknown;
      }
      log.records.push_back(rec);
    } else if (r < 80) {
      ChurnRecord& victim = log.records[alive.front()];
      try {
        con->del_dataset(victim.name);
        c.ok[kDelete].fetch_add(1);
        victim.state = ChurnRecord::kDeleted;
      } catch (...) {
        if (is_dataset_not_found(std::current_exception()))
          record_violation(c, store.kind + ": live dataset " + victim.name + " not found to delete");
        record_failure(c, kDelete, std::current_exception());
        victim.state = ChurnRecord::kUnknown;
      }
    } else if (r < 90) {
      try {
        const std::vector<std::string> names = con->list_datasets();
        c.ok[kList].fetch_add(1);
        for (const auto& rec : log.records) {
          const bool listed = std::find(names.begin(), names.end(), rec.name) != names.end();
          if (rec.state == ChurnRecord::kLive && !listed)
            record_violation(c, store.kind + ": live dataset " + rec.name + " missing from list_datasets");
          if (gone(rec) && listed)
            record_violation(c, store.kind + ": deleted dataset " + rec.name + " listed again");
        }
      } catch (...) {
        record_failure(c, kList, std::current_exception());
      }
    } else {
      const ChurnRecord& rec = log.records[alive[rng() % alive.size()]];
      try {
        const NdArray back = con->get_dataset(rec.name).read();
        c.ok[kRead].fetch_add(1);
        if (!same_content(rec, back))
          record_violation(c, store.kind + ": live dataset " + rec.name + " reads other values");
      } catch (...) {
        if (is_dataset_not_found(std::current_exception()))
          record_violation(c, store.kind + ": live dataset " + rec.name + " not found to read");
        record_failure(c, kRead, std::current_exception());
      }
    }
    forget();
    pause_ms(10 * s.pace_ms);
  }
}

ChurnFindings verify_churn(const StoreSpec& store, const Settings& s, Shared& ledger,
                           ChurnLog& log, std::chrono::seconds patience) {
  (void)s;
  StoreCounters& c = ledger.stores[store.index];
  ChurnFindings out;
  out.deleted_ok = log.forgotten_deleted;
  out.unknown_removed = log.forgotten_removed;
  auto note = [&](long& counter, const std::string& what) {
    ++counter;
    std::string& first = &counter == &out.leftovers ? out.leftover : out.first;
    if (first.empty()) first = what;
  };
  const auto give_up = Clock::now() + patience;
  std::optional<Connection> con;
  // One step of the check, retried while the store fails (not for a clear
  // answer such as DatasetNotFound), until `give_up`.
  auto retry = [&](int op, auto&& step) -> std::exception_ptr {
    for (;;) {
      try {
        if (!con) {
          con.emplace(store.config);
          con->connect();
        }
        step();
        return nullptr;
      } catch (...) {
        std::exception_ptr e = std::current_exception();
        if (is_dataset_not_found(e) || Clock::now() >= give_up) return e;
        record_failure(c, op, e);
        con.reset();
        pause_ms(1000);
      }
    }
  };
  for (auto& rec : log.records) {
    if (rec.state == ChurnRecord::kLive) {
      bool same = false;
      std::exception_ptr e = retry(kRead, [&] { same = same_content(rec, con->get_dataset(rec.name).read()); });
      if (e) {
        note(out.lost, store.kind + ": live dataset " + rec.name + " unreadable at the end");
      } else if (!same) {
        note(out.lost, store.kind + ": live dataset " + rec.name + " holds other values at the end");
      } else {
        ++out.live_ok;
      }
      if (!retry(kDelete, [&] { con->del_dataset(rec.name); })) rec.state = ChurnRecord::kDeleted;
    } else if (rec.state == ChurnRecord::kDeleted || rec.state == ChurnRecord::kRemoved) {
      bool present = false;
      if (retry(kList, [&] { present = con->has_dataset(rec.name); }))
        note(out.leftovers, store.kind + ": cannot tell whether deleted dataset " + rec.name + " exists");
      else if (present)
        note(out.resurrected, store.kind + ": deleted dataset " + rec.name + " exists again");
      else
        ++(rec.state == ChurnRecord::kDeleted ? out.deleted_ok : out.unknown_removed);
    } else {
      std::exception_ptr e = retry(kDelete, [&] { con->del_dataset(rec.name); });
      if (!e || is_dataset_not_found(e)) {
        ++out.unknown_removed;
      } else {
        note(out.leftovers, store.kind + ": dataset " + rec.name + " of a failed operation cannot be removed: " +
                                error_kind_name(classify(e)));
      }
    }
  }
  return out;
}

bool probe(const StoreSpec& store, const Settings& s, Shared& ledger, int attempt) {
  StoreCounters& c = ledger.stores[store.index];
  const std::string name = s.prefix + "-probe" + std::to_string(attempt);
  try {
    Connection con(store.config);
    con.connect();
    Dataset ds = con.create_dataset(name, {6, 6, 6}, DType::of<std::int32_t>(), {4, 4, 4}, Scalar(3));
    ds.write({slice(1, 5), slice(1, 5), slice(1, 5)}, Scalar(attempt));
    const NdArray back = ds.read({slice(0, 5), 4, 4});
    const auto v = back.values<std::int32_t>();
    con.del_dataset(name);
    if (v[0] != 3 || v[1] != attempt || v[4] != attempt)
      record_violation(c, store.kind + ": probe dataset " + name + " read back other values");
    c.ok[kProbe].fetch_add(1);
    return true;
  } catch (...) {
    record_failure(c, kProbe, std::current_exception());
    try {
      Connection con(store.config);
      con.connect();
      con.del_dataset(name);
    } catch (...) {
    }
    return false;
  }
}

void sabotage_shared(const StoreSpec& store, const Settings& s, Shared& ledger, bool stale, bool torn) {
  const testing::BoxPlan plan = shared_plan(store, s);
  BoxSlot* slots = ledger.boxes[store.index];
  Connection con(store.config);
  con.connect();
  Dataset ds = con.get_dataset(shared_name(s));
  auto set_first = [&](std::size_t b, std::uint64_t seq) {
    const Shape& at = plan.boxes[b].start;
    NdArray one(DType::of<std::int64_t>(), {1, 1, 1});
    one.values<std::int64_t>()[0] = encode(seq, plan.flat(at[0], at[1], at[2]));
    ds.write({slice(at[0], at[0] + 1), slice(at[1], at[1] + 1), slice(at[2], at[2] + 1)}, one);
  };
  auto size = [&](std::size_t b) {
    const Box& box = plan.boxes[b];
    return box.count[0] * box.count[1] * box.count[2];
  };
  // The stale element is a box of its own, so that it is lost and not torn.
  std::size_t newest = plan.boxes.size();
  for (std::size_t b = 0; b < plan.boxes.size(); ++b)
    if (size(b) == 1 && (newest == plan.boxes.size() || slots[b].acked.load() > slots[newest].acked.load()))
      newest = b;
  if (newest == plan.boxes.size()) throw std::logic_error("no one-element box in the plan");
  if (stale && slots[newest].acked.load() >= 2) set_first(newest, slots[newest].acked.load() - 1);
  if (!torn) return;
  for (std::size_t b = 0; b < plan.boxes.size(); ++b) {
    const Box& box = plan.boxes[b];
    bool one_chunk = size(b) >= 2;
    for (std::size_t d = 0; d < 3; ++d)
      one_chunk = one_chunk && box.start[d] / plan.chunks[d] == (box.start[d] + box.count[d] - 1) / plan.chunks[d];
    if (!one_chunk) continue;
    set_first(b, slots[b].attempted.fetch_add(1) + 1);
    return;
  }
}

void remove_shared(const StoreSpec& store, const Settings& s) {
  try {
    Connection con(store.config);
    con.connect();
    con.del_dataset(shared_name(s));
  } catch (const std::exception&) {
  }
}

}  // namespace dosna::soak
