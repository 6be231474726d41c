// Writes that may be interrupted (cp, import) mark their destination as
// incomplete until it is verified. Stores have no rename to publish a dataset
// atomically (S3 buckets, Ceph objects), so the mark is a second, empty
// dataset `dosna-cp-<16 hex digits of the FNV-1a hash of the name>` (valid
// on every store, S3 bucket names included) that `ls` and `info` look for
// and hide. A process killed mid-way leaves the mark: `ls` shows the
// destination as incomplete until it is removed or copied again.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "dosna/connection.h"

namespace dosna::cli {

// The name of the mark of `dataset`.
std::string incomplete_mark(const std::string& dataset);

// Whether `name` is the form of a mark (so listings hide it).
bool is_incomplete_mark(const std::string& name);

// Whether `dataset` carries its mark, given the names a listing returned.
bool is_incomplete(const std::set<std::string>& names, const std::string& dataset);
// Whether `dataset` carries its mark, asking the store.
bool is_incomplete(const Connection& con, const std::string& dataset);

// What a marked write is to create.
struct TargetSpec {
  std::string name;
  Shape shape;
  DType dtype;
  Shape chunks;
  Scalar fill;
  bool force = false;  // replace an existing dataset instead of AlreadyExists
  StorageOptions storage{};
};

// Creates `target` in `con` under its mark, runs `fill` on it, then drops
// the mark. If `fill` throws, the destination and its mark are removed
// (best effort: what cannot be removed stays marked) and the error goes on.
// Throws AlreadyExists when the dataset exists and !target.force, before
// anything is written.
void write_marked(Connection& con, const TargetSpec& target,
                  const std::function<void(Dataset&)>& fill);

// Deletes `dataset`, then its mark if there is one; returns whether the
// dataset existed. A dataset whose metadata record cannot be read (corrupt,
// written by someone else) is deleted by the store without it. A missing
// dataset throws DatasetNotFound unless `missing_ok`.
bool remove_with_mark(Connection& con, const std::string& dataset, bool missing_ok = false);

}  // namespace dosna::cli
