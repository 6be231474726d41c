// The fixture of the suites parameterised over backend x engine: a
// connected Connection to a fresh store, skipped (failed when services are
// required, as in CI) when the backend's service is not configured.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>

#include "support/stores.h"

namespace dosna::testing {

class StoreTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    const auto& [backend, engine] = GetParam();
    store_ = make_test_store(backend, engine);
    if (!store_.skip_reason.empty()) {
      if (services_required()) FAIL() << store_.skip_reason;
      GTEST_SKIP() << store_.skip_reason;
    }
    conn_.emplace(store_.config);
    conn_->connect();
  }

  void TearDown() override {
    conn_.reset();
    store_.cleanup();
  }

  TestStore store_;
  std::optional<Connection> conn_;
};

}  // namespace dosna::testing
