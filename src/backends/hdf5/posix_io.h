// The file-system calls of the hdf5 backend, hardened against what another
// writer (or an attacker with write access to the store) can put there: a
// FIFO, device or socket instead of a file never blocks or reads a device, a
// symbolic link is never followed out of the store, and trees are removed
// without following links.
#pragma once

#include <sys/stat.h>
#include <sys/uio.h>

#include <string>
#include <string_view>
#include <vector>

namespace dosna::hdf5 {

// An owned file descriptor (-1: none).
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Throws PermissionDenied (EACCES, EPERM) or IoError(err) with the message
// "<context>: <strerror>".
[[noreturn]] void throw_errno(const std::string& context, int err);

// Opens `name` (relative to the directory `dir`, or AT_FDCWD with a path)
// read-only without following a final symbolic link and without blocking,
// then checks it is a regular file (filling `st`). Returns an invalid Fd if
// it does not exist (ENOENT, ENOTDIR). Throws IoError "<context>: <what it
// is instead>" for a symbolic link, FIFO, socket, device or directory, and
// for other failures.
Fd open_regular_at(int dir, const std::string& name, const std::string& context,
                   struct stat& st);

// Opens the directory `name` (relative to `dir`) without following a final
// symbolic link. Returns an invalid Fd if it does not exist; throws IoError
// "<context>: ... is a symbolic link" (or not a directory) otherwise.
Fd open_directory_at(int dir, const std::string& name, const std::string& context);

// A path that opens the file `fd` refers to ("/proc/self/fd/N"), for
// libraries that open by name: they get the file already checked.
std::string fd_path(int fd);

// Writes every byte of `iov` (in order) to `fd`; throws via throw_errno.
void write_all(int fd, std::vector<iovec> iov, const std::string& context);

// Removes `name` in directory `dir` and, if it is a directory, everything in
// it, never following a symbolic link (a link is removed, not its target).
// Entries that vanish meanwhile are fine; a directory that gets new entries
// while it is emptied (writers that resolved its path before it was renamed
// away) is emptied again, for a bounded time. Returns 0 or an errno value.
int remove_tree_at(int dir, const std::string& name);

}  // namespace dosna::hdf5
