// A dataset delete that fails half-way (some chunks removed, the record still
// there) says so in its error, keeps the error's type, and a second delete
// finishes it. On ram and (when configured) s3, through FaultyBackend.
#include <gtest/gtest.h>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/faulty_backend.h"
#include "support/stores.h"

namespace dosna::testing {
namespace {

class PartialDelete : public ::testing::TestWithParam<std::string> {};

TEST_P(PartialDelete, ErrorSaysPartlyDeletedAndASecondDeleteFinishes) {
  TestStore store = make_test_store(GetParam());
  if (!store.skip_reason.empty()) {
    if (services_required()) FAIL() << store.skip_reason;
    GTEST_SKIP() << store.skip_reason;
  }
  auto faulty = std::make_shared<FaultyBackend>(
      make_backend(GetParam(), store.config.name, store.config.options), FaultPlan{});
  Connection con(faulty, make_engine("cpu", {}));
  con.connect();
  std::string name = unique_name("partdel");
  for (char& c : name) c = c == '_' ? '-' : c;
  Dataset ds = con.create_dataset(name, {8, 8}, DType::parse("<i4"), {4, 4}, Scalar(0));
  ds.write({}, Scalar(5));  // 4 chunks
  faulty->set_plan({FaultOp::kRemove, faulty->counters().remove.load() + 3, false});
  try {
    con.del_dataset(name);
    FAIL() << "the injected failure did not surface";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("partly deleted"), std::string::npos) << what;
    EXPECT_NE(what.find(name), std::string::npos) << what;
  }
  faulty->set_plan({});
  EXPECT_TRUE(con.has_dataset(name));
  EXPECT_LT(con.get_dataset(name).stored_chunks(), 4);
  con.del_dataset(name);
  EXPECT_FALSE(con.has_dataset(name));
  store.cleanup();
}

INSTANTIATE_TEST_SUITE_P(Stores, PartialDelete, ::testing::Values("ram", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dosna::testing
