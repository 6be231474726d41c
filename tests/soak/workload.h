// The soak's workload on one store: partial writers on a shared dataset
// (threads here, and the same loop in writer processes), a reader that checks
// every value it sees against the ledger while the writers run, and a churn
// loop of creates, copies (Dataset::clone with data), deletes and listings
// whose outcomes it keeps for the final check.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "dosna/connection.h"
#include "soak/ledger.h"
#include "support/box_plan.h"

namespace dosna::soak {

using Clock = std::chrono::steady_clock;

// What the parent and every writer process agree on.
struct Settings {
  std::vector<std::string> stores;  // subset of kStoreKinds
  std::uint64_t seed = 1;
  int threads = 2;                  // writer threads per store in the soak process
  int processes = 2;                // writer processes (each writes every shared store)
  std::string prefix = "soak";      // dataset names: <prefix>-shared, <prefix>-c<N>, ...
  std::string hdf5_dir;             // parent of the hdf5 store directory "store"
  double ceph_op_timeout = 4;       // seconds (ceph option op_timeout)
  double pace_ms = 2;               // pause after every operation of a loop
};

struct StoreSpec {
  int index = 0;  // into kStoreKinds and the ledger
  std::string kind;
  ConnectionConfig config;
  bool multi_process = false;  // writer processes write it too (not ram)
};

// The store of `kind` configured from the settings and the environment
// (CEPH_CONF, DOSNA_CEPH_POOL, DOSNA_S3_ENDPOINT). Throws std::runtime_error
// naming what is missing.
StoreSpec make_store(const std::string& kind, const Settings& settings);

// The shared dataset: 24x30x20 int64 in 8x10x7 chunks, boxes owned by the
// store's writers (threads, then processes when multi_process).
std::string shared_name(const Settings& s);
int writer_count(const StoreSpec& store, const Settings& s);
testing::BoxPlan shared_plan(const StoreSpec& store, const Settings& s);

// Writes the boxes that `writer` owns, in random order, until `end`, each
// with its box's next sequence number (attempted before, acked after).
// `child` (writer processes) also counts its acks there.
void run_writer(const StoreSpec& store, const Settings& s, Shared& ledger, int writer,
                Clock::time_point end, ChildSlot* child);

// Reads random boxes of the shared dataset (now and then all of it) until
// `end` and checks every element: acked <= seq <= attempted, its own element,
// one sequence number per box within a chunk.
void run_reader(const StoreSpec& store, const Settings& s, Shared& ledger, Clock::time_point end);

// Findings of a check of the shared dataset's values against the ledger.
struct Findings {
  long elements = 0;
  long lost = 0;       // an acked write is not there (fill or older seq)
  long torn = 0;       // (box, chunk) pairs whose elements come from different writes
  long misplaced = 0;  // a value that belongs to another element, or garbage
  long phantom = 0;    // a seq never attempted
  long unacked = 0;    // a failed or killed write that did land (allowed)
  std::string first;
  bool ok() const { return lost + torn + misplaced + phantom == 0; }
};
// Checks `values` (int64, C order) of the box [start, start + count) of the
// shared dataset. `floor[b]`/`ceiling[b]`: acked / attempted of box b (read
// before / after the values were read).
Findings check_values(const testing::BoxPlan& plan, const std::vector<std::uint32_t>& box_of,
                      const Shape& start, const Shape& count, const std::int64_t* values,
                      const std::vector<std::uint64_t>& floor,
                      const std::vector<std::uint64_t>& ceiling);
// box_of[flat] = the box holding that element.
std::vector<std::uint32_t> box_index(const testing::BoxPlan& plan);

// The final check of one store's shared dataset (after every writer
// stopped): reads it, retrying failures for up to `patience`.
Findings verify_shared(const StoreSpec& store, const Settings& s, Shared& ledger,
                       std::chrono::seconds patience);

// One dataset the churn loop made, and what it knows of it.
struct ChurnRecord {
  std::string name;
  Shape shape, chunks;
  std::int64_t fill = 0;
  std::uint64_t content = 0;  // seed of the element values
  // kUnknown: its create, copy or delete failed, so it may exist, wholly or
  // partly; kRemoved: a kUnknown one deleted (or found absent) later.
  enum State { kLive, kDeleted, kUnknown, kRemoved } state = kLive;
};
// The datasets of one churn loop. Deleted ones are checked (absent) and
// forgotten once more than 64 are kept, so memory stays flat.
struct ChurnLog {
  std::vector<ChurnRecord> records;
  long next_id = 0;
  long forgotten_deleted = 0, forgotten_removed = 0;  // checked absent, then dropped
};

// Creates (with data), copies, deletes, lists and re-reads small datasets
// until `end`, keeping at most a few alive; a dataset whose create, copy or
// delete failed is kUnknown (it may exist, wholly or partly) and is deleted
// later when possible.
void run_churn(const StoreSpec& store, const Settings& s, Shared& ledger, Clock::time_point end,
               ChurnLog& log);

struct ChurnFindings {
  long live_ok = 0, deleted_ok = 0, unknown_removed = 0;
  long lost = 0;       // a live (acked) dataset missing or with other content
  long resurrected = 0;  // an acked delete undone
  long leftovers = 0;  // unknown datasets that could not be removed
  std::string first;     // the first lost or resurrected dataset
  std::string leftover;  // the first leftover
};
// Final check of the churn datasets; removes the live and unknown ones.
ChurnFindings verify_churn(const StoreSpec& store, const Settings& s, Shared& ledger,
                           ChurnLog& log, std::chrono::seconds patience);

// A tiny dataset created, partly written, read back and deleted: true when
// all of it worked and read back right (failures are counted as kProbe).
bool probe(const StoreSpec& store, const Settings& s, Shared& ledger, int attempt);

// Controls of the final check: changes the shared dataset the way a lost
// write (`stale`: one element of an acked box set back to the box's previous
// write) or a torn one (`torn`: one element of a box inside one chunk set to
// a newer attempted write than its neighbours) would, so the check must fail.
void sabotage_shared(const StoreSpec& store, const Settings& s, Shared& ledger, bool stale, bool torn);

// Deletes the shared dataset (end of the run).
void remove_shared(const StoreSpec& store, const Settings& s);

}  // namespace dosna::soak
