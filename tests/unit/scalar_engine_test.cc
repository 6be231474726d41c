// Scalars (fill values as stored on Ceph and S3: integer or Python repr text) and
// the engine contract every in-process engine keeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <complex>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dosna/engine.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "dosna/scalar.h"

namespace dosna {
namespace {

template <class T>
T stored_as(const Scalar& s) {
  T out{};
  s.store(DType::of<T>(), reinterpret_cast<std::byte*>(&out));
  return out;
}

TEST(Scalar, ParsesPythonReprs) {
  EXPECT_EQ(stored_as<std::int64_t>(Scalar::parse("0")), 0);
  EXPECT_EQ(stored_as<std::int32_t>(Scalar::parse("-1")), -1);
  EXPECT_EQ(stored_as<double>(Scalar::parse("0.5")), 0.5);
  EXPECT_EQ(stored_as<double>(Scalar::parse("1e-05")), 1e-05);
  EXPECT_TRUE(std::isnan(stored_as<float>(Scalar::parse("nan"))));
  EXPECT_EQ(stored_as<double>(Scalar::parse("inf")), INFINITY);
  EXPECT_EQ(stored_as<double>(Scalar::parse("-inf")), -INFINITY);
  EXPECT_EQ(stored_as<bool>(Scalar::parse("True")), true);
  EXPECT_EQ(stored_as<bool>(Scalar::parse("False")), false);
  EXPECT_EQ(stored_as<std::complex<double>>(Scalar::parse("(1+2j)")),
            std::complex<double>(1, 2));
  EXPECT_EQ(stored_as<std::complex<float>>(Scalar::parse("(0.5-1.5j)")),
            std::complex<float>(0.5f, -1.5f));
  EXPECT_EQ(stored_as<std::uint64_t>(Scalar::parse("18446744073709551615")), UINT64_MAX);
  EXPECT_EQ(stored_as<std::int64_t>(Scalar::parse("-9223372036854775808")), INT64_MIN);
}

TEST(Scalar, ParsesPurelyImaginaryRepr) {
  // repr(-1.5j) == '-1.5j' (no parentheses when the real part is 0).
  EXPECT_EQ(stored_as<std::complex<double>>(Scalar::parse("-1.5j")),
            std::complex<double>(0, -1.5));
}

TEST(Scalar, RejectsOtherText) {
  for (const char* text : {"", "abc", "1.2.3", "0x10", "(1+2j", "nan?"}) {
    SCOPED_TRACE(text);
    try {
      Scalar::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InvalidArgument& e) {
      if (*text) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
      }
    }
  }
}

TEST(Scalar, ReprIsPythonsAfterConversion) {
  EXPECT_EQ(Scalar(0.5).repr(DType::of<double>()), "0.5");
  EXPECT_EQ(Scalar(0.5).repr(DType::of<float>()), "0.5");
  EXPECT_EQ(Scalar(std::nan("")).repr(DType::of<float>()), "nan");
  EXPECT_EQ(Scalar(-INFINITY).repr(DType::of<double>()), "-inf");
  EXPECT_EQ(Scalar(1e-05).repr(DType::of<double>()), "1e-05");
  EXPECT_EQ(Scalar(-1).repr(DType::of<std::int16_t>()), "-1");
  EXPECT_EQ(Scalar(2.7).repr(DType::of<std::int32_t>()), "2");
  EXPECT_EQ(Scalar(true).repr(DType::of<bool>()), "True");
  EXPECT_EQ(Scalar(0).repr(DType::of<bool>()), "False");
  EXPECT_EQ(Scalar(std::complex<double>(1, 2)).repr(DType::of<std::complex<double>>()), "(1+2j)");
}

TEST(Scalar, ReprParsesBackToTheSameStoredValue) {
  const std::vector<std::pair<Scalar, DType>> cases = {
      {Scalar(0.1), DType::of<double>()},          {Scalar(0.1), DType::of<float>()},
      {Scalar(1e300), DType::of<double>()},        {Scalar(-3), DType::of<std::int8_t>()},
      {Scalar(UINT64_MAX), DType::of<std::uint64_t>()},
      {Scalar(std::complex<double>(0.25, -3)), DType::of<std::complex<float>>()},
      {Scalar(false), DType::of<bool>()}};
  for (const auto& [value, dtype] : cases) {
    const std::string text = value.repr(dtype);
    SCOPED_TRACE(text + " as " + dtype.str());
    std::byte a[16] = {}, b[16] = {};
    value.store(dtype, a);
    Scalar::parse(text).store(dtype, b);
    EXPECT_EQ(std::memcmp(a, b, dtype.itemsize()), 0);
  }
}

// Every dtype the original writes (numpy dtype.str).
const char* const kEveryDtype[] = {"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4",
                                   "<u8", "<f4", "<f8", "<c8", "<c16"};

TEST(Scalar, StoredFormOfAnIntegralValueIsWhatInt0Parses) {
  // The original reads the Ceph/S3 fill value with int(): integral values,
  // whatever the dtype, are stored as integers.
  for (const char* t : kEveryDtype) {
    const DType dt = DType::parse(t);
    SCOPED_TRACE(t);
    EXPECT_EQ(Scalar(0).stored_form(dt), "0");
    EXPECT_EQ(Scalar(0.0).stored_form(dt), "0");
    EXPECT_EQ(Scalar(false).stored_form(dt), "0");
    EXPECT_EQ(Scalar(true).stored_form(dt), "1");
  }
  for (const char* t : {"|i1", "<i4", "<i8", "<f4", "<f8", "<c8", "<c16"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(Scalar(-1.0).stored_form(DType::parse(t)), "-1");
    EXPECT_EQ(Scalar(-1).stored_form(DType::parse(t)), "-1");
  }
  EXPECT_EQ(Scalar(-1.0).stored_form(DType::parse("|b1")), "1");
  EXPECT_EQ(Scalar(255.0).stored_form(DType::parse("|u1")), "255");
  EXPECT_EQ(Scalar(2.7).stored_form(DType::parse("<i4")), "2");
  EXPECT_EQ(Scalar(16777217.0).stored_form(DType::parse("<f4")), "16777216");
  EXPECT_EQ(Scalar(1e22).stored_form(DType::parse("<f8")), "10000000000000000000000");
  EXPECT_EQ(Scalar(std::complex<double>(-3, 0)).stored_form(DType::parse("<c16")), "-3");
  EXPECT_EQ(Scalar(UINT64_MAX).stored_form(DType::parse("<u8")), "18446744073709551615");
}

TEST(Scalar, StoredFormOfAnyOtherValueIsItsRepr) {
  EXPECT_EQ(Scalar(0.5).stored_form(DType::parse("<f4")), "0.5");
  EXPECT_EQ(Scalar(-1.5).stored_form(DType::parse("<f8")), "-1.5");
  EXPECT_EQ(Scalar(0.1).stored_form(DType::parse("<f4")), "0.1");
  EXPECT_EQ(Scalar(1e-05).stored_form(DType::parse("<f8")), "1e-05");
  EXPECT_EQ(Scalar(std::nan("")).stored_form(DType::parse("<f8")), "nan");
  EXPECT_EQ(Scalar(INFINITY).stored_form(DType::parse("<f4")), "inf");
  EXPECT_EQ(Scalar(-INFINITY).stored_form(DType::parse("<f8")), "-inf");
  EXPECT_EQ(Scalar(-0.0).stored_form(DType::parse("<f8")), "-0.0");  // int() would lose the sign
  EXPECT_EQ(Scalar(std::complex<double>(1, 2)).stored_form(DType::parse("<c16")), "(1+2j)");
  EXPECT_EQ(Scalar(std::complex<double>(0, -1)).stored_form(DType::parse("<c8")), "-1j");
}

TEST(Scalar, BothStoredFormsParseToTheSameValueOnEveryDtype) {
  // What this library wrote before ("0.0", "-1.0", "False") and writes now
  // ("0", "-1") and what the original wrote ("0", "-1", "0.5") all read back.
  const std::vector<std::pair<std::vector<const char*>, Scalar>> same = {
      {{"0", "0.0", "False", "-0", "+0", "0e0"}, Scalar(0)},
      {{"-1", "-1.0", "-1e0"}, Scalar(-1)},
      {{"1", "1.0", "True"}, Scalar(1)},
      {{"100000000000000000000", "1e20", "100000000000000000000.0"}, Scalar(1e20)}};
  for (const char* t : kEveryDtype) {
    const DType dt = DType::parse(t);
    for (const auto& [texts, value] : same) {
      // -1 wraps into an unsigned dtype, -1.0 saturates at 0 (numpy leaves
      // that cast undefined): the two are different values there.
      if (dt.kind() == DTypeKind::kUInt && value == Scalar(-1)) continue;
      std::byte want[16] = {};
      value.store(dt, want);
      for (const char* text : texts) {
        SCOPED_TRACE(std::string(text) + " as " + t);
        std::byte got[16] = {};
        Scalar::parse(text).store(dt, got);
        EXPECT_EQ(std::memcmp(want, got, dt.itemsize()), 0);
      }
    }
    for (const Scalar& v : {Scalar(0.5), Scalar(-1.0), Scalar(0), Scalar(true), Scalar(-0.0),
                            Scalar(1e300), Scalar(std::complex<double>(0.25, -3))}) {
      SCOPED_TRACE(v.repr(dt) + " stored as " + v.stored_form(dt) + " for " + t);
      std::byte a[16] = {}, b[16] = {};
      v.store(dt, a);
      Scalar::parse(v.stored_form(dt)).store(dt, b);
      EXPECT_EQ(std::memcmp(a, b, dt.itemsize()), 0);
    }
  }
}

TEST(Scalar, LoadStoreRoundTrip) {
  const double v = -12.25;
  for (const char* t : {"<f4", "<f8", "<c8", "<c16"}) {
    const DType dt = DType::parse(t);
    std::byte buf[16] = {};
    Scalar(v).store(dt, buf);
    EXPECT_EQ(Scalar::load(dt, buf).as_double(), v) << t;
  }
  std::byte buf[8] = {};
  Scalar(std::int64_t{-5}).store(DType::of<std::int64_t>(), buf);
  EXPECT_TRUE(Scalar::load(DType::of<std::int64_t>(), buf).is_integer());
  EXPECT_EQ(Scalar::load(DType::of<std::int64_t>(), buf), Scalar(std::int64_t{-5}));
}

// --- every in-process engine

class EngineContract : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineContract, RunsEveryTaskOnce) {
  auto engine = make_engine(GetParam(), {});
  ASSERT_GE(engine->concurrency(), 1u);
  EXPECT_EQ(engine->rank(), 0);
  EXPECT_EQ(engine->size(), 1);
  EXPECT_TRUE(engine->is_root());
  for (std::size_t n : {0u, 1u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    engine->run_local(n, [&](std::size_t i) { ++hits[i]; });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "task " << i << " of " << n;
    std::vector<std::atomic<int>> dhits(n);
    engine->run_distributed(n, [&](std::size_t i) { ++dhits[i]; });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(dhits[i].load(), 1) << "task " << i << " of " << n;
  }
  int root_runs = 0;
  engine->run_on_root([&] { ++root_runs; });
  EXPECT_EQ(root_runs, 1);
  engine->barrier();
}

TEST_P(EngineContract, FirstFailureIsRethrownWithItsType) {
  auto engine = make_engine(GetParam(), {});
  std::atomic<int> started{0};
  try {
    // The other tasks take a while, so "the rest was skipped" does not hinge
    // on which thread the scheduler happens to run first.
    engine->run_local(10000, [&](std::size_t i) {
      ++started;
      if (i == 3) throw IoError("task 3 failed", 5);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    });
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()), "task 3 failed");
    EXPECT_EQ(e.code(), 5);
  }
  EXPECT_LT(started.load(), 10000) << "tasks kept starting after the failure";
  EXPECT_THROW(engine->run_on_root([] { throw NotFound("x"); }), NotFound);
  // The engine is still usable afterwards.
  std::atomic<int> n{0};
  engine->run_local(50, [&](std::size_t) { ++n; });
  EXPECT_EQ(n.load(), 50);
}

std::vector<std::string> in_process_engines() {
  std::vector<std::string> out;
  for (const auto& e : available_engines())
    if (e != "mpi") out.push_back(e);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Available, EngineContract, ::testing::ValuesIn(in_process_engines()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dosna
