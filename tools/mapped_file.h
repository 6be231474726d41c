// Whole files mapped into memory: .npy input read in place, .npy output
// written in place by many threads.
#pragma once

#include <cstddef>
#include <string>

namespace dosna::cli {

class MappedFile {
 public:
  // Maps an existing file read-only. Throws NotFound / PermissionDenied /
  // IoError naming the path.
  static MappedFile open_read(const std::string& path);
  // Creates (truncating) a file of `size` bytes mapped read-write. Errors
  // name `shown` (the final name when `path` is a temporary one).
  static MappedFile create(const std::string& path, std::size_t size, const std::string& shown);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile();

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Flushes a writable mapping to the file; throws IoError.
  void sync();

 private:
  MappedFile(std::string path, std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace dosna::cli
