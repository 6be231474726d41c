// Shared helpers of the s3 tests: the store from the environment (skip or,
// under DOSNA_REQUIRE_SERVICES, fail when radosgw is not configured), a
// scoped environment override and the local services' DIR.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
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

// Declares `value` as the environment variable `name`, or skips/fails the
// test when it is not set.
#define DOSNA_ENV_OR_SKIP(value, name)                                      \
  const std::string value = std::getenv(name) ? std::getenv(name) : "";   \
  if (value.empty()) {                                                     \
    if (::dosna::testing::services_required()) {                           \
      FAIL() << "DOSNA_REQUIRE_SERVICES is set but " name " is not";       \
    }                                                                      \
    GTEST_SKIP() << name " not set (scripts/local-services.sh)";           \
  }

inline std::filesystem::path services_script() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "scripts" /
         "local-services.sh";
}

// The services' DIR: DOSNA_SERVICES_DIR, else the folder of CEPH_CONF
// (env.sh exports CEPH_CONF=DIR/ceph.conf); "" when neither is set.
inline std::string services_dir() {
  if (const char* d = std::getenv("DOSNA_SERVICES_DIR"); d && *d) return d;
  if (const char* c = std::getenv("CEPH_CONF"); c && *c) {
    return std::filesystem::path(c).parent_path().string();
  }
  return "";
}

// Runs `local-services.sh COMMAND DIR`; its exit status.
inline int services(const std::string& command) {
  const std::string cmd = "bash '" + services_script().string() + "' " + command + " '" +
                          services_dir() + "' >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

// A dataset name valid as an S3 bucket (lower case, no '_').
inline std::string s3_dataset_name(const std::string& hint) {
  std::string name = unique_name(hint);
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return name;
}

}  // namespace dosna::testing
