// Shared setup of the ceph backend's own tests: they run against the cluster
// named by CEPH_CONF / DOSNA_CEPH_POOL (scripts/local-services.sh writes
// both into env.sh). Without them a test is skipped, or fails when
// DOSNA_REQUIRE_SERVICES is set.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "dosna/registry.h"
#include "support/stores.h"

namespace dosna::testing {

inline std::string ceph_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline std::string ceph_conf() { return ceph_env("CEPH_CONF"); }
inline std::string ceph_pool() { return ceph_env("DOSNA_CEPH_POOL"); }

inline std::string ceph_skip_reason() {
  if (ceph_conf().empty() || ceph_pool().empty())
    return "ceph: CEPH_CONF/DOSNA_CEPH_POOL not set (start scripts/local-services.sh and source "
           "its env.sh)";
  return "";
}

// The repository root, found from this file's path.
inline std::filesystem::path source_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

}  // namespace dosna::testing

// Skips the test (or fails it under DOSNA_REQUIRE_SERVICES) without a cluster.
#define DOSNA_REQUIRE_CEPH()                                           \
  do {                                                                 \
    const std::string reason_ = ::dosna::testing::ceph_skip_reason();  \
    if (!reason_.empty()) {                                            \
      if (::dosna::testing::services_required()) FAIL() << reason_;    \
      GTEST_SKIP() << reason_;                                         \
    }                                                                  \
  } while (0)
