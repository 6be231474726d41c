// Hostile inputs and hostile stores (issue 18): what a user or another writer
// with access to the store can hand DosNa must give a typed error naming
// what was wrong, never a crash, a hang, an escaping std::bad_alloc or
// silently wrong data.
//  - HostileNames: '/', '..', NUL, 256-byte, non-UTF-8 and control-character
//    names are InvalidArgument on every store, the name shown escaped, once.
//  - HugeChunks: a chunk over max_chunk_bytes is refused at create and when a
//    stored record declares it; the option raises the limit; a read larger
//    than memory is OutOfMemory.
//  - FillValues: values the dtype cannot hold are refused.
//  - BoundedDisconnect: disconnect() returns at once on every store while
//    other threads keep using the connection.
//  - BrokenDataset: one corrupt record does not break listing and can be
//    removed (hdf5, ceph).
//  - Hdf5Hostile: FIFOs, links out of the store, deletes racing writers and
//    creators, a 1 MB attribute, chunk files of foreign layouts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <thread>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/store_test.h"
#include "support/stores.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::StoreTest;

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

class Hostile : public StoreTest {
 protected:
  std::string name(const std::string& hint) {
    std::string n = testing::unique_name(hint);
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    return n;
  }
};

// --- names --------------------------------------------------------------

TEST_P(Hostile, HostileNamesAreInvalidArgumentShownEscapedOnce) {
  Connection& con = *conn_;
  const auto before = con.list_datasets();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a/b", "'a/b'"},
      {"..", "'..'"},
      {".", "'.'"},
      {std::string("a\0b", 3), "'a\\x00b'"},
      {std::string(256, 'n'), "bytes)"},
      {"caf\xe9", "'caf\\xE9'"},
      {"\xff\xfe", "'\\xFF\\xFE'"},
      {"red\x1b[31m", "'red\\x1B[31m'"},
      {"two\nlines", "'two\\nlines'"},
      {"bell\a", "'bell\\x07'"},
      {"rtl\xe2\x80\xae", "'rtl\\u202E'"},
  };
  const DType f4 = DType::of<float>();
  for (const auto& [bad_name, shown] : bad) {
    SCOPED_TRACE(shown);
    try {
      con.create_dataset(bad_name, {4}, f4, {2});
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_EQ(count(what, shown), 1u) << what;
      for (char c : what) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "raw control byte in: " << what;
      if (bad_name.size() > 255) {
        EXPECT_NE(what.find("256 bytes"), std::string::npos) << what;
        EXPECT_LT(what.size(), 300u) << what;
      }
    }
    EXPECT_THROW(con.get_dataset(bad_name), InvalidArgument);
    EXPECT_THROW(con.has_dataset(bad_name), InvalidArgument);
    EXPECT_THROW(con.del_dataset(bad_name), InvalidArgument);
  }
  EXPECT_EQ(con.list_datasets(), before);
  // 255 bytes of plain ASCII is the longest valid name (hdf5: NAME_MAX);
  // s3 maps names to buckets, which are shorter.
  if (std::get<0>(GetParam()) != "s3") {
    const std::string longest = name("l") + std::string(255, 'x');
    const std::string n = longest.substr(0, 255);
    con.create_dataset(n, {4}, f4, {2});
    EXPECT_TRUE(con.has_dataset(n));
    con.del_dataset(n);
  }
}

// --- huge chunks and shapes ---------------------------------------------

TEST_P(Hostile, HugeChunkIsRefusedBeforeAnyAllocation) {
  Connection& con = *conn_;
  const auto before = con.list_datasets();
  const std::string n = name("huge");
  try {
    con.create_dataset(n, {100000, 100000, 100000}, DType::of<float>(),
                       {100000, 100000, 100000});
    ADD_FAILURE() << "a chunk of 4e15 bytes was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("max_chunk_bytes"), std::string::npos) << e.what();
  }
  // One chunk of the whole shape (chunk_size omitted) obeys the limit too.
  EXPECT_THROW(con.create_dataset(n, {2048, 1024, 1024}, DType::of<std::int16_t>()),
               InvalidArgument);
  EXPECT_EQ(con.list_datasets(), before);
}

TEST_P(Hostile, MaxChunkBytesOptionSetsTheLimit) {
  ConnectionConfig config = store_.config;
  config.options["max_chunk_bytes"] = "1024";
  Connection con(config);
  con.connect();
  const std::string n = name("limit");
  EXPECT_THROW(con.create_dataset(n, {64}, DType::of<double>(), {129}), InvalidArgument);
  Dataset ds = con.create_dataset(n, {64}, DType::of<double>(), {128});
  ds.write({slice(0, 64)}, Scalar(2.5));
  EXPECT_EQ(ds.read({63}).values<double>()[0], 2.5);
  // A connection with a lower limit refuses to open it.
  config.options["max_chunk_bytes"] = "512";
  Connection low(config);
  low.connect();
  try {
    low.get_dataset(n);
    ADD_FAILURE() << "opened a dataset over max_chunk_bytes";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("raise the connection option"), std::string::npos)
        << e.what();
  }
  low.del_dataset(n);  // and still removes it
  EXPECT_FALSE(con.has_dataset(n));
  for (const char* bad : {"0", "-5", "lots"}) {
    config.options["max_chunk_bytes"] = bad;
    EXPECT_THROW(Connection{config}, InvalidArgument) << bad;
  }
}

// A record declaring a huge chunk, written below the core (as another
// writer could): opening it is a typed error, never std::bad_alloc.
TEST_P(Hostile, StoredHugeChunkIsATypedErrorOnOpen) {
  Connection& con = *conn_;
  const std::string n = name("stored");
  auto raw = make_backend(store_.config.backend, store_.config.name, store_.config.options);
  raw->connect();
  // 3 GiB chunks: over the default max_chunk_bytes (2 GiB), under what any
  // store takes itself (S3: 5 GiB per PUT), so the core's limit is tested.
  const DatasetMeta meta{{1024, 1024, 768}, DType::of<float>(), Scalar(0), {1024, 1024, 768}};
  raw->create_dataset(n, meta);
  try {
    Dataset ds = con.get_dataset(n);
    (void)ds.read({0, 0, 0});
    ADD_FAILURE() << "read a chunk of 3 GiB";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_chunk_bytes"), std::string::npos) << e.what();
  } catch (const std::bad_alloc&) {
    ADD_FAILURE() << "std::bad_alloc escaped";
  }
  con.del_dataset(n);
  EXPECT_FALSE(con.has_dataset(n));
}

#if !defined(__SANITIZE_ADDRESS__)
// The core's allocation, the same on every store: ram suffices. Not under
// ASan, whose operator new aborts instead of throwing std::bad_alloc.
TEST(HostileCore, ReadLargerThanMemoryIsOutOfMemory) {
  Connection con(ConnectionConfig{testing::unique_name("vast"), "ram", {}, "cpu", {}});
  con.connect();
  const std::string n = "vast";
  Dataset ds = con.create_dataset(n, {std::int64_t{1} << 38, std::int64_t{1} << 20},
                                  DType::of<double>(), {1024, 1024});
  try {
    (void)ds.read();
    ADD_FAILURE() << "read 2^61 bytes";
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("float64"), std::string::npos) << e.what();
  } catch (const std::bad_alloc&) {
    ADD_FAILURE() << "std::bad_alloc escaped";
  }
  con.del_dataset(n);
}
#endif

// --- fill values --------------------------------------------------------

// Checked in the core before any store sees the dataset: ram suffices.
TEST(HostileCore, FillValuesTheDtypeCannotHoldAreRefused) {
  Connection con(ConnectionConfig{testing::unique_name("fill"), "ram", {}, "cpu", {}});
  con.connect();
  auto name = [](const std::string& hint) { return testing::unique_name(hint); };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* dtype;
    Scalar value;
    const char* shown;
  };
  const std::vector<Case> refused = {
      {"|i1", 1000, "1000"},          {"|u1", -1, "-1"},
      {"<i4", nan, "nan"},            {"<i2", 1.5, "1.5"},
      {"<i8", inf, "inf"},            {"<u8", -1.0, "-1.0"},
      {"|b1", 5, "5"},                {"<f4", 1e39, "1e+39"},
      {"<f8", std::complex<double>(1, 1), "(1+1j)"},
      {"<u2", 65536, "65536"},        {"<i8", 9.3e18, "9.3e+18"},
  };
  for (const auto& c : refused) {
    const DType dt = DType::parse(c.dtype);
    SCOPED_TRACE(std::string(c.dtype) + " " + c.shown);
    try {
      con.create_dataset(name("fill"), {4}, dt, {2}, c.value);
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string("fill value ") + c.shown), std::string::npos) << what;
      EXPECT_NE(what.find(dt.name()), std::string::npos) << what;
    }
  }
  EXPECT_TRUE(con.list_datasets().empty());
  const std::vector<std::pair<const char*, Scalar>> accepted = {
      {"|i1", 127},   {"|i1", -128},     {"|u1", 255},
      {"<i4", 3.0},   {"<f4", nan},      {"<f8", -inf},
      {"|b1", true},  {"|b1", 1},        {"|b1", 0.0},
      {"<u8", std::numeric_limits<std::uint64_t>::max()},
      {"<i8", std::numeric_limits<std::int64_t>::min()},
      {"<c8", std::complex<double>(1, -2)},
  };
  for (const auto& [dtype, value] : accepted) {
    const std::string n = name("ok");
    Dataset ds = con.create_dataset(n, {3}, DType::parse(dtype), {2}, value);
    EXPECT_EQ(ds.fillvalue().repr(ds.dtype()), value.repr(ds.dtype())) << dtype;
    con.del_dataset(n);
  }
}

// --- disconnect ---------------------------------------------------------

TEST_P(Hostile, DisconnectReturnsAtOnceWhileOtherThreadsKeepWorking) {
  Connection& con = *conn_;
  const std::string n = name("busy");
  // Reads of 256 chunks overlap, so some operation is always in flight: a
  // disconnect that waits for them (ceph used to) waits until they stop.
  Dataset ds = con.create_dataset(n, {64, 64}, DType::of<std::int32_t>(), {4, 4}, 0);
  ds.write({slice(0, 64), slice(0, 64)}, Scalar(1));
  std::atomic<int> stopped{0}, typed{0}, ops{0};
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        while (Clock::now() < give_up) {
          if (t == 0) ds.write({t, t}, Scalar(t));
          else (void)ds.read();
          ++ops;
        }
      } catch (const ConnectionError&) {
        ++typed;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
      ++stopped;
    });
  }
  while (ops.load() < 8 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto start = Clock::now();
  con.disconnect();
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(took, 1.0) << "disconnect() waited for the other threads";
  EXPECT_FALSE(con.connected());
  for (auto& th : threads) th.join();
  EXPECT_EQ(typed.load(), 4) << "every thread's next operation must throw ConnectionError";
  con.connect();
  con.del_dataset(n);
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, Hostile,
                         ::testing::Combine(::testing::ValuesIn(available_backends()),
                                            ::testing::Values(std::string("cpu"))),
                         [](const auto& info) { return std::get<0>(info.param); });

// --- broken datasets ----------------------------------------------------

bool built(const std::string& backend) {
  const auto all = available_backends();
  return std::find(all.begin(), all.end(), backend) != all.end();
}

int sh(const std::string& command) { return std::system(command.c_str()); }

// Lists both (list_datasets_status says why the broken one does not open),
// opens the good one, removes the broken one.
void check_broken_store(Connection& con, const std::string& good, const std::string& broken) {
  auto names = con.list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), good), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), broken), names.end());
  EXPECT_NO_THROW(con.get_dataset(good));
  EXPECT_THROW(con.get_dataset(broken), IoError);
  int seen = 0;
  for (const DatasetStatus& s : con.list_datasets_status()) {
    if (s.name == good) {
      ++seen;
      EXPECT_TRUE(s.meta.has_value());
      EXPECT_EQ(s.problem, "");
    } else if (s.name == broken) {
      ++seen;
      EXPECT_FALSE(s.meta.has_value());
      EXPECT_NE(s.problem.find(broken), std::string::npos) << s.problem;
    }
  }
  EXPECT_EQ(seen, 2);
  EXPECT_NO_THROW(con.del_dataset(broken));
  names = con.list_datasets();
  EXPECT_EQ(std::find(names.begin(), names.end(), broken), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), good), names.end());
  EXPECT_THROW(con.del_dataset(broken), DatasetNotFound);
}

TEST(BrokenDataset, Hdf5CorruptRecordIsListedAndRemovable) {
  if (!built("hdf5")) GTEST_SKIP() << "hdf5 not built";
  testing::TestStore store = testing::make_test_store("hdf5");
  Connection con(store.config);
  con.connect();
  con.create_dataset("good", {4}, DType::of<float>(), {2}).write({0}, Scalar(1.0));
  con.create_dataset("bad", {4}, DType::of<float>(), {2}).write({0}, Scalar(1.0));
  const std::string dir = store.config.options.at("directory") + "/" + store.config.name;
  std::ofstream(dir + "/bad/dataset.h5", std::ios::trunc) << "garbage";
  check_broken_store(con, "good", "bad");
  EXPECT_FALSE(fs::exists(dir + "/bad"));
  store.cleanup();
}

TEST(BrokenDataset, CephGarbageXattrsAreListedAndRemovable) {
  if (!built("ceph")) GTEST_SKIP() << "ceph not built";
  testing::TestStore store = testing::make_test_store("ceph");
  if (!store.skip_reason.empty()) {
    if (testing::services_required()) FAIL() << store.skip_reason;
    GTEST_SKIP() << store.skip_reason;
  }
  Connection con(store.config);
  con.connect();
  const std::string good = testing::unique_name("good"), bad = testing::unique_name("bad");
  con.create_dataset(good, {4}, DType::of<float>(), {2});
  con.create_dataset(bad, {4}, DType::of<float>(), {2}).write({0}, Scalar(1.0));
  const std::string rados = "rados -c '" + store.config.options.at("conffile") + "' -p '" +
                            store.config.name + "' ";
  ASSERT_EQ(sh(rados + "setxattr '" + bad + "' chunk_size 'x::y'"), 0);
  check_broken_store(con, good, bad);
  // Its chunk objects went too.
  ASSERT_EQ(sh(rados + "stat '" + bad + "/0' >/dev/null 2>&1"), 256);
  // A 100 kB garbage shape is echoed shortened, not whole.
  ASSERT_EQ(sh(rados + "setxattr '" + good + "' shape '" + std::string(100000, '7') + "x'"), 0);
  try {
    con.get_dataset(good);
    ADD_FAILURE() << "garbage shape accepted";
  } catch (const IoError& e) {
    EXPECT_LT(std::string(e.what()).size(), 500u);
    EXPECT_NE(std::string(e.what()).find("100001 bytes"), std::string::npos) << e.what();
  }
  con.del_dataset(good);
}

// --- hdf5: what can be put in a store directory -------------------------

// Runs fn on another thread; fails (instead of hanging) if it takes longer
// than `limit`, then calls `unblock` until the stuck call returns.
template <class Fn>
void within(std::chrono::seconds limit, Fn fn, const std::function<void()>& unblock) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "still blocked after " << limit.count() << " s";
    do unblock();
    while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready);
  }
  done.get();
}

// Lets a reader blocked on the FIFO `path` go on: a writer comes and goes.
void open_and_close(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK);
  if (fd < 0) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::close(fd);
}

class Hdf5Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!built("hdf5")) GTEST_SKIP() << "hdf5 not built";
    store_ = testing::make_test_store("hdf5", "threads");
    root_ = store_.config.options.at("directory") + "/" + store_.config.name;
    con_.emplace(store_.config);
    con_->connect();
  }
  void TearDown() override {
    con_.reset();
    store_.cleanup();
  }
  Dataset loaded(const std::string& n) {
    Dataset ds = con_->create_dataset(n, {8, 8}, DType::of<std::int32_t>(), {4, 4}, 0);
    ds.write({slice(0, 8), slice(0, 8)}, Scalar(7));
    return ds;
  }
  std::vector<std::string> trash() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(root_)) {
      const std::string f = e.path().filename().string();
      if (f.starts_with(".dosna-trash-")) out.push_back(f);
    }
    return out;
  }

  testing::TestStore store_;
  std::string root_;
  std::optional<Connection> con_;
};

// A FIFO nobody writes to would block an open() or read() forever.
TEST_F(Hdf5Hostile, FifoInsteadOfAChunkOrRecordIsAnIoErrorNotAHang) {
  Dataset ds = loaded("f");
  const std::string chunk = root_ + "/f/chunk_0_0.h5";
  fs::remove(chunk);
  ASSERT_EQ(::mkfifo(chunk.c_str(), 0666), 0);
  auto unblock = [chunk] { open_and_close(chunk); };
  for (const Selection& sel : {Selection{slice(0, 4), slice(0, 4)}, Selection{1, 1}}) {
    within(std::chrono::seconds(10), [&] {
      try {
        (void)ds.read(sel);
        ADD_FAILURE() << "read a FIFO";
      } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("FIFO"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'f'"), std::string::npos) << e.what();
      }
    }, unblock);
  }
  // The record as a FIFO: listed, an IoError to open, removable.
  const std::string record = root_ + "/f/dataset.h5";
  fs::remove(record);
  ASSERT_EQ(::mkfifo(record.c_str(), 0666), 0);
  auto unblock_record = [record] { open_and_close(record); };
  within(std::chrono::seconds(10), [&] {
    Connection fresh(store_.config);
    fresh.connect();
    const auto names = fresh.list_datasets();
    EXPECT_NE(std::find(names.begin(), names.end(), "f"), names.end());
    EXPECT_THROW(fresh.get_dataset("f"), IoError);
    fresh.del_dataset("f");
    EXPECT_FALSE(fs::exists(root_ + "/f"));
  }, unblock_record);
}

// `rm` of a dataset whose directory is a link must not delete the link's
// target, and a link is never read through.
TEST_F(Hdf5Hostile, DatasetDirectoryThatIsALinkIsNeverFollowed) {
  testing::TestStore other = testing::make_test_store("hdf5");
  {
    Connection victim(other.config);
    victim.connect();
    Dataset v = victim.create_dataset("v", {8, 8}, DType::of<std::int32_t>(), {4, 4}, 0);
    v.write({slice(0, 8), slice(0, 8)}, Scalar(3));
  }
  const std::string target = other.config.options.at("directory") + "/" + other.config.name + "/v";
  fs::create_directory_symlink(target, root_ + "/link");
  const auto before = std::distance(fs::directory_iterator(target), fs::directory_iterator{});
  const auto names = con_->list_datasets();
  EXPECT_NE(std::find(names.begin(), names.end(), "link"), names.end());
  try {
    con_->get_dataset("link");
    ADD_FAILURE() << "opened a dataset through a link";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
  con_->del_dataset("link");
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ + "/link")));
  EXPECT_EQ(std::distance(fs::directory_iterator(target), fs::directory_iterator{}), before);
  EXPECT_TRUE(fs::exists(target + "/chunk_1_1.h5"));
  EXPECT_TRUE(trash().empty());
  // The record or a chunk file as a link is refused too.
  Dataset ds = loaded("r");
  fs::remove(root_ + "/r/chunk_0_0.h5");
  fs::create_symlink(target + "/chunk_0_0.h5", root_ + "/r/chunk_0_0.h5");
  EXPECT_THROW(ds.read({0, 0}), IoError);
  fs::remove(root_ + "/r/dataset.h5");
  fs::create_symlink(target + "/dataset.h5", root_ + "/r/dataset.h5");
  Connection fresh(store_.config);
  fresh.connect();
  EXPECT_THROW(fresh.get_dataset("r"), IoError);
  fresh.del_dataset("r");
  EXPECT_TRUE(fs::exists(target + "/dataset.h5"));
  other.cleanup();
}

TEST_F(Hdf5Hostile, DeleteWhileOtherThreadsWriteLeavesNoTrash) {
  for (int round = 0; round < 12; ++round) {
    Dataset ds = con_->create_dataset("w", {64, 64}, DType::of<std::int32_t>(), {4, 4}, 0);
    std::atomic<bool> stop{false};
    std::atomic<int> writes{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; !stop; ++i) {
          try {
            const std::int64_t r = (i * 4 + t * 16) % 64;
            if (i % 2) ds.write({slice(r, r + 4), slice(0, 64)}, Scalar(i));  // whole chunks
            else ds.write({r + 1, slice(1, 63)}, Scalar(i));                   // partial
            ++writes;
          } catch (const NotFound&) {
          } catch (const IoError&) {
          }
        }
      });
    }
    while (writes.load() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    con_->del_dataset("w");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop = true;
    for (auto& w : writers) w.join();
    EXPECT_TRUE(trash().empty()) << "round " << round << ": " << trash().front();
  }
  // Trash a killed deleter left behind goes at the next connect.
  fs::create_directories(root_ + "/.dosna-trash-x.1.2");
  std::ofstream(root_ + "/.dosna-trash-x.1.2/chunk_0.h5") << "x";
  Connection again(store_.config);
  again.connect();
  EXPECT_TRUE(trash().empty());
}

TEST_F(Hdf5Hostile, RacingCreateAndDeleteGiveOnlyAlreadyExistsOrNotFound) {
  std::atomic<int> other_errors{0};
  auto race = [&](int seed) {
    for (int i = 0; i < 150; ++i) {
      try {
        if ((i + seed) % 3 == 0) con_->del_dataset("race");
        else if ((i + seed) % 3 == 1) con_->create_dataset("race", {4}, DType::of<float>(), {2});
        else (void)con_->get_dataset("race").read({0});
      } catch (const AlreadyExists&) {
      } catch (const DatasetNotFound&) {
      } catch (const std::exception& e) {
        if (other_errors++ < 5) ADD_FAILURE() << e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(race, t);
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_TRUE(trash().empty());
}

// Attributes and chunk files another program wrote (h5py, as an attacker
// with the store's permissions could): a 1 MB shape attribute, /data of a
// foreign type or kind.
TEST_F(Hdf5Hostile, ForeignRecordsAndChunkFilesAreTypedErrors) {
  Dataset ds = loaded("x");
  const std::string py = R"(
import h5py, numpy as np, sys
root = sys.argv[1]
record = root + '/x/dataset.h5'
with h5py.File(record, 'r') as f:
    attrs = {k: f.attrs[k] for k in f.attrs}
attrs['shape'] = np.full(131072, 8, dtype='i8')  # 1 MiB: needs dense attribute storage
with h5py.File(record, 'w', libver='latest') as f:
    for k, v in attrs.items():
        f.attrs[k] = v
with h5py.File(root + '/x/chunk_0_0.h5', 'w') as f:
    f.create_dataset('data', data=np.array([[b'abcd'] * 4] * 4))
with h5py.File(root + '/x/chunk_0_1.h5', 'w') as f:
    f.create_group('data')
with h5py.File(root + '/x/chunk_1_0.h5', 'w') as f:
    f.create_dataset('data', data=np.zeros((4, 4), dtype=[('a', 'i4'), ('b', 'f8')]))
with h5py.File(root + '/x/chunk_1_1.h5', 'w') as f:
    f.create_dataset('data', shape=(4, 4, 1000000), dtype='i4', chunks=(4, 4, 1000))
)";
  std::ofstream(root_ + "/foreign.py") << py;
  ASSERT_EQ(sh("/usr/bin/python3 " + root_ + "/foreign.py " + root_), 0);
  for (const Selection& sel : {Selection{slice(0, 4), slice(0, 4)}, Selection{slice(0, 4), slice(4, 8)},
                               Selection{slice(4, 8), slice(0, 4)}, Selection{slice(4, 8), slice(4, 8)},
                               Selection{5, 5}}) {
    EXPECT_THROW((void)ds.read(sel), IoError) << sel.to_string();
  }
  Connection fresh(store_.config);
  fresh.connect();
  try {
    fresh.get_dataset("x");
    ADD_FAILURE() << "a shape of 131072 values accepted";
  } catch (const IoError& e) {
    EXPECT_LT(std::string(e.what()).size(), 400u) << e.what();
    EXPECT_NE(std::string(e.what()).find("131072"), std::string::npos) << e.what();
  }
  fresh.del_dataset("x");
}

}  // namespace
}  // namespace dosna
