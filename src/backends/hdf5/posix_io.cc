#include "backends/hdf5/posix_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "dosna/errors.h"

namespace dosna::hdf5 {
namespace {

std::string file_kind(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

// Depth of the trees remove_tree_at descends into (a dataset is flat).
constexpr int kMaxDepth = 16;

int remove_tree(int dir, const std::string& name, int depth) {
  if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) return errno;
  if (depth >= kMaxDepth) return ELOOP;
  // New entries can only come from operations that resolved the old path
  // before it was renamed away: a few rounds see them all.
  for (int round = 0;; ++round) {
    const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : errno;
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      const int err = errno;
      ::close(fd);
      return err;
    }
    int rc = 0;
    while (rc == 0) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) {
        rc = errno;
        break;
      }
      const std::string entry = e->d_name;
      if (entry == "." || entry == "..") continue;
      rc = remove_tree(fd, entry, depth + 1);
    }
    ::closedir(d);
    if (rc != 0) return rc;
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
    if ((errno != ENOTEMPTY && errno != EEXIST) || round >= 100) return errno;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(round + 1, 10)));
  }
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

void throw_errno(const std::string& context, int err) {
  const std::string message = context + ": " + std::strerror(err);
  if (err == EACCES || err == EPERM) throw PermissionDenied(message);
  throw IoError(message, err);
}

Fd open_regular_at(int dir, const std::string& name, const std::string& context,
                   struct stat& st) {
  Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return fd;
    if (err == ELOOP) throw IoError(context + ": it is a symbolic link (not followed)", ELOOP);
    throw_errno(context, err);
  }
  if (::fstat(fd.get(), &st) != 0) throw_errno(context, errno);
  if (!S_ISREG(st.st_mode)) throw IoError(context + ": it is " + file_kind(st.st_mode), EIO);
  return fd;
}

Fd open_directory_at(int dir, const std::string& name, const std::string& context) {
  Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.valid()) return fd;
  const int err = errno;
  if (err == ENOENT) return fd;
  struct stat st;
  if ((err == ELOOP || err == ENOTDIR) && ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    throw IoError(context + ": it is " + file_kind(st.st_mode) +
                      (S_ISLNK(st.st_mode) ? " (not followed out of the store)" : ""),
                  err);
  if (err == ENOTDIR) return fd;
  throw_errno(context, err);
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

void write_all(int fd, std::vector<iovec> iov, const std::string& context) {
  std::size_t first = 0;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::writev(fd, &iov[first], count);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(context, errno);
    }
    auto left = static_cast<std::size_t>(n);
    while (left > 0 && first < iov.size()) {
      const std::size_t step = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + step;
      iov[first].iov_len -= step;
      left -= step;
      if (iov[first].iov_len == 0) ++first;
    }
  }
}

int remove_tree_at(int dir, const std::string& name) { return remove_tree(dir, name, 0); }

}  // namespace dosna::hdf5
