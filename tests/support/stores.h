// Fresh, isolated stores for the behaviour suites, one per backend, so one
// suite runs over every compiled backend x engine.
#pragma once

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "dosna/connection.h"

namespace dosna::testing {

// A store ready to connect to, and how to tidy it afterwards. When the
// backend's service is not configured, `skip_reason` says why; with
// DOSNA_REQUIRE_SERVICES set (CI), that is a test failure instead of a skip.
struct TestStore {
  ConnectionConfig config;
  std::function<void()> cleanup = [] {};
  std::string skip_reason;
};

// `backend` may carry a dataset format after '_' ("ram_zarr3"): the store's
// connection option format= (its datasets are created in that format).
// hdf5: a new temp directory; ceph: the pool named by DOSNA_CEPH_POOL with
// CEPH_CONF; s3: a label, endpoint and keys from the AWS_* variables.
TestStore make_test_store(const std::string& backend, const std::string& engine = "cpu",
                          const Options& engine_options = {});

// The stores the matrix also runs with each zarr format (every store that
// holds zarr), and those formats.
std::vector<std::string> zarr_test_stores();
std::vector<std::string> zarr_formats();

// Every compiled backend x every compiled in-process engine (not mpi); the
// zarr test stores also as "<backend>_<format>".
std::vector<std::tuple<std::string, std::string>> backend_engine_matrix();

// Whether a missing service must fail the run (CI) rather than skip.
bool services_required();

// A dataset name unique within this process run ("t<pid>-<counter>-<hint>").
std::string unique_name(const std::string& hint);

// Bytes [offset, offset + length) of chunk `index` through the one partial-read
// entry point, ChunkStore::get_ranges_many; nullptr if the chunk is absent.
ChunkData read_range(ChunkStore& store, const ChunkIndex& index, std::size_t offset,
                     std::size_t length);

}  // namespace dosna::testing
