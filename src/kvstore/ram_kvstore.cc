// The ram byte-key store: values in process memory, shared by every store of
// the same connection name in the process (like a pool). Values are kept as
// the immutable buffers callers hand over; a ranged read copies only the range.
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/kvstore.h"
#include "dosna/names.h"

namespace dosna {
namespace {

struct Entry {
  ChunkData value;
  std::uint64_t version = 0;
};

struct RamSpace {
  std::shared_mutex mu;
  std::map<std::string, Entry, std::less<>> entries;
  std::uint64_t next_version = 1;
};

std::shared_ptr<RamSpace> space_named(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<RamSpace>> spaces;
  std::lock_guard lock(mu);
  auto& weak = spaces[name];
  auto space = weak.lock();
  if (!space) weak = space = std::make_shared<RamSpace>();
  return space;
}

ChunkData slice(const ChunkData& value, const ReadRange& range) {
  if (range.is_whole()) return value;
  const auto [begin, end] = range.within(value->size());
  auto out = Buffer::allocate(end - begin);
  std::copy(value->data() + begin, value->data() + end, out->data());
  return out;
}

class RamKvStore final : public KvStore {
 public:
  explicit RamKvStore(std::string name) : name_(std::move(name)), space_(space_named(name_)) {}

  std::string_view kind() const override { return "ram"; }
  std::string describe() const override { return "ram store " + quote(name_); }

  ReadResult get(std::string_view key, const ReadRange& range) override {
    check(key);
    std::shared_lock lock(space_->mu);
    auto it = space_->entries.find(key);
    if (it == space_->entries.end()) return {};
    return {slice(it->second.value, range), token(it->second.version), it->second.value->size()};
  }

  std::optional<Generation> put(std::string_view key, ChunkData value,
                                const PutCondition& condition) override {
    check(key);
    if (!value) throw InvalidArgument("ram store: put of key " + quote(key) + " without a value");
    std::unique_lock lock(space_->mu);
    auto it = space_->entries.find(key);
    if (condition.if_generation) {
      const Generation current = it == space_->entries.end() ? Generation{} : token(it->second.version);
      if (!(current == *condition.if_generation)) return std::nullopt;
    }
    const std::uint64_t version = space_->next_version++;
    if (it == space_->entries.end())
      space_->entries.emplace(std::string(key), Entry{std::move(value), version});
    else
      it->second = Entry{std::move(value), version};
    return token(version);
  }

  bool erase(std::string_view key) override {
    check(key);
    std::unique_lock lock(space_->mu);
    auto it = space_->entries.find(key);
    if (it == space_->entries.end()) return false;
    space_->entries.erase(it);
    return true;
  }

  std::vector<std::string> list(std::string_view prefix) override {
    check_open();
    std::shared_lock lock(space_->mu);
    std::vector<std::string> out;
    for (auto it = space_->entries.lower_bound(prefix);
         it != space_->entries.end() && it->first.starts_with(prefix); ++it)
      out.push_back(it->first);
    return out;
  }

  void close() noexcept override { closed_ = true; }

 private:
  static Generation token(std::uint64_t version) { return {std::to_string(version)}; }
  void check_open() const {
    if (closed_) throw ConnectionError("ram store " + quote(name_) + " is closed");
  }
  void check(std::string_view key) const {
    check_open();
    check_key(key);
  }

  std::string name_;
  std::shared_ptr<RamSpace> space_;
  std::atomic<bool> closed_{false};
};

}  // namespace

std::shared_ptr<KvStore> builtin::make_ram_kvstore(const std::string& name, const Options& options) {
  OptionReader(options, "ram store").finish();
  return std::make_shared<RamKvStore>(name);
}

}  // namespace dosna
