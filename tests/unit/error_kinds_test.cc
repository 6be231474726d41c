// The error-kind table (dosna/error_kinds.h): every class of the error tree
// carries its kind, and every kind round-trips through each mapping: name,
// raise (the MPI transport), CLI exit code, HTTP status, Python class.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <typeinfo>
#include <vector>

#include "dosna/error_kinds.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

struct Expected {
  ErrorKind kind;
  std::function<void(const std::string&)> throw_it;  // throws the class directly
  const char* python_class;
  int exit_code;
  int http_status;
};

// Written out independently of the table: what each class meant before the
// table existed (the four ladders it replaced).
const std::vector<Expected>& expected() {
  static const std::vector<Expected> rows = {
      {ErrorKind::kError, [](const std::string& m) { throw Error(m); }, "DosnaError", 1, 500},
      {ErrorKind::kInvalidArgument, [](const std::string& m) { throw InvalidArgument(m); },
       "InvalidArgumentError", 2, 400},
      {ErrorKind::kIndexOutOfRange, [](const std::string& m) { throw IndexOutOfRange(m); },
       "IndexOutOfRangeError", 2, 400},
      {ErrorKind::kNotFound, [](const std::string& m) { throw NotFound(m); }, "NotFoundError", 3,
       404},
      {ErrorKind::kDatasetNotFound, [](const std::string& m) { throw DatasetNotFound(m); },
       "DatasetNotFoundError", 3, 404},
      {ErrorKind::kAlreadyExists, [](const std::string& m) { throw AlreadyExists(m); },
       "AlreadyExistsError", 1, 500},
      {ErrorKind::kNotSupported, [](const std::string& m) { throw NotSupported(m); },
       "NotSupportedError", 2, 400},
      {ErrorKind::kNotBuilt, [](const std::string& m) { throw NotBuilt(m); }, "NotBuiltError", 2,
       400},
      {ErrorKind::kConnectionError, [](const std::string& m) { throw ConnectionError(m); },
       "ConnectionError", 5, 500},
      {ErrorKind::kPermissionDenied, [](const std::string& m) { throw PermissionDenied(m); },
       "PermissionDeniedError", 4, 500},
      {ErrorKind::kOutOfMemory, [](const std::string& m) { throw OutOfMemory(m); },
       "OutOfMemoryError", 1, 500},
      {ErrorKind::kIoError, [](const std::string& m) { throw IoError(m, 0); }, "IoError", 5, 500},
  };
  return rows;
}

TEST(ErrorKinds, OneRowPerClassInOrder) {
  ASSERT_EQ(error_kinds().size(), expected().size());
  for (std::size_t i = 0; i < expected().size(); ++i) {
    EXPECT_EQ(error_kinds()[i].kind, expected()[i].kind) << i;
    EXPECT_EQ(&error_kind_info(expected()[i].kind), &error_kinds()[i]) << i;
  }
}

TEST(ErrorKinds, EveryKindRoundTripsThroughEveryMapping) {
  for (const auto& want : expected()) {
    const ErrorKindInfo& row = error_kind_info(want.kind);
    SCOPED_TRACE(std::string(row.name));
    try {
      want.throw_it("direct");
      FAIL() << "did not throw";
    } catch (const Error& direct) {
      EXPECT_EQ(direct.kind(), want.kind);
      EXPECT_EQ(&error_kind_info(static_cast<const std::exception&>(direct)), &row);
      // throw_error: the same dynamic type, kind and message (what MPI ranks rethrow).
      try {
        throw_error(want.kind, "again", 7);
        FAIL() << "raise returned";
      } catch (const Error& again) {
        EXPECT_EQ(typeid(again), typeid(direct));
        EXPECT_EQ(again.kind(), want.kind);
        EXPECT_STREQ(again.what(), "again");
      }
    }
    EXPECT_EQ(row.python_class, want.python_class);
    EXPECT_EQ(row.exit_code, want.exit_code);
    EXPECT_EQ(row.http_status, want.http_status);
  }
}

TEST(ErrorKinds, IoErrorKeepsItsCodeThroughRaise) {
  try {
    throw_error(ErrorKind::kIoError, "io", 404);
  } catch (const IoError& e) {
    EXPECT_EQ(e.code(), 404);
  }
}

TEST(ErrorKinds, OtherExceptionsAndUnknownKindsAreThePlainError) {
  EXPECT_EQ(error_kind_info(std::runtime_error("x")).kind, ErrorKind::kError);
  EXPECT_EQ(error_kind_info(static_cast<ErrorKind>(999)).kind, ErrorKind::kError);
  EXPECT_EQ(error_kind_info(static_cast<ErrorKind>(-1)).kind, ErrorKind::kError);
}

}  // namespace
}  // namespace dosna
