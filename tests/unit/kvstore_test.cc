// Every byte-key store against the shared contract (support/kvstore_conformance.h);
// ceph and s3 against the local services (skipped without them, failed under
// DOSNA_REQUIRE_SERVICES).
#include <gtest/gtest.h>

#include "dosna/errors.h"
#include "dosna/registry.h"
#include "support/kvstore_conformance.h"
#include "support/stores.h"

namespace dosna::testing {
namespace {

// The config make_test_store gives `backend`, or skips/fails the test.
#define DOSNA_KV_CONFIG_OR_SKIP(config, backend)                               \
  const TestStore store_ = make_test_store(backend);                           \
  if (!store_.skip_reason.empty()) {                                           \
    if (services_required()) FAIL() << "DOSNA_REQUIRE_SERVICES is set: " << store_.skip_reason; \
    GTEST_SKIP() << store_.skip_reason;                                        \
  }                                                                            \
  const ConnectionConfig config = store_.config

TEST(KvStoreContract, Ram) {
  const std::string name = unique_name("kv");
  check_kvstore_contract([name] { return make_kvstore("ram", name, {}); });
}

TEST(KvStoreContract, File) {
  const TestStore store = make_test_store("file");
  check_kvstore_contract([&] { return make_kvstore("file", store.config.name, store.config.options); });
  store.cleanup();
}

TEST(KvStoreRegistry, UnknownKindAndBadOptions) {
  EXPECT_THROW(make_kvstore("nope", "x", {}), InvalidArgument);
  EXPECT_THROW(make_kvstore("ram", "x", {{"bogus", "1"}}), InvalidArgument);
}

// The store's options are its Backend's: a bad value and an unknown name
// are InvalidArgument.
void check_options_as_backend(const ConnectionConfig& config, const std::string& option,
                              const std::string& bad_value) {
  Options bad = config.options;
  bad[option] = bad_value;
  EXPECT_THROW(make_kvstore(config.backend, config.name, bad), InvalidArgument);
  Options unknown = config.options;
  unknown["bogus"] = "1";
  EXPECT_THROW(make_kvstore(config.backend, config.name, unknown), InvalidArgument);
}

#ifdef DOSNA_HAVE_CEPH
TEST(KvStoreContract, Ceph) {
  DOSNA_KV_CONFIG_OR_SKIP(config, "ceph");
  check_kvstore_contract([config] { return make_kvstore("ceph", config.name, config.options); });
}

TEST(KvStoreRegistry, CephOptionsAsTheBackendParsesThem) {
  DOSNA_KV_CONFIG_OR_SKIP(config, "ceph");
  check_options_as_backend(config, "timeout", "0");
  EXPECT_THROW(make_kvstore("ceph", "no-such-pool-kv", config.options), NotFound);
}
#endif

#ifdef DOSNA_HAVE_S3
TEST(KvStoreContract, S3) {
  DOSNA_KV_CONFIG_OR_SKIP(config, "s3");
  check_kvstore_contract([config] { return make_kvstore("s3", config.name, config.options); });
}

TEST(KvStoreRegistry, S3OptionsAsTheBackendParsesThem) {
  DOSNA_KV_CONFIG_OR_SKIP(config, "s3");
  check_options_as_backend(config, "max_in_flight", "0");
}
#endif

}  // namespace
}  // namespace dosna::testing
