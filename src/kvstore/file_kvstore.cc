// The file byte-key store: a plain directory `<directory>/<name>` (which
// must exist), one file per key at the key's relative path (docs/format.md
// "The file store"). A put writes a hidden temp file beside the target and
// renames it into place, so a reader (or a crash) sees the old or the new
// value, never a mix. Conditional puts run under an exclusive lock on the
// store's lock file, unconditional ones under a shared lock, so across
// threads and processes exactly one of several conditional puts on the same
// generation wins. Names starting with ".dosna-" are the store's own (temp
// and lock files) and are never listed.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/builtin.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/kvstore.h"
#include "dosna/names.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOwnPrefix = ".dosna-";

// Numbers the temp files of every store of the process (with the pid: unique).
std::atomic<std::uint64_t> temp_counter{0};

[[noreturn]] void fail(const std::string& what, int err) {
  if (err == EACCES || err == EPERM) throw PermissionDenied(what + ": " + std::strerror(err));
  throw IoError(what + ": " + std::strerror(err), err);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Generation generation_of(const struct stat& st) {
  return {std::to_string(st.st_ino) + "-" + std::to_string(st.st_mtim.tv_sec) + "." +
          std::to_string(st.st_mtim.tv_nsec) + "-" + std::to_string(st.st_size)};
}

class FileKvStore final : public KvStore {
 public:
  FileKvStore(std::string root, bool durable) : root_(std::move(root)), durable_(durable) {
    struct stat st;
    if (::stat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw NotFound("file store: directory " + quote(root_) + " does not exist");
    lock_path_ = root_ + "/" + std::string(kOwnPrefix) + "kv.lock";
  }

  std::string_view kind() const override { return "file"; }
  std::string describe() const override { return root_; }
  std::string location(std::string_view prefix) const override {
    std::string path = root_ + "/" + std::string(prefix);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
  }

  ReadResult get(std::string_view key, const ReadRange& range) override {
    const std::string path = path_of(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return {};
      fail("file store: read " + quote(path), errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) fail("file store: stat " + quote(path), errno);
    if (!S_ISREG(st.st_mode)) return {};
    const auto size = static_cast<std::size_t>(st.st_size);
    const auto [begin, end] = range.within(size);
    auto out = Buffer::allocate(end - begin);
    std::size_t done = 0;
    while (done < out->size()) {
      const ssize_t n = ::pread(fd.get(), out->data() + done, out->size() - done,
                                static_cast<off_t>(begin + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("file store: read " + quote(path), errno);
      if (n == 0) throw IoError("file store: " + quote(path) + " shrank while being read");
      done += static_cast<std::size_t>(n);
    }
    return {std::move(out), generation_of(st), size};
  }

  std::optional<Generation> put(std::string_view key, ChunkData value,
                                const PutCondition& condition) override {
    const std::string path = path_of(key);
    if (!value) throw InvalidArgument("file store: put of key " + quote(key) + " without a value");
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) fail("file store: create the directory of " + quote(path), ec.value());
    const std::string temp = (fs::path(path).parent_path() /
                              (std::string(kOwnPrefix) + "tmp-" + std::to_string(::getpid()) +
                               "-" + std::to_string(temp_counter++)))
                                 .string();
    write_file(temp, *value);
    Lock lock(lock_path_, condition.if_generation ? LOCK_EX : LOCK_SH);
    if (condition.if_generation) {
      struct stat st;
      const bool exists = ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
      const Generation current = exists ? generation_of(st) : Generation{};
      if (!(current == *condition.if_generation)) {
        ::unlink(temp.c_str());
        return std::nullopt;
      }
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      fail("file store: publish " + quote(path), err);
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) fail("file store: stat " + quote(path), errno);
    return generation_of(st);
  }

  bool erase(std::string_view key) override {
    const std::string path = path_of(key);
    Lock lock(lock_path_, LOCK_SH);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return false;
      fail("file store: remove " + quote(path), errno);
    }
    remove_empty_parents(fs::path(path).parent_path());
    return true;
  }

  std::vector<std::string> list(std::string_view prefix) override {
    check_open();
    // Walk only the deepest directory the prefix names.
    const std::size_t slash = prefix.rfind('/');
    const std::string dir = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
    std::vector<std::string> out;
    std::error_code ec;
    const fs::path start = dir.empty() ? fs::path(root_) : fs::path(root_) / dir;
    if (!fs::is_directory(fs::symlink_status(start, ec))) return out;
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string leaf = it->path().filename().string();
      if (leaf.starts_with(kOwnPrefix)) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || it->is_symlink()) continue;
      std::string key = fs::relative(it->path(), root_).generic_string();
      if (key.starts_with(prefix)) out.push_back(std::move(key));
    }
    if (ec) fail("file store: list " + quote(start.string()), ec.value());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::size_t erase_prefix(std::string_view prefix) override {
    const std::size_t removed = KvStore::erase_prefix(prefix);
    if (prefix.ends_with('/') && prefix.size() > 1) {
      const std::string dir = std::string(prefix.substr(0, prefix.size() - 1));
      check_key(dir);
      std::error_code ec;
      fs::remove(fs::path(root_) / dir, ec);  // only if empty: other files stay
    }
    return removed;
  }

  void close() noexcept override { closed_ = true; }

 private:
  // A lock on a descriptor of its own (flock locks belong to the open file),
  // so it excludes other threads of this process as well as other processes.
  struct Lock {
    Lock(const std::string& path, int how)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
      if (fd_.get() < 0) fail("file store: lock file " + quote(path), errno);
      while (::flock(fd_.get(), how) != 0)
        if (errno != EINTR) fail("file store: lock " + quote(path), errno);
    }
    Fd fd_;  // closing it releases the lock
  };

  void check_open() const {
    if (closed_) throw ConnectionError("file store " + quote(root_) + " is closed");
  }
  std::string path_of(std::string_view key) const {
    check_open();
    check_key(key);
    for (std::size_t start = 0;;) {
      const std::size_t end = key.find('/', start);
      if (key.substr(start, end - start).starts_with(kOwnPrefix))
        throw InvalidArgument("key " + quote(key) + " has a part starting with '.dosna-' (the file store's own files)");
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    return root_ + "/" + std::string(key);
  }
  void write_file(const std::string& temp, const Buffer& value) const {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) fail("file store: write " + quote(temp), errno);
    std::size_t done = 0;
    while (done < value.size()) {
      const ssize_t n = ::write(fd.get(), value.data() + done, value.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        fail("file store: write " + quote(temp), err);
      }
      done += static_cast<std::size_t>(n);
    }
    if (durable_ && ::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      fail("file store: fsync " + quote(temp), err);
    }
  }
  void remove_empty_parents(fs::path dir) const {
    const fs::path root(root_);
    while (dir != root && dir.string().size() > root_.size()) {
      if (::rmdir(dir.c_str()) != 0) return;  // not empty (or gone): stop
      dir = dir.parent_path();
    }
  }

  std::string root_;
  bool durable_;
  std::string lock_path_;
  std::atomic<bool> closed_{false};
};

}  // namespace

std::shared_ptr<KvStore> builtin::make_file_kvstore(const std::string& name, const Options& options) {
  OptionReader reader(options, "file store");
  const std::string directory = reader.take_string("directory", ".");
  const bool durable = reader.take_bool("durable", false);
  reader.finish();
  return std::make_shared<FileKvStore>((fs::path(directory) / name).lexically_normal().string(),
                                       durable);
}

}  // namespace dosna
