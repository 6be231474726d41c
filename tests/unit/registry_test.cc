// The registry: known names that this build lacks raise NotBuilt, unknown
// names raise InvalidArgument listing the available ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"

namespace dosna {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Registry, KnownNames) {
  EXPECT_EQ(known_backends(), (std::vector<std::string>{"ram", "file", "hdf5", "ceph", "s3"}));
  for (const char* e : {"cpu", "threads", "jl", "joblib", "mpi"})
    EXPECT_TRUE(contains(known_engines(), e)) << e;
  EXPECT_TRUE(contains(available_backends(), "ram"));
  EXPECT_TRUE(contains(available_engines(), "cpu"));
  for (const auto& b : available_backends()) EXPECT_TRUE(contains(known_backends(), b)) << b;
  for (const auto& e : available_engines()) EXPECT_TRUE(contains(known_engines(), e)) << e;
}

TEST(Registry, EngineAliases) {
  EXPECT_EQ(canonical_engine_name("jl"), "threads");
  EXPECT_EQ(canonical_engine_name("joblib"), "threads");
  EXPECT_EQ(canonical_engine_name("cpu"), "cpu");
}

TEST(Registry, UnknownBackendListsAvailable) {
  try {
    make_backend("nosuchstore", "x", {});
    FAIL() << "no error";
  } catch (const NotBuilt&) {
    FAIL() << "an unknown name is not NotBuilt";
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nosuchstore"), std::string::npos) << msg;
    for (const auto& b : available_backends()) EXPECT_NE(msg.find(b), std::string::npos) << msg;
  }
}

TEST(Registry, UnknownEngineListsAvailable) {
  try {
    make_engine("warp-drive", {});
    FAIL() << "no error";
  } catch (const NotBuilt&) {
    FAIL() << "an unknown name is not NotBuilt";
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("warp-drive"), std::string::npos) << msg;
    for (const auto& n : available_engines()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

TEST(Registry, KnownButNotBuiltBackend) {
  int checked = 0;
  for (const auto& b : known_backends()) {
    if (contains(available_backends(), b)) continue;
    ++checked;
    EXPECT_THROW(make_backend(b, "x", {}), NotBuilt) << b;
    EXPECT_THROW(Connection("x", {}, b), NotBuilt) << b;
  }
  if (checked == 0) GTEST_SKIP() << "every known backend is built into this DosNa";
}

TEST(Registry, KnownButNotBuiltEngine) {
  int checked = 0;
  for (const auto& e : known_engines()) {
    if (contains(available_engines(), e)) continue;
    ++checked;
    EXPECT_THROW(make_engine(e, {}), NotBuilt) << e;
    EXPECT_THROW(Connection("x", {}, "ram", e), NotBuilt) << e;
  }
  if (checked == 0) GTEST_SKIP() << "every known engine is built into this DosNa";
}

TEST(Registry, ConnectionRejectsUnknownNamesAndOptions) {
  EXPECT_THROW(Connection("x", {}, "nosuchstore"), InvalidArgument);
  EXPECT_THROW(Connection("x", {}, "ram", "warp-drive"), InvalidArgument);
  EXPECT_THROW(Connection("x", {{"no_such_option", "1"}}, "ram"), InvalidArgument);
  EXPECT_THROW(Connection("x", {}, "ram", "cpu", {{"no_such_option", "1"}}), InvalidArgument);
}

TEST(Registry, BuiltBackendsAndEnginesConstruct) {
  auto ram = make_backend("ram", "registry-test", {});
  ASSERT_TRUE(ram);
  EXPECT_EQ(ram->kind(), "ram");
  EXPECT_EQ(ram->name(), "registry-test");
  auto cpu = make_engine("cpu", {});
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->kind(), "cpu");
  EXPECT_EQ(cpu->concurrency(), 1u);
}

}  // namespace
}  // namespace dosna
