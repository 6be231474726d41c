#include "file_errors.h"

#include <cerrno>
#include <cstring>

#include "dosna/errors.h"

namespace dosna::cli {

void throw_errno(int err, const std::string& what) {
  const std::string msg = what + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) throw NotFound(msg);
  if (err == EACCES || err == EPERM || err == EROFS) throw PermissionDenied(msg);
  throw IoError(msg, err);
}

}  // namespace dosna::cli
