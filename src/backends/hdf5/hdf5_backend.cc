// The hdf5 backend: a directory tree, one sub-directory per dataset holding
// dataset.h5 (the metadata record as root attributes) and one HDF5 file per
// chunk, chunk_<i>_<j>_<k>.h5 (FORMAT.md, HDF5 section). Chunk I/O bypasses
// the HDF5 library where it safely can: see chunk_file.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "backends/hdf5/chunk_file.h"
#include "backends/hdf5/metadata_file.h"
#include "core/builtin.h"
#include "core/metadata_codec.h"
#include "core/options.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMetadataFile = "dataset.h5";
// Per-dataset lock file for update(); not a chunk (list() ignores it).
constexpr const char* kLockFile = ".dosna-chunks.lock";
// A dataset directory being deleted is first renamed to this hidden prefix,
// so a reader never sees a half-deleted dataset. Names with it are reserved.
constexpr std::string_view kTrashPrefix = ".dosna-trash-";

std::atomic<unsigned long> name_counter{0};

std::string unique_suffix() {
  return std::to_string(::getpid()) + "." + std::to_string(name_counter++);
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
  const std::string message = "hdf5 backend: " + what + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) throw PermissionDenied(message);
  throw IoError(message, err);
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open " + path + " to fsync", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync " + path, err);
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
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) throw_errno("dataset '" + dataset + "': cannot open lock file " + file, errno);
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
  std::shared_ptr<hdf5::BufferPool> pool;
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
    return hdf5::read_chunk_file(path(index), layout_->file, meta_, dataset_, *layout_->pool);
  }

  ChunkData get_range(const ChunkIndex& index, std::size_t offset, std::size_t length) override {
    shared_->require_connected();
    return hdf5::read_chunk_range(path(index), layout_->file, meta_, dataset_, offset, length);
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
    hdf5::write_chunk_file(dir_, chunk_file_name(index), layout_->file, *data, shared_->durable,
                           dataset_);
  }

  // Safe against writers in other processes and threads: the read, modify
  // and write happen under the chunk's lock (see the file comment).
  void update(const ChunkIndex& index,
              const std::function<ChunkData(const ChunkData& current)>& modify) override {
    shared_->require_connected();
    check_index(index);
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < index.size(); ++d) flat = flat * grid_[d] + index[d];
    ByteLock lock(dir_ + "/" + kLockFile, static_cast<off_t>(flat), dataset_);
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

  std::vector<ChunkIndex> list() override {
    shared_->require_connected();
    std::vector<ChunkIndex> out;
    std::error_code ec;
    fs::directory_iterator it(dir_, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return out;
      throw_errno("dataset '" + dataset_ + "': cannot list " + dir_, ec.value());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (!file.starts_with("chunk_") || !file.ends_with(".h5")) continue;
      const std::string_view middle = std::string_view(file).substr(6, file.size() - 6 - 3);
      auto index = codec::split_index(middle, '_', meta_.shape.size());
      if (index) out.push_back(std::move(*index));
    }
    if (ec) throw_errno("dataset '" + dataset_ + "': cannot list " + dir_, ec.value());
    return out;
  }

 private:
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
    shared_->connected.store(true, std::memory_order_release);
  }

  void disconnect() noexcept override {
    shared_->connected.store(false, std::memory_order_release);
    std::lock_guard<std::mutex> guard(mutex_);
    records_.clear();
    layouts_.clear();
  }

  bool connected() const override { return shared_->connected.load(std::memory_order_acquire); }

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    shared_->require_connected();
    validate_name(dataset);
    meta.validate(dataset);
    const std::string dir = dataset_dir(dataset);
    const std::string record = dir + "/" + kMetadataFile;
    bool made_dir = true;
    if (::mkdir(dir.c_str(), 0777) != 0) {
      if (errno != EEXIST) throw_errno("dataset '" + dataset + "': cannot create " + dir, errno);
      made_dir = false;
      std::error_code ec;
      if (fs::exists(record, ec)) {
        throw AlreadyExists("hdf5 backend: dataset '" + dataset + "' already exists (" + dir +
                            ")");
      }
      // A leftover empty directory (say, from a create that crashed) is
      // reused; anything else is not ours to take over.
      if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) {
        throw AlreadyExists("hdf5 backend: dataset '" + dataset + "': " + dir +
                            " exists and is not a DosNa dataset");
      }
    }
    const std::string temp = dir + "/." + kMetadataFile + "." + unique_suffix() + ".tmp";
    try {
      hdf5::write_metadata_file(temp, meta, dataset);
      if (shared_->durable) fsync_path(temp, O_RDONLY);
      // link() publishes the record only if no concurrent creator did first.
      if (::link(temp.c_str(), record.c_str()) != 0) {
        const int err = errno;
        if (err == EEXIST) {
          throw AlreadyExists("hdf5 backend: dataset '" + dataset + "' already exists (" + dir +
                              ")");
        }
        throw_errno("dataset '" + dataset + "': cannot create " + record, err);
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
  }

  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    shared_->require_connected();
    validate_name(dataset);
    const std::string record = dataset_dir(dataset) + "/" + kMetadataFile;
    struct stat st;
    if (::stat(record.c_str(), &st) != 0) {
      const int err = errno;
      std::lock_guard<std::mutex> guard(mutex_);
      records_.erase(dataset);
      if (err == ENOENT || err == ENOTDIR) return std::nullopt;
      throw_errno("dataset '" + dataset + "': cannot stat " + record, err);
    }
    // The record is read once and then served from memory while the file is
    // unchanged (same inode, size and mtime): opening an HDF5 file costs far
    // more than a stat.
    {
      std::lock_guard<std::mutex> guard(mutex_);
      auto it = records_.find(dataset);
      if (it != records_.end() && it->second.same_file(st)) return it->second.meta;
    }
    DatasetMeta meta = hdf5::read_metadata_file(record, dataset);
    std::lock_guard<std::mutex> guard(mutex_);
    records_[dataset] = Record{meta, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return meta;
  }

  void delete_dataset(const std::string& dataset) override {
    shared_->require_connected();
    validate_name(dataset);
    const std::string dir = dataset_dir(dataset);
    const std::string record = dir + "/" + kMetadataFile;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      records_.erase(dataset);
    }
    struct stat st;
    if (::stat(record.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        throw DatasetNotFound("hdf5 backend: dataset '" + dataset + "' does not exist in " +
                              shared_->root);
      }
      throw_errno("dataset '" + dataset + "': cannot stat " + record, errno);
    }
    // Not named after the dataset: a name of 255 bytes leaves no room.
    const std::string trash = shared_->root + "/" + std::string(kTrashPrefix) + unique_suffix();
    if (::rename(dir.c_str(), trash.c_str()) != 0) {
      if (errno == ENOENT) {
        throw DatasetNotFound("hdf5 backend: dataset '" + dataset + "' does not exist in " +
                              shared_->root);
      }
      throw_errno("dataset '" + dataset + "': cannot remove " + dir, errno);
    }
    std::error_code ec;
    fs::remove_all(trash, ec);
    if (ec) throw_errno("dataset '" + dataset + "': cannot remove " + trash, ec.value());
    if (shared_->durable) fsync_path(shared_->root, O_RDONLY | O_DIRECTORY);
  }

  std::vector<std::string> list_datasets() override {
    shared_->require_connected();
    std::vector<std::string> out;
    std::error_code ec;
    fs::directory_iterator it(shared_->root, ec);
    if (ec) throw_errno("cannot list " + shared_->root, ec.value());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const std::string entry = it->path().filename().string();
      if (entry.starts_with(kTrashPrefix)) continue;
      std::error_code ignored;
      if (fs::is_regular_file(it->path() / kMetadataFile, ignored)) out.push_back(entry);
    }
    if (ec) throw_errno("cannot list " + shared_->root, ec.value());
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
    // Enough idle buffers for a few batches of the core in flight, bounded
    // to about 64 MiB per layout.
    const std::size_t nbytes = std::max<std::size_t>(meta.chunk_nbytes(), 1);
    const std::size_t keep = std::clamp<std::size_t>((std::size_t{64} << 20) / nbytes, 2, 64);
    layout->pool = std::make_shared<hdf5::BufferPool>(meta.chunk_nbytes(), keep);
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
