#include "exit_codes.h"

#include "dosna/errors.h"

namespace dosna::cli {

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const InvalidArgument*>(&e) || dynamic_cast<const IndexOutOfRange*>(&e) ||
      dynamic_cast<const NotSupported*>(&e))
    return kExitUsage;
  if (dynamic_cast<const NotFound*>(&e)) return kExitNotFound;
  if (dynamic_cast<const PermissionDenied*>(&e)) return kExitPermission;
  if (dynamic_cast<const IoError*>(&e) || dynamic_cast<const ConnectionError*>(&e)) return kExitIo;
  return kExitOther;
}

}  // namespace dosna::cli
