// The hdf5 backend: a directory tree, one sub-directory per dataset holding
// dataset.h5 (the metadata record as root attributes) and one HDF5 file per
// chunk, chunk_<i>_<j>_<k>.h5 (docs/format.md, HDF5 section). Chunk I/O bypasses
// the HDF5 library where it safely can: see chunk_file.h.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "backends/hdf5/chunk_file.h"
#include "backends/hdf5/metadata_file.h"
#include "backends/hdf5/posix_io.h"
#include "core/builtin.h"
#include "core/metadata_codec.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMetadataFile = "dataset.h5";
// The dataset's user attributes, JSON (docs/format.md "Attributes").
constexpr const char* kAttributesFile = "dosna_attributes.json";
// Per-dataset lock file for update(); not a chunk (list() ignores it).
constexpr const char* kLockFile = ".dosna-chunks.lock";
// A dataset directory being deleted is first renamed to this hidden prefix,
// so a reader never sees a half-deleted dataset. Names with it are reserved.
constexpr std::string_view kTrashPrefix = ".dosna-trash-";

std::atomic<unsigned long> name_counter{0};

// Unique among live processes, and (the random part) with a leftover of a
// dead process whose pid was reused.
std::string unique_suffix() {
  static const unsigned salt = std::random_device{}();
  return std::to_string(::getpid()) + "." + std::to_string(salt) + "." +
         std::to_string(name_counter++);
}

// Names map to one directory directly under the connection directory: the
// core's rule (names.h: no separators, no "." or "..", no NUL, nothing
// empty), checked here too since the backend is usable on its own, plus the
// reserved trash prefix.
void validate_name(const std::string& dataset) {
  check_dataset_name(dataset, "hdf5 backend");
  if (dataset.starts_with(kTrashPrefix)) {
    throw InvalidArgument("hdf5 backend: dataset name " + quote(dataset) +
                          " uses the reserved prefix '" + std::string(kTrashPrefix) + "'");
  }
}

[[noreturn]] void throw_errno(const std::string& what, int err) {
  hdf5::throw_errno("hdf5 backend: " + what, err);
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open " + path + " to fsync", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync " + path, err);
}

// Marks the connection directory "top of directory hierarchies" (chattr +T)
// on ext2/3/4, so the inode allocator (Orlov) gives each dataset directory,
// and with it its chunk files, a block group of its own instead of its
// parent's. Without it, every dataset shares one group, and on ext4 without a
// journal each new chunk file scans the inodes deleted there in the last
// seconds (recently_deleted()): loading a dataset right after deleting one
// cost 4-7x the CPU (docs/hdf5.md). Best effort: a directory whose flags we
// may not change keeps them.
void spread_subdirectories(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  struct statfs fs_info {};
  int flags = 0;
  if (::fstatfs(fd, &fs_info) == 0 && fs_info.f_type == EXT4_SUPER_MAGIC &&
      ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_TOPDIR_FL) == 0) {
    flags |= FS_TOPDIR_FL;
    (void)::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  ::close(fd);
}

// Calls fn(directory fd, name) for every entry of the directory `path` but
// "." and "..", opened without following a final symbolic link (IoError if
// it is one); nothing if it does not exist.
template <class Fn>
void for_each_entry(const std::string& path, const std::string& context, Fn&& fn) {
  hdf5::Fd fd = hdf5::open_directory_at(AT_FDCWD, path, "hdf5 backend: " + context);
  if (!fd.valid()) return;
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) throw_errno(context, errno);
  const int dir_fd = fd.release();
  struct Closer {
    DIR* dir;
    ~Closer() { ::closedir(dir); }
  } closer{dir};
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) throw_errno(context, errno);
      return;
    }
    const std::string name = e->d_name;
    if (name != "." && name != "..") fn(dir_fd, name);
  }
}

std::string chunk_file_name(const ChunkIndex& index) {
  return "chunk_" + codec::join_index(index, '_') + ".h5";
}

// An exclusive OFD lock on one byte of a lock file, held for its lifetime.
// Each holder opens the file itself: OFD locks belong to the open file
// description, so they exclude threads of one process as well as processes.
class ByteLock {
 public:
  ByteLock(const std::string& file, off_t byte, const std::string& dataset) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
    const std::string context = "dataset " + quote(dataset) + ": cannot open lock file " + file;
    if (fd_ < 0) throw_errno(context, errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw IoError("hdf5 backend: " + context + ": not a regular file", EIO);
    }
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = byte;
    lock.l_len = 1;
    while (::fcntl(fd_, F_OFD_SETLKW, &lock) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      throw_errno("dataset '" + dataset + "': cannot lock byte " + std::to_string(byte) + " of " +
                      file,
                  err);
    }
  }
  ~ByteLock() { ::close(fd_); }
  ByteLock(const ByteLock&) = delete;
  ByteLock& operator=(const ByteLock&) = delete;

 private:
  int fd_ = -1;
};

// What the backend and its chunk stores share; outlives the backend if a
// store is still held.
struct Shared {
  std::string name;
  std::string root;  // <directory>/<name>
  bool durable = false;
  bool spread_datasets = true;  // see spread_subdirectories()
  std::atomic<bool> connected{false};

  void require_connected() const {
    if (!connected.load(std::memory_order_acquire)) {
      throw ConnectionError("hdf5 backend: connection '" + name + "' (" + root +
                            ") is not connected");
    }
  }
};

// What chunk I/O of datasets with one (dtype, chunk_size, fill value) needs.
struct Layout {
  hdf5::ChunkTemplate file;
};

class Hdf5ChunkStore final : public ChunkStore {
 public:
  Hdf5ChunkStore(std::shared_ptr<const Shared> shared, std::string dataset, DatasetMeta meta,
                 std::shared_ptr<const Layout> layout)
      : shared_(std::move(shared)),
        dataset_(std::move(dataset)),
        dir_(shared_->root + "/" + dataset_),
        meta_(std::move(meta)),
        grid_(meta_.chunk_grid()),
        layout_(std::move(layout)) {}

  ChunkData get(const ChunkIndex& index) override {
    shared_->require_connected();
    return hdf5::read_chunk_file(path(index), layout_->file, meta_, dataset_);
  }

  std::vector<bool> get_many_into(std::span<const ChunkIndex> indices,
                                  std::span<const std::span<std::byte>> out) override {
    shared_->require_connected();
    std::vector<bool> found(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i)
      found[i] = hdf5::read_chunk_file_into(path(indices[i]), layout_->file, meta_, dataset_, out[i]);
    return found;
  }

  // Partial reads cost only the bytes read (plus one open), so the core may
  // read partly covered chunks as ranges.
  bool reads_ranges() const override { return true; }

  void get_ranges_many(std::span<const ChunkIndex> indices,
                       std::span<const std::vector<ByteRange>> ranges,
                       std::span<ChunkData> out) override {
    shared_->require_connected();
    for (std::size_t i = 0; i < indices.size(); ++i) {
      out[i] = hdf5::read_chunk_ranges(path(indices[i]), layout_->file, meta_, dataset_,
                                       ranges[i]);
    }
  }

  void put(const ChunkIndex& index, ChunkData data) override {
    shared_->require_connected();
    if (!data) throw InvalidArgument("hdf5 backend: dataset '" + dataset_ + "': null chunk");
    check_index(index);
    try {
      hdf5::write_chunk_file(dir_, chunk_file_name(index), layout_->file, *data,
                             shared_->durable, dataset_);
    } catch (const IoError& e) {
      rethrow_if_deleted(e);
      throw;
    }
  }

  // Safe against writers in other processes and threads: the read, modify
  // and write happen under the chunk's lock (see the file comment).
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    shared_->require_connected();
    check_index(index);
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < index.size(); ++d) flat = flat * grid_[d] + index[d];
    std::optional<ByteLock> lock;
    try {
      lock.emplace(dir_ + "/" + kLockFile, static_cast<off_t>(flat), dataset_);
    } catch (const IoError& e) {
      rethrow_if_deleted(e);
      throw;
    }
    ChunkData next = modify(get(index));
    put(index, std::move(next));
  }

  bool has(const ChunkIndex& index) override {
    shared_->require_connected();
    struct stat st;
    if (::stat(path(index).c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno("dataset '" + dataset_ + "': cannot stat " + path(index), errno);
  }

  bool remove(const ChunkIndex& index) override {
    shared_->require_connected();
    const std::string file = path(index);
    if (::unlink(file.c_str()) == 0) {
      if (shared_->durable) fsync_path(dir_, O_RDONLY | O_DIRECTORY);
      return true;
    }
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno("dataset '" + dataset_ + "': cannot remove " + file, errno);
  }

  // The dataset directory itself is opened without following a link, so a
  // directory replaced by a link out of the store lists (and clears) nothing.
  std::vector<ChunkIndex> list() override {
    shared_->require_connected();
    std::vector<ChunkIndex> out;
    for_each_entry(dir_, "dataset " + quote(dataset_) + ": cannot list " + dir_,
                   [&](int, const std::string& file) {
                     if (!file.starts_with("chunk_") || !file.ends_with(".h5")) return;
                     const std::string_view middle =
                         std::string_view(file).substr(6, file.size() - 6 - 3);
                     auto index = codec::split_index(middle, '_', meta_.shape.size());
                     if (index) out.push_back(std::move(*index));
                   });
    return out;
  }

 private:
  // A write whose directory is gone (ENOENT) raced a delete of the dataset.
  void rethrow_if_deleted(const IoError& e) const {
    if (e.code() != ENOENT) return;
    struct stat st;
    if (::lstat(dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
    throw DatasetNotFound("hdf5 backend: dataset " + quote(dataset_) +
                          " was deleted while being written (" + dir_ + " is gone)");
  }

  void check_index(const ChunkIndex& index) const {
    bool ok = index.size() == grid_.size();
    for (std::size_t i = 0; ok && i < index.size(); ++i) ok = index[i] >= 0 && index[i] < grid_[i];
    if (!ok) {
      throw InvalidArgument("hdf5 backend: dataset '" + dataset_ + "': chunk index " +
                            codec::join_index(index, ',') + " outside the chunk grid " +
                            codec::format_ints(grid_));
    }
  }

  std::string path(const ChunkIndex& index) const {
    check_index(index);
    return dir_ + "/" + chunk_file_name(index);
  }

  std::shared_ptr<const Shared> shared_;
  std::string dataset_;
  std::string dir_;
  DatasetMeta meta_;
  Shape grid_;
  std::shared_ptr<const Layout> layout_;
};

class Hdf5Backend final : public Backend {
 public:
  Hdf5Backend(const std::string& name, const Options& options)
      : shared_(std::make_shared<Shared>()) {
    OptionReader reader(options, "hdf5 backend");
    const std::string directory = reader.take_string("directory", ".");
    shared_->durable = reader.take_bool("durable", false);
    shared_->spread_datasets = reader.take_bool("spread_datasets", true);
    reader.finish();
    shared_->name = name;
    shared_->root = (fs::path(directory) / name).lexically_normal().string();
    while (shared_->root.size() > 1 && shared_->root.back() == '/') shared_->root.pop_back();
  }

  ~Hdf5Backend() override { disconnect(); }

  std::string_view kind() const override { return "hdf5"; }
  const std::string& name() const override { return shared_->name; }

  void connect() override {
    if (connected()) return;
    struct stat st;
    if (::stat(shared_->root.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        throw NotFound("hdf5 backend: connection directory '" + shared_->root +
                       "' does not exist");
      }
      throw_errno("cannot open connection directory '" + shared_->root + "'", errno);
    }
    if (!S_ISDIR(st.st_mode)) {
      throw NotFound("hdf5 backend: connection directory '" + shared_->root +
                     "' is not a directory");
    }
    if (shared_->spread_datasets) spread_subdirectories(shared_->root);
    shared_->connected.store(true, std::memory_order_release);
    sweep_trash();
  }

  void disconnect() noexcept override {
    shared_->connected.store(false, std::memory_order_release);
    std::lock_guard<std::mutex> guard(mutex_);
    records_.clear();
    layouts_.clear();
  }

  bool connected() const override { return shared_->connected.load(std::memory_order_acquire); }

  // mkdir + a record written to a temporary file and link()ed into place, so
  // two creators cannot both succeed. A directory that vanishes meanwhile (a
  // delete of the same name renamed it away) makes the create start over.
  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    shared_->require_connected();
    validate_name(dataset);
    meta.validate(dataset);
    const std::vector<std::byte> image = hdf5::metadata_image(meta, dataset);
    const std::string dir = dataset_dir(dataset);
    const std::string record = dir + "/" + kMetadataFile;
    const std::string who = "dataset " + quote(dataset);
    auto exists = [&] {
      return AlreadyExists("hdf5 backend: " + who + " already exists (" + dir + ")");
    };
    constexpr int kMaxAttempts = 100;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      bool made_dir = true;
      if (::mkdir(dir.c_str(), 0777) != 0) {
        if (errno != EEXIST) throw_errno(who + ": cannot create " + dir, errno);
        made_dir = false;
        if (!reusable_directory(dir, who, exists)) continue;  // vanished
      }
      const std::string temp = dir + "/." + kMetadataFile + "." + unique_suffix() + ".tmp";
      try {
        if (!write_new_file(temp, image, who)) continue;  // the directory vanished
        // link() publishes the record only if no concurrent creator did first.
        if (::link(temp.c_str(), record.c_str()) != 0) {
          const int err = errno;
          ::unlink(temp.c_str());
          if (err == EEXIST) throw exists();
          if (err == ENOENT) continue;
          throw_errno(who + ": cannot create " + record, err);
        }
        ::unlink(temp.c_str());
        if (shared_->durable) {
          fsync_path(dir, O_RDONLY | O_DIRECTORY);
          fsync_path(shared_->root, O_RDONLY | O_DIRECTORY);
        }
      } catch (...) {
        ::unlink(temp.c_str());
        if (made_dir) ::rmdir(dir.c_str());
        throw;
      }
      std::lock_guard<std::mutex> guard(mutex_);
      records_.erase(dataset);
      return;
    }
    throw IoError("hdf5 backend: " + who + ": its directory " + dir + " vanished " +
                      std::to_string(kMaxAttempts) + " times while it was being created",
                  EAGAIN);
  }

  // The record is read without following links, from a regular file only
  // (a FIFO in its place is an IoError, not a read that never returns).
  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    shared_->require_connected();
    validate_name(dataset);
    const std::string dir = dataset_dir(dataset);
    const std::string record = dir + "/" + kMetadataFile;
    const std::string context = "hdf5 backend: dataset " + quote(dataset) + ": cannot read " +
                                record;
    auto forget = [&] {
      std::lock_guard<std::mutex> guard(mutex_);
      records_.erase(dataset);
      return std::nullopt;
    };
    hdf5::Fd dir_fd = hdf5::open_directory_at(AT_FDCWD, dir, context);
    if (!dir_fd.valid()) return forget();
    struct stat st;
    hdf5::Fd fd = hdf5::open_regular_at(dir_fd.get(), kMetadataFile, context, st);
    if (!fd.valid()) return forget();
    // The record is read once and then served from memory while the file is
    // unchanged (same inode, size and mtime): opening an HDF5 file costs far
    // more than a stat.
    {
      std::lock_guard<std::mutex> guard(mutex_);
      auto it = records_.find(dataset);
      if (it != records_.end() && it->second.same_file(st)) return it->second.meta;
    }
    if (static_cast<std::uint64_t>(st.st_size) > hdf5::kMaxRecordBytes) {
      throw IoError(context + ": the file has " + std::to_string(st.st_size) +
                        " bytes, more than any dataset record (" +
                        std::to_string(hdf5::kMaxRecordBytes) + ")",
                    EFBIG);
    }
    const std::vector<std::byte> image = read_whole(fd.get(), st, context);
    DatasetMeta meta = hdf5::parse_metadata_image(image, dataset, record);
    std::lock_guard<std::mutex> guard(mutex_);
    records_[dataset] = Record{meta, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return meta;
  }

  std::string read_attributes(const std::string& dataset) override {
    const std::string dir = existing_dir(dataset);
    const std::string context = "hdf5 backend: dataset " + quote(dataset) + ": cannot read " + dir +
                                "/" + kAttributesFile;
    hdf5::Fd dir_fd = hdf5::open_directory_at(AT_FDCWD, dir, context);
    if (!dir_fd.valid()) return "{}";
    struct stat st;
    hdf5::Fd fd = hdf5::open_regular_at(dir_fd.get(), kAttributesFile, context, st);
    if (!fd.valid()) return "{}";
    if (static_cast<std::uint64_t>(st.st_size) > hdf5::kMaxRecordBytes)
      throw IoError(context + ": the file has " + std::to_string(st.st_size) +
                        " bytes, more than attributes may (" + std::to_string(hdf5::kMaxRecordBytes) + ")",
                    EFBIG);
    const std::vector<std::byte> bytes = read_whole(fd.get(), st, context);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    const auto* p = reinterpret_cast<const std::byte*>(json_object.data());
    replace_file(dataset, kAttributesFile, std::vector<std::byte>(p, p + json_object.size()));
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    replace_file(dataset, kMetadataFile, hdf5::metadata_image(meta, dataset));
    std::lock_guard<std::mutex> guard(mutex_);
    records_.erase(dataset);
  }

  // Renames the directory (or a link in its place: only the link goes) to a
  // hidden trash name, then removes that tree without following links.
  // Works without reading the record, so a broken dataset goes too.
  void delete_dataset(const std::string& dataset) override {
    shared_->require_connected();
    validate_name(dataset);
    const std::string dir = dataset_dir(dataset);
    const std::string record = dir + "/" + kMetadataFile;
    const std::string who = "dataset " + quote(dataset);
    {
      std::lock_guard<std::mutex> guard(mutex_);
      records_.erase(dataset);
    }
    auto missing = [&] {
      return DatasetNotFound("hdf5 backend: " + who + " does not exist in " + shared_->root);
    };
    struct stat st;
    if (::fstatat(AT_FDCWD, record.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) throw missing();
      throw_errno(who + ": cannot stat " + record, errno);
    }
    // Not named after the dataset: a name of 255 bytes leaves no room.
    const std::string trash = shared_->root + "/" + std::string(kTrashPrefix) + unique_suffix();
    if (::rename(dir.c_str(), trash.c_str()) != 0) {
      if (errno == ENOENT) throw missing();
      throw_errno(who + ": cannot remove " + dir, errno);
    }
    if (const int rc = hdf5::remove_tree_at(AT_FDCWD, trash); rc != 0) {
      throw_errno(who + ": cannot remove " + trash +
                      " (the dataset is gone; the next connect or listing retries)",
                  rc);
    }
    if (shared_->durable) fsync_path(shared_->root, O_RDONLY | O_DIRECTORY);
  }

  // Every directory holding a dataset.h5 of any kind (a broken one is listed
  // so that it can be seen and removed); removes leftover trash on the way.
  std::vector<std::string> list_datasets() override {
    shared_->require_connected();
    std::vector<std::string> out;
    std::vector<std::string> trash;
    for_each_entry(shared_->root, "cannot list " + shared_->root,
                   [&](int root, const std::string& entry) {
                     if (entry.starts_with(kTrashPrefix)) {
                       trash.push_back(entry);
                       return;
                     }
                     struct stat st;
                     const std::string record = entry + "/" + kMetadataFile;
                     if (::fstatat(root, record.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
                       out.push_back(entry);
                   });
    for (const auto& entry : trash) hdf5::remove_tree_at(AT_FDCWD, shared_->root + "/" + entry);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::shared_ptr<ChunkStore> chunks(const std::string& dataset,
                                     const DatasetMeta& meta) override {
    shared_->require_connected();
    validate_name(dataset);
    meta.validate(dataset);
    return std::make_shared<Hdf5ChunkStore>(shared_, dataset, meta, layout_for(meta, dataset));
  }

 private:
  struct Record {
    DatasetMeta meta;
    dev_t dev;
    ino_t ino;
    off_t size;
    timespec mtime;

    bool same_file(const struct stat& st) const {
      return st.st_dev == dev && st.st_ino == ino && st.st_size == size &&
             st.st_mtim.tv_sec == mtime.tv_sec && st.st_mtim.tv_nsec == mtime.tv_nsec;
    }
  };

  std::string dataset_dir(const std::string& dataset) const {
    return shared_->root + "/" + dataset;
  }

  // Removes what deletes that were interrupted (a killed process) left.
  void sweep_trash() noexcept {
    try {
      std::vector<std::string> trash;
      for_each_entry(shared_->root, "cannot list " + shared_->root,
                     [&](int, const std::string& entry) {
                       if (entry.starts_with(kTrashPrefix)) trash.push_back(entry);
                     });
      for (const auto& entry : trash) hdf5::remove_tree_at(AT_FDCWD, shared_->root + "/" + entry);
    } catch (const Error&) {
    }
  }

  // Whether the existing `dir` may hold a new dataset: a real directory that
  // is empty or holds only other creators' temporary records. False if it
  // vanished; throws AlreadyExists (from `exists`) otherwise.
  template <class Exists>
  bool reusable_directory(const std::string& dir, const std::string& who,
                          Exists&& exists) const {
    auto foreign = [&] {
      return AlreadyExists("hdf5 backend: " + who + ": " + dir +
                           " exists and is not a DosNa dataset");
    };
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) {
      if (errno == ENOENT) return false;
      throw_errno(who + ": cannot stat " + dir, errno);
    }
    if (!S_ISDIR(st.st_mode)) throw foreign();  // a link or a file in the dataset's place
    const std::string temp_prefix = std::string(".") + kMetadataFile + ".";
    for_each_entry(dir, who + ": cannot open " + dir, [&](int, const std::string& entry) {
      if (entry == kMetadataFile) throw exists();
      if (!entry.starts_with(temp_prefix) || !entry.ends_with(".tmp")) throw foreign();
    });
    return true;
  }

  // The bytes of the open file `fd` (of st.st_size bytes, fewer if it shrank).
  static std::vector<std::byte> read_whole(int fd, const struct stat& st, const std::string& context) {
    std::vector<std::byte> bytes(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) hdf5::throw_errno(context, errno);
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    return bytes;
  }

  std::string existing_dir(const std::string& dataset) {
    if (!read_dataset(dataset))
      throw DatasetNotFound("hdf5 backend: dataset " + quote(dataset) + " does not exist in " +
                            shared_->root);
    return dataset_dir(dataset);
  }

  // Replaces `file` of the dataset's directory: a temporary file renamed
  // over it, so a reader sees the old or the new one whole.
  void replace_file(const std::string& dataset, const char* file, const std::vector<std::byte>& bytes) {
    const std::string dir = existing_dir(dataset);
    const std::string who = "dataset " + quote(dataset);
    const std::string temp = dir + "/." + file + "." + unique_suffix() + ".tmp";
    if (!write_new_file(temp, bytes, who))
      throw DatasetNotFound("hdf5 backend: " + who + ": its directory " + dir + " vanished");
    if (::rename(temp.c_str(), (dir + "/" + file).c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      throw_errno(who + ": cannot replace " + dir + "/" + file, err);
    }
    if (shared_->durable) fsync_path(dir, O_RDONLY | O_DIRECTORY);
  }

  // Writes `bytes` as the new file `path` (never through a link). False if
  // its directory does not exist.
  bool write_new_file(const std::string& path, const std::vector<std::byte>& bytes,
                      const std::string& who) const {
    hdf5::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
    if (!fd.valid()) {
      if (errno == ENOENT) return false;
      throw_errno(who + ": cannot create " + path, errno);
    }
    hdf5::write_all(fd.get(),
                    {{const_cast<std::byte*>(bytes.data()), bytes.size()}},
                    "hdf5 backend: " + who + ": cannot write " + path);
    if (shared_->durable && ::fsync(fd.get()) != 0) throw_errno(who + ": cannot fsync " + path, errno);
    if (::close(fd.release()) != 0) throw_errno(who + ": cannot close " + path, errno);
    return true;
  }

  // Chunk file templates depend only on dtype, chunk shape and fill value;
  // datasets that share those share one.
  std::shared_ptr<const Layout> layout_for(const DatasetMeta& meta, const std::string& dataset) {
    std::vector<std::byte> fill(meta.dtype.itemsize());
    meta.fillvalue.store(meta.dtype, fill.data());
    std::string key = meta.dtype.str() + "|" + codec::format_ints(meta.chunk_size) + "|";
    for (std::byte b : fill) key += std::to_string(static_cast<int>(b)) + ",";
    {
      std::lock_guard<std::mutex> guard(mutex_);
      auto it = layouts_.find(key);
      if (it != layouts_.end()) return it->second;
    }
    auto layout = std::make_shared<Layout>();
    layout->file = hdf5::build_chunk_template(meta, dataset);
    std::lock_guard<std::mutex> guard(mutex_);
    if (layouts_.size() >= 64) layouts_.clear();
    return layouts_.emplace(key, std::move(layout)).first->second;
  }

  std::shared_ptr<Shared> shared_;
  std::mutex mutex_;
  std::map<std::string, Record> records_;
  std::map<std::string, std::shared_ptr<const Layout>> layouts_;
};

}  // namespace

std::shared_ptr<Backend> builtin::make_hdf5_backend(const std::string& name,
                                                    const Options& options) {
  return std::make_shared<Hdf5Backend>(name, options);
}

}  // namespace dosna
