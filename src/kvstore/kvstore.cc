// What every byte-key store shares: the key rule and the looping defaults of
// the batched and prefix calls (include/dosna/kvstore.h).
#include "dosna/kvstore.h"

#include <algorithm>
#include <exception>
#include <set>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {

void check_key(std::string_view key) {
  auto bad = [&](const char* why) {
    throw InvalidArgument("key " + quote(key) + " " + why);
  };
  if (key.empty()) bad("is empty");
  if (key.size() > 1024) bad("is longer than 1024 bytes");
  std::size_t start = 0;
  while (true) {
    const std::size_t end = key.find('/', start);
    const std::string_view part =
        key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty()) bad("has an empty part (a leading, trailing or doubled '/')");
    if (part == "." || part == "..") bad("has a '.' or '..' part");
    if (part.find('\0') != std::string_view::npos) bad("holds a NUL byte");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

std::pair<std::size_t, std::size_t> ReadRange::within(std::size_t size) const {
  if (offset < 0) {
    const auto want = static_cast<std::size_t>(-offset);
    return {want >= size ? 0 : size - want, size};
  }
  const std::size_t begin = std::min(size, static_cast<std::size_t>(offset));
  return {begin, length ? begin + std::min(*length, size - begin) : size};
}

std::string KvStore::location(std::string_view prefix) const {
  return describe() + " key prefix " + std::string(prefix);
}

std::vector<std::string> KvStore::list_children(std::string_view prefix) {
  std::set<std::string> names;
  for (const std::string& key : list(prefix)) {
    const std::string_view rest = std::string_view(key).substr(prefix.size());
    names.emplace(rest.substr(0, rest.find('/')));
  }
  return {names.begin(), names.end()};
}

std::size_t KvStore::erase_prefix(std::string_view prefix) {
  std::size_t removed = 0;
  for (const std::string& key : list(prefix)) removed += erase(key) ? 1 : 0;
  return removed;
}

ReadResult KvStore::get_as_batch(std::string_view key, const ReadRange& range) {
  ReadResult out;
  const ReadRequest request{std::string(key), range};
  get_many(std::span(&request, 1), std::span(&out, 1));
  return out;
}

std::optional<Generation> KvStore::put_as_batch(std::string_view key, ChunkData value,
                                                const PutCondition& condition) {
  std::optional<Generation> out;
  const PutRequest request{std::string(key), std::move(value), condition};
  put_many(std::span(&request, 1), std::span(&out, 1));
  return out;
}

void KvStore::get_many(std::span<const ReadRequest> requests, std::span<ReadResult> out) {
  for (const auto& r : requests) check_key(r.key);
  std::exception_ptr first;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      out[i] = get(requests[i].key, requests[i].range);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void KvStore::put_many(std::span<const PutRequest> requests,
                       std::span<std::optional<Generation>> out) {
  for (const auto& r : requests) check_key(r.key);
  std::exception_ptr first;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      out[i] = put(requests[i].key, requests[i].value, requests[i].condition);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace dosna
