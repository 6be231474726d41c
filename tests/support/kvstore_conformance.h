// The contract of the byte-key store seam (include/dosna/kvstore.h) as one
// checker every store opts into (TensorStore's kvstore test_util style):
//
//   TEST(KvStore, Ram) {
//     check_kvstore_contract([] { return make_kvstore("ram", name, {}); });
//   }
//
// `open` returns a new, open store on the same place each call (several
// are opened: the concurrency checks use one per thread). The checker writes
// only under roots of its own ("kvt<pid>-<n>", valid S3 bucket names) and
// removes them with erase_prefix at the end. Failures are gtest failures.
#pragma once

#include <functional>
#include <memory>

#include "dosna/kvstore.h"

namespace dosna::testing {

void check_kvstore_contract(const std::function<std::shared_ptr<KvStore>()>& open);

}  // namespace dosna::testing
