#include "support/kvstore_conformance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "dosna/errors.h"

namespace dosna::testing {
namespace {

ChunkData bytes(const std::string& s) {
  auto b = Buffer::allocate(s.size());
  if (!s.empty()) std::memcpy(b->data(), s.data(), s.size());
  return b;
}

std::string text(const ChunkData& d) {
  return d ? std::string(reinterpret_cast<const char*>(d->data()), d->size()) : "<absent>";
}

// A fresh root per check: lower case, digits and '-' (an S3 bucket name).
std::string fresh_root() {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return "kvt" + std::to_string(getpid()) + "-" + std::to_string(salt) + "-" + std::to_string(counter++);
}

struct Fixture {
  std::shared_ptr<KvStore> store;
  std::string root;
  std::string key(const std::string& rest) const { return root + "/" + rest; }
};

void check_get_put(const Fixture& f) {
  KvStore& s = *f.store;
  const ReadResult missing = s.get(f.key("missing"));
  EXPECT_EQ(missing.value, nullptr) << "a missing key reads as a null value";
  EXPECT_TRUE(missing.generation.absent());

  auto g1 = s.put(f.key("v"), bytes("hello"));
  ASSERT_TRUE(g1.has_value());
  EXPECT_FALSE(g1->absent());
  ReadResult r = s.get(f.key("v"));
  EXPECT_EQ(text(r.value), "hello");
  EXPECT_EQ(r.generation, *g1) << "get returns the generation put gave back";

  auto g2 = s.put(f.key("v"), bytes("world!"));
  ASSERT_TRUE(g2.has_value());
  EXPECT_NE(*g1, *g2) << "a put changes the generation";
  r = s.get(f.key("v"));
  EXPECT_EQ(text(r.value), "world!");
  EXPECT_EQ(r.generation, *g2);

  ASSERT_TRUE(s.put(f.key("empty"), bytes("")));
  r = s.get(f.key("empty"));
  ASSERT_NE(r.value, nullptr) << "an empty value is a value, not an absent key";
  EXPECT_EQ(r.value->size(), 0u);
  EXPECT_FALSE(r.generation.absent());
}

void check_ranges(const Fixture& f) {
  KvStore& s = *f.store;
  ASSERT_TRUE(s.put(f.key("r"), bytes("0123456789")));
  struct Case {
    ReadRange range;
    std::string want;
  };
  const Case cases[] = {
      {ReadRange::bytes(2, 3), "234"},      {ReadRange::bytes(0, 10), "0123456789"},
      {ReadRange::bytes(7, 100), "789"},    {ReadRange::bytes(10, 5), ""},
      {ReadRange::bytes(50, 5), ""},        {ReadRange::bytes(4, 0), ""},
      {ReadRange{3, std::nullopt}, "3456789"}, {ReadRange::suffix(4), "6789"},
      {ReadRange::suffix(10), "0123456789"}, {ReadRange::suffix(30), "0123456789"},
      {ReadRange::suffix(1), "9"},          {ReadRange::whole(), "0123456789"},
  };
  const Generation g = s.get(f.key("r")).generation;
  for (const auto& c : cases) {
    SCOPED_TRACE("range offset " + std::to_string(c.range.offset) + " length " +
                 (c.range.length ? std::to_string(*c.range.length) : "none"));
    const ReadResult r = s.get(f.key("r"), c.range);
    ASSERT_NE(r.value, nullptr);
    EXPECT_EQ(text(r.value), c.want);
    EXPECT_EQ(r.generation, g) << "a ranged read has the whole value's generation";
    EXPECT_EQ(r.total_size, std::optional<std::uint64_t>(10)) << "built-in stores know the size";
  }
  EXPECT_EQ(s.get(f.key("nope"), ReadRange::suffix(3)).value, nullptr);
  EXPECT_EQ(s.get(f.key("nope"), ReadRange::bytes(1, 3)).value, nullptr);
  ASSERT_TRUE(s.put(f.key("e"), bytes("")));
  for (const ReadRange& range : {ReadRange::suffix(3), ReadRange::bytes(0, 4), ReadRange::bytes(2, 1)}) {
    const ReadResult r = s.get(f.key("e"), range);
    ASSERT_NE(r.value, nullptr) << "a range of an empty value is 0 bytes, not absent";
    EXPECT_EQ(r.value->size(), 0u);
  }
}

void check_conditions(const Fixture& f) {
  KvStore& s = *f.store;
  const std::string k = f.key("c");
  EXPECT_EQ(s.put(k, bytes("x"), PutCondition::if_equal(Generation{"1"})), std::nullopt)
      << "if_equal on a missing key fails";
  EXPECT_EQ(s.get(k).value, nullptr) << "a failed conditional put writes nothing";
  auto g1 = s.put(k, bytes("first"), PutCondition::if_absent());
  ASSERT_TRUE(g1) << "if_absent on a missing key succeeds";
  EXPECT_EQ(s.put(k, bytes("second"), PutCondition::if_absent()), std::nullopt)
      << "if_absent on an existing key fails";
  EXPECT_EQ(text(s.get(k).value), "first");
  auto g2 = s.put(k, bytes("second"), PutCondition::if_equal(*g1));
  ASSERT_TRUE(g2) << "if_equal on the current generation succeeds";
  EXPECT_EQ(s.put(k, bytes("stale"), PutCondition::if_equal(*g1)), std::nullopt)
      << "if_equal on a stale generation fails";
  ReadResult r = s.get(k);
  EXPECT_EQ(text(r.value), "second") << "a failed conditional put writes nothing";
  EXPECT_EQ(r.generation, *g2);
  EXPECT_EQ(s.put(k, bytes("junk"), PutCondition::if_equal(Generation{"not-a-generation"})),
            std::nullopt);
  EXPECT_TRUE(s.erase(k));
  EXPECT_EQ(s.put(k, bytes("again"), PutCondition::if_equal(*g2)), std::nullopt)
      << "if_equal on an erased key fails";
  EXPECT_TRUE(s.put(k, bytes("again"), PutCondition::if_absent())) << "if_absent after erase";
}

void check_concurrent_conditions(const Fixture& f,
                                 const std::function<std::shared_ptr<KvStore>()>& open) {
  constexpr int kThreads = 6;
  constexpr int kRounds = 4;
  std::vector<std::shared_ptr<KvStore>> stores;
  for (int t = 0; t < kThreads; ++t) stores.push_back(t % 2 ? open() : f.store);
  for (int round = 0; round < kRounds; ++round) {
    const std::string k = f.key("race" + std::to_string(round));
    // Odd rounds race on an existing value (if_equal), even ones on a new key.
    Generation base;
    if (round % 2) base = *f.store->put(k, bytes("base"));
    std::atomic<int> ready{0};
    std::vector<std::optional<Generation>> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        try {
          results[t] = stores[t]->put(k, bytes("writer " + std::to_string(t)), PutCondition{base});
        } catch (const std::exception& e) {
          ADD_FAILURE() << "concurrent conditional put threw: " << e.what();
        }
      });
    }
    for (auto& th : threads) th.join();
    int winners = 0, winner = -1;
    for (int t = 0; t < kThreads; ++t) {
      if (results[t]) {
        ++winners;
        winner = t;
      }
    }
    EXPECT_EQ(winners, 1) << "exactly one of " << kThreads << " conditional puts on one generation wins (round "
                          << round << ")";
    if (winners == 1) {
      const ReadResult r = f.store->get(k);
      EXPECT_EQ(text(r.value), "writer " + std::to_string(winner));
      EXPECT_EQ(r.generation, *results[winner]);
    }
  }
}

void check_erase_and_list(const Fixture& f) {
  KvStore& s = *f.store;
  for (const char* k : {"a/x", "a/y/z", "ab", "b"}) ASSERT_TRUE(s.put(f.key(k), bytes(k)));
  EXPECT_TRUE(s.erase(f.key("b")));
  EXPECT_FALSE(s.erase(f.key("b"))) << "erase is idempotent";
  EXPECT_FALSE(s.erase(f.key("never")));
  EXPECT_EQ(s.get(f.key("b")).value, nullptr);
  ASSERT_TRUE(s.put(f.key("b"), bytes("b")));

  using V = std::vector<std::string>;
  EXPECT_EQ(s.list(f.key("a/")), (V{f.key("a/x"), f.key("a/y/z")})) << "'a/' does not list 'ab'";
  EXPECT_EQ(s.list(f.key("a")), (V{f.key("a/x"), f.key("a/y/z"), f.key("ab")}));
  EXPECT_EQ(s.list(f.root + "/"), (V{f.key("a/x"), f.key("a/y/z"), f.key("ab"), f.key("b")}));
  EXPECT_EQ(s.list(f.key("zz")), V{});
  EXPECT_EQ(s.list_children(f.root + "/"), (V{"a", "ab", "b"}));
  EXPECT_EQ(s.list_children(f.key("a/")), (V{"x", "y"}));
  EXPECT_EQ(s.list_children(f.key("q/")), V{});
  const V top = s.list_children("");
  EXPECT_NE(std::find(top.begin(), top.end(), f.root), top.end()) << "the root is a child of \"\"";
  const V all = s.list("");
  EXPECT_NE(std::find(all.begin(), all.end(), f.key("a/y/z")), all.end()) << "\"\" lists every key";
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));

  EXPECT_EQ(s.erase_prefix(f.key("a/")), 2u);
  EXPECT_EQ(s.list(f.root + "/"), (V{f.key("ab"), f.key("b")})) << "erase_prefix('a/') keeps 'ab'";
  EXPECT_EQ(s.erase_prefix(f.key("a/")), 0u);
}

void check_batches(const Fixture& f) {
  KvStore& s = *f.store;
  constexpr int kN = 40;
  std::vector<PutRequest> puts;
  for (int i = 0; i < kN; ++i) puts.push_back({f.key("m/" + std::to_string(i)), bytes("value-" + std::to_string(i))});
  std::vector<std::optional<Generation>> gens(kN);
  s.put_many(puts, gens);
  for (int i = 0; i < kN; ++i) EXPECT_TRUE(gens[i]) << i;

  // Conditions element-wise: even ones stale/if_absent (fail), odd ones current.
  std::vector<PutRequest> cond;
  for (int i = 0; i < kN; ++i)
    cond.push_back({puts[i].key, bytes("new-" + std::to_string(i)),
                    i % 2 ? PutCondition::if_equal(*gens[i]) : PutCondition::if_absent()});
  cond.push_back({f.key("m/new"), bytes("fresh"), PutCondition::if_absent()});
  std::vector<std::optional<Generation>> cgens(cond.size());
  s.put_many(cond, cgens);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(cgens[i].has_value(), i % 2 == 1) << i;
  EXPECT_TRUE(cgens[kN]);

  std::vector<ReadRequest> gets;
  for (int i = 0; i < kN; ++i) {
    gets.push_back({f.key("m/" + std::to_string(i)), i % 3 ? ReadRange::whole() : ReadRange::suffix(2)});
    gets.push_back({f.key("m/missing" + std::to_string(i))});
  }
  std::vector<ReadResult> got(gets.size());
  s.get_many(gets, got);
  for (int i = 0; i < kN; ++i) {
    const std::string full = (i % 2 ? "new-" : "value-") + std::to_string(i);
    EXPECT_EQ(text(got[2 * i].value), i % 3 ? full : full.substr(full.size() - 2)) << i;
    EXPECT_EQ(got[2 * i].generation, i % 2 ? *cgens[i] : *gens[i]) << i;
    EXPECT_EQ(got[2 * i + 1].value, nullptr) << i;
    EXPECT_TRUE(got[2 * i + 1].generation.absent()) << i;
  }
}

void check_bad_keys(const Fixture& f) {
  KvStore& s = *f.store;
  const std::string bad[] = {"", "a//b", "../x", f.root + "/../x", f.root + "/./x", f.root + "/",
                             "/" + f.root, std::string("a\0b", 3), f.root + "/" + std::string(1100, 'k')};
  for (const auto& k : bad) {
    SCOPED_TRACE("key of " + std::to_string(k.size()) + " bytes: " + k.substr(0, 40));
    EXPECT_THROW(s.get(k), InvalidArgument);
    EXPECT_THROW(s.get(k, ReadRange::suffix(1)), InvalidArgument);
    EXPECT_THROW(s.put(k, bytes("x")), InvalidArgument);
    EXPECT_THROW(s.put(k, bytes("x"), PutCondition::if_absent()), InvalidArgument);
    EXPECT_THROW(s.erase(k), InvalidArgument);
    const PutRequest batch[] = {{f.key("good"), bytes("g")}, {k, bytes("x")}};
    std::vector<std::optional<Generation>> out(2);
    EXPECT_THROW(s.put_many(batch, out), InvalidArgument);
    const ReadRequest reads[] = {{f.key("good")}, {k}};
    std::vector<ReadResult> results(2);
    EXPECT_THROW(s.get_many(reads, results), InvalidArgument);
  }
  EXPECT_EQ(s.list(f.root + "/"), std::vector<std::string>{}) << "a batch with a bad key writes nothing";
  try {
    s.get("a//b");
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("a//b"), std::string::npos) << "the error names the key: " << e.what();
  }
}

void check_closed(const std::function<std::shared_ptr<KvStore>()>& open, const Fixture& f) {
  ASSERT_TRUE(f.store->put(f.key("kept"), bytes("kept")));
  auto s = open();
  s->close();
  s->close();  // idempotent
  const std::string k = f.key("kept");
  EXPECT_THROW(s->get(k), ConnectionError);
  EXPECT_THROW(s->get(k, ReadRange::bytes(0, 1)), ConnectionError);
  EXPECT_THROW(s->put(f.key("after-close"), bytes("x")), ConnectionError);
  EXPECT_THROW(s->erase(k), ConnectionError);
  EXPECT_THROW(s->list(f.root + "/"), ConnectionError);
  EXPECT_THROW(s->list_children(f.root + "/"), ConnectionError);
  EXPECT_THROW(s->erase_prefix(f.root + "/"), ConnectionError);
  const ReadRequest reads[] = {{k}};
  std::vector<ReadResult> results(1);
  EXPECT_THROW(s->get_many(reads, results), ConnectionError);
  const PutRequest puts[] = {{f.key("after-close"), bytes("x")}};
  std::vector<std::optional<Generation>> gens(1);
  EXPECT_THROW(s->put_many(puts, gens), ConnectionError);
  EXPECT_EQ(text(f.store->get(k).value), "kept") << "closing one store leaves the data";
  EXPECT_EQ(f.store->get(f.key("after-close")).value, nullptr);
}

void check_large(const Fixture& f) {
  KvStore& s = *f.store;
  constexpr std::size_t kSize = std::size_t{8} << 20;
  auto big = Buffer::allocate(kSize);
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < kSize; ++i) big->data()[i] = static_cast<std::byte>(rng());
  const std::string k = f.key("big");
  ASSERT_TRUE(s.put(k, big));
  const ReadResult r = s.get(k);
  ASSERT_NE(r.value, nullptr);
  ASSERT_EQ(r.value->size(), kSize);
  EXPECT_EQ(std::memcmp(r.value->data(), big->data(), kSize), 0);
  const ReadResult mid = s.get(k, ReadRange::bytes(3 << 20, 2 << 20));
  ASSERT_NE(mid.value, nullptr);
  ASSERT_EQ(mid.value->size(), std::size_t{2} << 20);
  EXPECT_EQ(std::memcmp(mid.value->data(), big->data() + (3 << 20), 2 << 20), 0);
  const ReadResult tail = s.get(k, ReadRange::suffix(3 << 20));
  ASSERT_NE(tail.value, nullptr);
  ASSERT_EQ(tail.value->size(), std::size_t{3} << 20);
  EXPECT_EQ(std::memcmp(tail.value->data(), big->data() + kSize - (3 << 20), 3 << 20), 0);
  EXPECT_EQ(tail.total_size, std::optional<std::uint64_t>(kSize));
}

}  // namespace

void check_kvstore_contract(const std::function<std::shared_ptr<KvStore>()>& open) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->kind().empty());
  EXPECT_FALSE(store->describe().empty());
  std::vector<std::string> roots;
  auto run = [&](const char* name, auto&& check) {
    SCOPED_TRACE(std::string(store->kind()) + " store, check " + name);
    Fixture f{store, fresh_root()};
    roots.push_back(f.root);
    check(f);
  };
  run("get_put", check_get_put);
  run("ranges", check_ranges);
  run("conditions", check_conditions);
  run("concurrent_conditions", [&](const Fixture& f) { check_concurrent_conditions(f, open); });
  run("erase_and_list", check_erase_and_list);
  run("batches", check_batches);
  run("bad_keys", check_bad_keys);
  run("closed", [&](const Fixture& f) { check_closed(open, f); });
  run("large", check_large);
  for (const auto& root : roots) {
    store->erase_prefix(root + "/");
    EXPECT_EQ(store->list(root + "/"), std::vector<std::string>{}) << "erase_prefix removes all of " << root;
  }
}

}  // namespace dosna::testing
