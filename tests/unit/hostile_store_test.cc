// Hostile inputs and hostile stores (issue 18): what a user or another writer
// with access to the store can hand DosNa must give a typed error naming
// what was wrong, never a crash, a hang, an escaping std::bad_alloc or
// silently wrong data.
//  - HostileNames: '/', '..', NUL, 256-byte, non-UTF-8 and control-character
//    names are InvalidArgument on every store, the name shown escaped, once.
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

INSTANTIATE_TEST_SUITE_P(EveryBackend, Hostile,
                         ::testing::Combine(::testing::ValuesIn(available_backends()),
                                            ::testing::Values(std::string("cpu"))),
                         [](const auto& info) { return std::get<0>(info.param); });

}  // namespace
}  // namespace dosna
