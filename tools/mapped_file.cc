#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "dosna/errors.h"
#include "file_errors.h"

namespace dosna::cli {
namespace {

// A zero-byte mapping is not allowed; empty files use this address.
std::byte empty_file_byte;

}  // namespace

MappedFile MappedFile::open_read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(errno, "file '" + path + "'");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw_errno(err, "file '" + path + "'");
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw InvalidArgument("file '" + path + "' is a directory");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* p = size ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : &empty_file_byte;
  const int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) throw_errno(err, "file '" + path + "'");
  return MappedFile(path, static_cast<std::byte*>(p), size);
}

MappedFile MappedFile::create(const std::string& path, std::size_t size, const std::string& shown) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno(errno, "file '" + shown + "'");
  // Reserve the blocks now: a full disk is an error here, not a SIGBUS later.
  int err = ::ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
  if (err == 0 && size) err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err != 0) {
    ::close(fd);
    throw_errno(err, "file '" + shown + "'");
  }
  void* p =
      size ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : &empty_file_byte;
  err = errno;
  ::close(fd);
  if (p == MAP_FAILED) throw_errno(err, "file '" + shown + "'");
  return MappedFile(path, static_cast<std::byte*>(p), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile::~MappedFile() {
  if (data_ && size_) ::munmap(data_, size_);
}

void MappedFile::sync() {
  if (size_ && ::msync(data_, size_, MS_SYNC) != 0) throw_errno(errno, "file '" + path_ + "'");
}

}  // namespace dosna::cli
