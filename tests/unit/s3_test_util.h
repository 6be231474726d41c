// Shared helpers of the s3 tests: the store from the environment (skip or,
// under DOSNA_REQUIRE_SERVICES, fail when radosgw is not configured) and a
// scoped environment override.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "support/stores.h"

namespace dosna::testing {

// Declares `store` as the s3 test store, or skips/fails the test.
#define DOSNA_S3_STORE_OR_SKIP(store)                                      \
  ::dosna::testing::TestStore store = ::dosna::testing::make_test_store("s3"); \
  if (!store.skip_reason.empty()) {                                        \
    if (::dosna::testing::services_required()) {                           \
      FAIL() << "DOSNA_REQUIRE_SERVICES is set: " << store.skip_reason;    \
    }                                                                      \
    GTEST_SKIP() << store.skip_reason;                                     \
  }

// Sets (or, with nullopt, unsets) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A dataset name valid as an S3 bucket (lower case, no '_').
inline std::string s3_dataset_name(const std::string& hint) {
  std::string name = unique_name(hint);
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return name;
}

}  // namespace dosna::testing
