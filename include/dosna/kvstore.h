// The byte-key store seam: values under '/'-separated keys, with versions.
// Dataset formats (zarr v3/v2, docs/format.md) are written once on top of it;
// each store (ram, file, ceph, s3) implements it once from its transport.
//
// Keys are relative to the store's root: `vol/zarr.json`, `vol/c/0/0/0`.
// A key is 1..1024 bytes, its parts separated by single '/', none empty,
// `.` or `..`, no NUL; anything else is an InvalidArgument naming the key
// (check_key). Values are opaque bytes of any length, including 0.
//
// Thread safety: every method may be called from many threads at once.
// After close() every call throws ConnectionError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dosna/backend.h"

namespace dosna {

// The version of a stored value the store hands back (a counter, an mtime +
// inode, a RADOS object version, an S3 ETag). Opaque: only compared for
// equality by the store that issued it.
struct Generation {
  std::string token;  // empty = "no value" (the key is absent)
  bool absent() const { return token.empty(); }
  friend bool operator==(const Generation&, const Generation&) = default;
};

// Which bytes of a value a read returns. Default: all of them.
struct ReadRange {
  // offset >= 0: bytes [offset, offset + length) (length nullopt = to the
  // end). offset < 0: a suffix, the last -offset bytes (length ignored).
  // A range reaching past the end is cut at the end; one starting past the
  // end returns 0 bytes. A suffix longer than the value returns all of it.
  std::int64_t offset = 0;
  std::optional<std::size_t> length;

  static ReadRange whole() { return {}; }
  static ReadRange bytes(std::size_t offset, std::size_t length) {
    return {static_cast<std::int64_t>(offset), length};
  }
  static ReadRange suffix(std::size_t length) { return {-static_cast<std::int64_t>(length), {}}; }
  bool is_whole() const { return offset == 0 && !length; }
  // The bytes [first, second) this range selects of a value of `size` bytes.
  std::pair<std::size_t, std::size_t> within(std::size_t size) const;
};

struct ReadRequest {
  std::string key;
  ReadRange range{};
};

struct ReadResult {
  ChunkData value;        // nullptr: the key is absent
  Generation generation;  // of the whole stored value; absent() iff value is null
  // Size of the whole stored value when the store knows it cheaply (every
  // built-in store does for a ranged read); nullopt otherwise.
  std::optional<std::uint64_t> total_size;
};

// When a put may happen.
struct PutCondition {
  // nullopt: always. A Generation: only if the key's current generation
  // equals it; Generation{} (absent) means "only if the key does not exist".
  std::optional<Generation> if_generation;

  static PutCondition always() { return {}; }
  static PutCondition if_absent() { return {Generation{}}; }
  static PutCondition if_equal(Generation g) { return {std::move(g)}; }
};

struct PutRequest {
  std::string key;
  ChunkData value;
  PutCondition condition{};
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Registry name of the store: "ram", "file", "ceph", "s3".
  virtual std::string_view kind() const = 0;
  // Where the store is, for messages and for users of other zarr tools
  // ("/data/vol", "ceph pool 'tomo'", "s3 http://127.0.0.1:7480"); never
  // holds credentials.
  virtual std::string describe() const = 0;
  // Where another tool opens the keys under `prefix` (a directory for the
  // file store: "/data/vol"; "s3://vol at http://127.0.0.1:7480" for s3);
  // never holds credentials. The default: describe() + " key prefix ...".
  virtual std::string location(std::string_view prefix) const;

  // The value (or the requested bytes of it) and its generation; a missing
  // key is a result with a null value, never an error. Throws
  // ConnectionError / PermissionDenied / IoError (naming the key).
  virtual ReadResult get(std::string_view key, const ReadRange& range = {}) = 0;

  // Stores `value` under `key` atomically: a reader sees the old or the new
  // value, never a mix, even if the writer dies mid-way. Returns the new
  // generation, or nullopt if `condition` did not hold (nothing written).
  // Two concurrent conditional puts on the same generation: exactly one
  // succeeds.
  virtual std::optional<Generation> put(std::string_view key, ChunkData value,
                                        const PutCondition& condition = {}) = 0;

  // Removes the key; returns whether it existed. Idempotent.
  virtual bool erase(std::string_view key) = 0;

  // Every key starting with `prefix`, sorted. An empty prefix lists all.
  virtual std::vector<std::string> list(std::string_view prefix) = 0;

  // The distinct names directly under `prefix` (which is "" or ends in '/'):
  // for keys a/x, a/y/z, b under "" -> a, b; under "a/" -> x, y. Sorted.
  // The default filters list(prefix); stores with delimiter listing override.
  virtual std::vector<std::string> list_children(std::string_view prefix);

  // Removes every key starting with `prefix` (and whatever container the
  // store keeps for it: an S3 bucket, a directory). Returns how many keys
  // were removed. The default erases list(prefix) one by one.
  virtual std::size_t erase_prefix(std::string_view prefix);

  // Batched forms: element-wise the same contracts, results in request
  // order. Stores with asynchronous I/O override them to keep every request
  // in flight at once; the defaults loop. Every key is checked before any
  // request starts (a bad one: InvalidArgument, nothing read or written).
  // The first error is thrown after every request finished.
  virtual void get_many(std::span<const ReadRequest> requests, std::span<ReadResult> out);
  virtual void put_many(std::span<const PutRequest> requests,
                        std::span<std::optional<Generation>> out);

  // Ends the connection; idempotent, never throws. Later calls throw
  // ConnectionError; calls in flight finish or fail as they would have.
  virtual void close() noexcept = 0;

 protected:
  // get / put as a batch of one, for stores whose batched forms are the
  // primary implementation.
  ReadResult get_as_batch(std::string_view key, const ReadRange& range);
  std::optional<Generation> put_as_batch(std::string_view key, ChunkData value,
                                         const PutCondition& condition);
};

// Throws InvalidArgument naming `key` (shown escaped) if it breaks the key
// rule at the top of this file. Stores call it on every key they are given.
void check_key(std::string_view key);

// Builds the byte-key store `kind` ("ram", "file", "ceph", "s3") for the
// connection name and options its Backend would get (the file store: the
// directory `<directory>/<name>`). Throws as make_backend does.
std::shared_ptr<KvStore> make_kvstore(std::string_view kind, const std::string& name,
                                      const Options& options);

}  // namespace dosna
