#include "dosna/error_kinds.h"

#include <array>
#include <cstdlib>

namespace dosna {
namespace {

template <class E>
[[noreturn]] void raise_as(const std::string& message, int) {
  throw E(message);
}

[[noreturn]] void raise_io(const std::string& message, int io_code) {
  throw IoError(message, io_code);
}

using K = ErrorKind;

constexpr std::array<ErrorKindInfo, 12> kTable{{
    {K::kError, "Error", K::kError, "DosnaError", "Exception", "Base of every DosNa error.",
     kExitOther, 500, raise_as<Error>},
    {K::kInvalidArgument, "InvalidArgument", K::kError, "InvalidArgumentError", "ValueError",
     "A value that can never be valid.", kExitUsage, 400, raise_as<InvalidArgument>},
    {K::kIndexOutOfRange, "IndexOutOfRange", K::kError, "IndexOutOfRangeError", "IndexError",
     "An integer index outside its axis.", kExitUsage, 400, raise_as<IndexOutOfRange>},
    {K::kNotFound, "NotFound", K::kError, "NotFoundError", "KeyError",
     "Something named does not exist.", kExitNotFound, 404, raise_as<NotFound>},
    {K::kDatasetNotFound, "DatasetNotFound", K::kNotFound, "DatasetNotFoundError", "",
     "The dataset does not exist.", kExitNotFound, 404, raise_as<DatasetNotFound>},
    {K::kAlreadyExists, "AlreadyExists", K::kError, "AlreadyExistsError", "ValueError",
     "Creating something that already exists.", kExitOther, 500, raise_as<AlreadyExists>},
    {K::kNotSupported, "NotSupported", K::kError, "NotSupportedError", "NotImplementedError",
     "The operation or combination is not supported.", kExitUsage, 400, raise_as<NotSupported>},
    {K::kNotBuilt, "NotBuilt", K::kNotSupported, "NotBuiltError", "",
     "A known backend or engine this build does not include.", kExitUsage, 400,
     raise_as<NotBuilt>},
    {K::kConnectionError, "ConnectionError", K::kError, "ConnectionError", "ConnectionError",
     "The store could not be reached or the connection is closed.", kExitIo, 500,
     raise_as<ConnectionError>},
    {K::kPermissionDenied, "PermissionDenied", K::kError, "PermissionDeniedError",
     "PermissionError", "The store refused the credentials or the operation.", kExitPermission,
     500, raise_as<PermissionDenied>},
    {K::kOutOfMemory, "OutOfMemory", K::kError, "OutOfMemoryError", "MemoryError",
     "Memory for the operation could not be allocated.", kExitOther, 500,
     raise_as<OutOfMemory>},
    {K::kIoError, "IoError", K::kError, "IoError", "OSError",
     "The store failed an operation; .code is an errno or HTTP status.", kExitIo, 500, raise_io},
}};

constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < kTable.size(); ++i)
    if (static_cast<std::size_t>(kTable[i].kind) != i ||
        static_cast<std::size_t>(kTable[i].parent) > i)
      return false;
  return true;
}
static_assert(rows_in_order(), "error_kinds: one row per ErrorKind, in order, parents first");

}  // namespace

std::span<const ErrorKindInfo> error_kinds() { return kTable; }

const ErrorKindInfo& error_kind_info(ErrorKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kTable.size() ? kTable[i] : kTable[0];
}

const ErrorKindInfo& error_kind_info(const std::exception& e) {
  if (const auto* d = dynamic_cast<const Error*>(&e)) return error_kind_info(d->kind());
  return kTable[0];
}

void throw_error(ErrorKind kind, const std::string& message, int io_code) {
  error_kind_info(kind).raise(message, io_code);
  std::abort();  // unreachable: every row's raise throws
}

}  // namespace dosna
