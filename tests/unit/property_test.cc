// Property test: random numpy-style selections read from and written to
// random datasets (1-D to 4-D, chunk sizes that mostly do not divide the
// shape, every dtype, fill values), each checked against a plain in-memory
// reference array whose index arithmetic is written out here independently
// of the library (CPython's slice.indices rules, element by element).
//
// Deterministic: case c uses the seed kSeed + c; a failure prints both.
#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "dosna/dosna.h"
#include "support/store_test.h"

namespace dosna {
namespace {

constexpr std::uint64_t kSeed = 0x00D05A2026;
constexpr int kOpsPerCase = 5;  // reads, and as many writes, per dataset

using Rng = std::mt19937_64;

std::int64_t uniform(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
bool chance(Rng& rng, double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; }

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> v = {
      DType::of<bool>(),          DType::of<std::int8_t>(),   DType::of<std::int16_t>(),
      DType::of<std::int32_t>(),  DType::of<std::int64_t>(),  DType::of<std::uint8_t>(),
      DType::of<std::uint16_t>(), DType::of<std::uint32_t>(), DType::of<std::uint64_t>(),
      DType::of<float>(),         DType::of<double>(),        DType::of<std::complex<float>>(),
      DType::of<std::complex<double>>()};
  return v;
}

using Bytes = std::vector<std::byte>;

template <class T>
Bytes bytes_of(T v) {
  Bytes b(sizeof(T));
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}

// A random value of `dtype` as a Scalar and as the bytes numpy would store
// for it (values are exactly representable, so no casting rule is involved).
std::pair<Scalar, Bytes> random_scalar(DType dtype, Rng& rng) {
  const std::size_t n = dtype.itemsize();
  switch (dtype.kind()) {
    case DTypeKind::kBool: {
      const bool b = chance(rng, 0.5);
      return {Scalar(b), bytes_of<std::uint8_t>(b ? 1 : 0)};
    }
    case DTypeKind::kInt: {
      const std::int64_t hi = n == 8 ? INT64_MAX : (std::int64_t{1} << (8 * n - 1)) - 1;
      const std::int64_t v = uniform(rng, -hi - 1, hi);
      Bytes b = bytes_of(v);  // little-endian: the low n bytes are the value
      b.resize(n);
      return {Scalar(v), b};
    }
    case DTypeKind::kUInt: {
      const std::uint64_t hi = n == 8 ? UINT64_MAX : (std::uint64_t{1} << (8 * n)) - 1;
      const std::uint64_t v = std::uniform_int_distribution<std::uint64_t>(0, hi)(rng);
      Bytes b = bytes_of(v);
      b.resize(n);
      return {Scalar(v), b};
    }
    case DTypeKind::kFloat: {
      const double v = static_cast<double>(uniform(rng, -4000, 4000)) / 8.0;
      return {Scalar(v), n == 4 ? bytes_of(static_cast<float>(v)) : bytes_of(v)};
    }
    case DTypeKind::kComplex: {
      const double re = static_cast<double>(uniform(rng, -4000, 4000)) / 8.0;
      const double im = static_cast<double>(uniform(rng, -4000, 4000)) / 8.0;
      const std::complex<double> c(re, im);
      return {Scalar(c), n == 8 ? bytes_of(std::complex<float>(c)) : bytes_of(c)};
    }
  }
  return {};
}

// `count` random valid elements of `dtype`, packed.
Bytes random_elements(DType dtype, std::int64_t count, Rng& rng) {
  Bytes out;
  out.reserve(static_cast<std::size_t>(count) * dtype.itemsize());
  for (std::int64_t i = 0; i < count; ++i) {
    const Bytes b = random_scalar(dtype, rng).second;
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

// --- the reference: index resolution written out from the Python rules

struct RefAxis {
  std::vector<std::int64_t> positions;
  bool squeeze = false;
};

// CPython's PySlice_AdjustIndices, then the positions it yields.
std::vector<std::int64_t> slice_positions(const Slice& s, std::int64_t n) {
  const std::int64_t step = s.step.value_or(1);
  const std::int64_t lower = step > 0 ? 0 : -1;
  const std::int64_t upper = step > 0 ? n : n - 1;
  auto adjust = [&](std::optional<std::int64_t> v, std::int64_t fallback) {
    if (!v) return fallback;
    std::int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < lower) x = lower;
    } else if (x > upper) {
      x = upper;
    }
    return x;
  };
  const std::int64_t start = adjust(s.start, step > 0 ? lower : upper);
  const std::int64_t stop = adjust(s.stop, step > 0 ? upper : lower);
  std::vector<std::int64_t> out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

// Resolves items against shape; nullopt when an integer is out of range.
// Callers only pass item lists with at most one Ellipsis and no more
// indices than dimensions.
std::optional<std::vector<RefAxis>> resolve(const std::vector<IndexItem>& items,
                                            const Shape& shape) {
  std::vector<IndexItem> full;
  std::size_t explicit_count = 0;
  for (const auto& it : items)
    if (!std::holds_alternative<EllipsisType>(it)) ++explicit_count;
  for (const auto& it : items) {
    if (std::holds_alternative<EllipsisType>(it)) {
      for (std::size_t k = 0; k < shape.size() - explicit_count; ++k) full.emplace_back(Slice{});
    } else {
      full.push_back(it);
    }
  }
  while (full.size() < shape.size()) full.emplace_back(Slice{});
  std::vector<RefAxis> out;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (const auto* v = std::get_if<std::int64_t>(&full[d])) {
      std::int64_t i = *v < 0 ? *v + shape[d] : *v;
      if (i < 0 || i >= shape[d]) return std::nullopt;
      out.push_back({{i}, true});
    } else {
      out.push_back({slice_positions(std::get<Slice>(full[d]), shape[d]), false});
    }
  }
  return out;
}

Shape result_shape_of(const std::vector<RefAxis>& axes) {
  Shape s;
  for (const auto& a : axes)
    if (!a.squeeze) s.push_back(static_cast<std::int64_t>(a.positions.size()));
  return s;
}

// Calls fn(k) for every combination k (k[d] indexes axes[d].positions), in
// C order of the selection box.
template <class F>
void for_each_selected(const std::vector<RefAxis>& axes, F&& fn) {
  for (const auto& a : axes)
    if (a.positions.empty()) return;
  std::vector<std::size_t> k(axes.size(), 0);
  while (true) {
    fn(k);
    std::size_t d = axes.size();
    while (d > 0) {
      --d;
      if (++k[d] < axes[d].positions.size()) break;
      k[d] = 0;
      if (d == 0) return;
    }
    if (axes.empty()) return;
  }
}

struct RefArray {
  Shape shape;
  std::size_t itemsize = 1;
  Bytes data;

  std::size_t offset(const std::vector<RefAxis>& axes, const std::vector<std::size_t>& k) const {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + axes[d].positions[k[d]];
    return static_cast<std::size_t>(flat) * itemsize;
  }

  Bytes read(const std::vector<RefAxis>& axes) const {
    Bytes out;
    for_each_selected(axes, [&](const std::vector<std::size_t>& k) {
      const std::size_t o = offset(axes, k);
      out.insert(out.end(), data.begin() + o, data.begin() + o + itemsize);
    });
    return out;
  }
};

// A value array as the write sees it: raw memory plus shape and byte strides.
struct ValueArray {
  Bytes storage;
  Shape shape;
  std::vector<std::int64_t> strides;
  std::int64_t base = 0;  // byte offset of element (0, ..., 0) in storage
  ArrayView view(DType dtype) const {
    return {dtype, shape, storage.data() + base, strides};
  }
};

// Builds a value array for a selection of result shape `target`: some axes
// broadcast (extent 1, or stride 0 when strided), possibly a non-contiguous
// layout (every other element, first axis reversed).
ValueArray random_values(DType dtype, const Shape& target, bool strided, Rng& rng) {
  const std::int64_t isz = static_cast<std::int64_t>(dtype.itemsize());
  const std::size_t nd = target.size();
  ValueArray v;
  std::vector<bool> zero_stride(nd, false);
  for (std::size_t d = 0; d < nd; ++d) {
    std::int64_t e = target[d];
    if (chance(rng, 0.25)) {
      if (strided && chance(rng, 0.5)) zero_stride[d] = true;
      else e = 1;
    }
    v.shape.push_back(e);
  }
  if (!strided) {
    std::int64_t n = 1;
    for (auto e : v.shape) n *= e;
    v.storage = random_elements(dtype, n, rng);
    v.strides.assign(nd, 0);
    std::int64_t s = isz;
    for (std::size_t d = nd; d-- > 0;) {
      v.strides[d] = s;
      s *= v.shape[d];
    }
    if (chance(rng, 0.5)) v.strides.clear();  // empty = C-contiguous
    return v;
  }
  // Backing array twice as long on every axis; the view is its corner.
  Shape backing;
  std::int64_t total = 1;
  for (auto e : v.shape) {
    backing.push_back(2 * std::max<std::int64_t>(e, 1));
    total *= backing.back();
  }
  v.storage = random_elements(dtype, total, rng);
  v.strides.assign(nd, 0);
  std::int64_t s = isz;
  for (std::size_t d = nd; d-- > 0;) {
    v.strides[d] = zero_stride[d] ? 0 : s;
    s *= backing[d];
  }
  if (nd > 0 && !zero_stride[0] && v.shape[0] > 1 && chance(rng, 0.5)) {
    v.base = (v.shape[0] - 1) * v.strides[0];
    v.strides[0] = -v.strides[0];
  }
  return v;
}

std::string item_text(const IndexItem& it) {
  if (const auto* v = std::get_if<std::int64_t>(&it)) return std::to_string(*v);
  if (std::holds_alternative<EllipsisType>(it)) return "...";
  const Slice& s = std::get<Slice>(it);
  std::string out = s.start ? std::to_string(*s.start) : "";
  out += ":" + (s.stop ? std::to_string(*s.stop) : "");
  if (s.step) out += ":" + std::to_string(*s.step);
  return out;
}

std::string items_text(const std::vector<IndexItem>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + item_text(items[i]);
  return out + "]";
}

std::string shape_text(const Shape& s) { return shape_to_string(s); }

// A random selection for `shape`. With probability p_bad one integer index
// is out of range (the caller expects IndexOutOfRange).
std::vector<IndexItem> random_selection(const Shape& shape, Rng& rng, double p_bad) {
  std::vector<IndexItem> items;
  for (auto n : shape) {
    if (n > 0 && chance(rng, 0.25)) {
      items.emplace_back(uniform(rng, -n, n - 1));
    } else {
      Slice s;
      if (chance(rng, 0.7)) s.start = uniform(rng, -n - 3, n + 3);
      if (chance(rng, 0.7)) s.stop = uniform(rng, -n - 3, n + 3);
      if (chance(rng, 0.6)) {
        std::int64_t step = uniform(rng, 1, 4);
        if (chance(rng, 0.4)) step = -step;
        s.step = step;
      }
      items.emplace_back(s);
    }
  }
  if (chance(rng, p_bad)) {
    const std::size_t d = static_cast<std::size_t>(uniform(rng, 0, static_cast<std::int64_t>(shape.size()) - 1));
    const std::int64_t off = uniform(rng, 0, 3);
    items[d] = chance(rng, 0.5) ? shape[d] + off : -shape[d] - 1 - off;
  }
  // Fewer indices than dimensions: drop a tail.
  if (chance(rng, 0.2)) items.resize(static_cast<std::size_t>(uniform(rng, 0, static_cast<std::int64_t>(items.size()))));
  // An Ellipsis standing for a run (possibly empty) of full slices.
  if (chance(rng, 0.2)) {
    const std::int64_t sz = static_cast<std::int64_t>(items.size());
    const std::int64_t a = uniform(rng, 0, sz);
    const std::int64_t b = uniform(rng, a, sz);
    std::vector<IndexItem> with;
    for (std::int64_t i = 0; i < a; ++i) with.push_back(items[static_cast<std::size_t>(i)]);
    with.emplace_back(ellipsis);
    for (std::int64_t i = b; i < sz; ++i) with.push_back(items[static_cast<std::size_t>(i)]);
    items = std::move(with);
  }
  return items;
}

class PropertyTest : public testing::StoreTest {
 protected:
  int selections_per_direction() const {
    return std::get<0>(GetParam()) == "ram" ? 2000 : 200;
  }

  // One dataset: kOpsPerCase reads and kOpsPerCase writes in random order.
  void run_case(int c);

  // Selections checked so far (valid ones; rejected ones counted apart).
  int reads_ = 0, writes_ = 0, rejected_ = 0, reads_many_ = 0;
};

::testing::AssertionResult same_bytes(const Bytes& want, const std::byte* got, std::size_t nbytes,
                                      std::size_t itemsize) {
  if (want.size() != nbytes)
    return ::testing::AssertionFailure()
           << "got " << nbytes << " bytes, want " << want.size();
  for (std::size_t i = 0; i < nbytes; ++i) {
    if (want[i] != got[i]) {
      const std::size_t e = i / itemsize;
      std::ostringstream m;
      m << "element " << e << " of " << nbytes / itemsize << " differs: got bytes";
      for (std::size_t j = 0; j < itemsize; ++j)
        m << " " << std::hex << static_cast<int>(got[e * itemsize + j]);
      m << ", want";
      for (std::size_t j = 0; j < itemsize; ++j)
        m << " " << std::hex << static_cast<int>(want[e * itemsize + j]);
      return ::testing::AssertionFailure() << m.str();
    }
  }
  return ::testing::AssertionSuccess();
}

void PropertyTest::run_case(int c) {
  Rng rng(kSeed + static_cast<std::uint64_t>(c));
  const std::size_t nd = static_cast<std::size_t>(uniform(rng, 1, 4));
  static constexpr std::int64_t kMaxExtent[] = {0, 60, 20, 10, 6};
  Shape shape, chunks;
  for (std::size_t d = 0; d < nd; ++d) {
    const std::int64_t n = uniform(rng, 1, kMaxExtent[nd]);
    shape.push_back(n);
    chunks.push_back(uniform(rng, 1, n));
  }
  // Backends with a round trip per chunk get fewer, bigger chunks.
  const bool slow = std::get<0>(GetParam()) != "ram";
  auto chunk_count = [&] {
    std::int64_t n = 1;
    for (std::size_t d = 0; d < nd; ++d) n *= (shape[d] + chunks[d] - 1) / chunks[d];
    return n;
  };
  while (slow && chunk_count() > 24) {
    const auto d = static_cast<std::size_t>(uniform(rng, 0, static_cast<std::int64_t>(nd) - 1));
    chunks[d] = std::min(shape[d], chunks[d] * 2);
  }
  const DType dtype = all_dtypes()[static_cast<std::size_t>(
      uniform(rng, 0, static_cast<std::int64_t>(all_dtypes().size()) - 1))];
  const auto [fill, fill_bytes] = random_scalar(dtype, rng);
  const std::string name = testing::unique_name("prop");
  SCOPED_TRACE("property seed " + std::to_string(kSeed) + " + case " + std::to_string(c) +
               ": dataset shape " + shape_text(shape) + " chunks " + shape_text(chunks) +
               " dtype " + dtype.str() + " fill " + fill.repr(dtype));

  RefArray ref{shape, dtype.itemsize(), {}};
  std::int64_t total = 1;
  for (auto n : shape) total *= n;
  Dataset ds = conn_->create_dataset(name, shape, dtype, chunks, fill);
  if (chance(rng, 0.5)) {
    ref.data = random_elements(dtype, total, rng);
    ds.load(ArrayView{dtype, shape, ref.data.data(), {}});
  } else {
    for (std::int64_t i = 0; i < total; ++i)
      ref.data.insert(ref.data.end(), fill_bytes.begin(), fill_bytes.end());
  }

  auto check_all = [&](const std::string& when) {
    NdArray all = ds.read();
    EXPECT_EQ(all.shape(), shape) << when;
    EXPECT_TRUE(same_bytes(ref.data, all.bytes(), all.nbytes(), ref.itemsize))
        << "whole dataset " << when;
  };
  check_all("after load");
  // After a write: the whole dataset on fast backends, the written selection
  // on slow ones (the whole dataset is checked at the end of every case).
  auto check_write = [&](const std::string& when, const Selection& sel,
                         const std::vector<RefAxis>& axes) {
    if (!slow) return check_all(when);
    NdArray got = ds.read(sel);
    EXPECT_TRUE(same_bytes(ref.read(axes), got.bytes(), got.nbytes(), ref.itemsize))
        << "selection read back " << when;
  };

  std::vector<bool> is_write;
  for (int i = 0; i < kOpsPerCase; ++i) is_write.insert(is_write.end(), {false, true});
  std::shuffle(is_write.begin(), is_write.end(), rng);

  for (std::size_t op = 0; op < is_write.size() && !HasFailure(); ++op) {
    const std::vector<IndexItem> items = random_selection(shape, rng, 0.03);
    const Selection sel(items);
    const auto axes = resolve(items, shape);
    SCOPED_TRACE(std::string(is_write[op] ? "write" : "read") + " ds" + items_text(items));
    if (!is_write[op]) {
      if (!axes) {
        EXPECT_THROW(ds.read(sel), IndexOutOfRange);
        ++rejected_;
        continue;
      }
      ++reads_;
      const Bytes want = ref.read(*axes);
      const Shape want_shape = result_shape_of(*axes);
      const int mode = static_cast<int>(uniform(rng, 0, 2));
      if (mode == 0) {
        NdArray got = ds.read(sel);
        EXPECT_EQ(got.shape(), want_shape);
        EXPECT_EQ(got.dtype(), dtype);
        EXPECT_TRUE(same_bytes(want, got.bytes(), got.nbytes(), ref.itemsize)) << "read()";
      } else {
        Shape out_shape;
        if (mode == 1) {
          out_shape = want_shape;
        } else {
          for (const auto& a : *axes) out_shape.push_back(static_cast<std::int64_t>(a.positions.size()));
        }
        Bytes buf(want.size() + 1, std::byte{0xA5});
        ds.read(sel, MutableArrayView{dtype, out_shape, buf.data(), {}});
        EXPECT_EQ(buf.back(), std::byte{0xA5}) << "read wrote past the buffer";
        buf.pop_back();
        EXPECT_TRUE(same_bytes(want, buf.data(), buf.size(), ref.itemsize))
            << "read into a buffer of shape " << shape_text(out_shape);
      }
      continue;
    }

    // A write: a scalar, a value array, or (rarely) a value array that
    // cannot broadcast, which must be rejected without changing anything.
    if (!axes) {
      EXPECT_THROW(ds.write(sel, Scalar(0)), IndexOutOfRange);
      check_all("after a rejected write");
      ++rejected_;
      continue;
    }
    ++writes_;
    const Shape target = result_shape_of(*axes);
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    if (r < 0.3) {
      const auto [value, vbytes] = random_scalar(dtype, rng);
      ds.write(sel, value);
      for_each_selected(*axes, [&](const std::vector<std::size_t>& k) {
        std::memcpy(ref.data.data() + ref.offset(*axes, k), vbytes.data(), ref.itemsize);
      });
      check_write("after writing scalar " + value.repr(dtype), sel, *axes);
    } else if (r < 0.97 || target.empty()) {
      const bool strided = r > 0.75;
      const ValueArray v = random_values(dtype, target, strided, rng);
      ds.write(sel, v.view(dtype));
      std::vector<std::int64_t> vstrides = v.strides;
      if (vstrides.empty()) {
        vstrides.assign(v.shape.size(), 0);
        std::int64_t s = static_cast<std::int64_t>(ref.itemsize);
        for (std::size_t d = v.shape.size(); d-- > 0;) {
          vstrides[d] = s;
          s *= v.shape[d];
        }
      }
      for_each_selected(*axes, [&](const std::vector<std::size_t>& k) {
        std::int64_t off = v.base;
        std::size_t vd = 0;
        for (std::size_t d = 0; d < axes->size(); ++d) {
          if ((*axes)[d].squeeze) continue;
          const std::int64_t idx = v.shape[vd] == 1 ? 0 : static_cast<std::int64_t>(k[d]);
          off += idx * vstrides[vd];
          ++vd;
        }
        std::memcpy(ref.data.data() + ref.offset(*axes, k), v.storage.data() + off, ref.itemsize);
      });
      check_write(std::string("after writing a ") + (strided ? "strided " : "") +
                      "value array of shape " + shape_text(v.shape),
                  sel, *axes);
    } else {
      Shape bad = target;
      const std::size_t d = static_cast<std::size_t>(uniform(rng, 0, static_cast<std::int64_t>(bad.size()) - 1));
      bad[d] = bad[d] == 0 ? 2 : bad[d] + 1;
      std::int64_t n = 1;
      for (auto e : bad) n *= e;
      const Bytes vals = random_elements(dtype, n, rng);
      EXPECT_THROW(ds.write(sel, ArrayView{dtype, bad, vals.data(), {}}), InvalidArgument)
          << "values of shape " << shape_text(bad) << " for a selection of shape "
          << shape_text(target);
      check_all("after a rejected write of shape " + shape_text(bad));
      --writes_;
      ++rejected_;
    }
  }
  // read_many of a few random selections (the same one twice among them).
  std::vector<Selection> many;
  std::vector<std::vector<RefAxis>> many_axes;
  while (many.size() < static_cast<std::size_t>(kOpsPerCase)) {
    const std::vector<IndexItem> items = random_selection(shape, rng, 0);
    auto axes = resolve(items, shape);
    if (!axes) continue;
    many.emplace_back(items);
    many_axes.push_back(std::move(*axes));
  }
  many.push_back(many.front());
  many_axes.push_back(many_axes.front());
  const std::vector<NdArray> got_many = ds.read_many(many);
  for (std::size_t i = 0; i < many.size(); ++i) {
    EXPECT_EQ(got_many[i].shape(), result_shape_of(many_axes[i])) << "read_many " << i;
    EXPECT_TRUE(same_bytes(ref.read(many_axes[i]), got_many[i].bytes(), got_many[i].nbytes(),
                           ref.itemsize))
        << "read_many selection " << i << " " << many[i].to_string();
  }
  reads_many_ += static_cast<int>(many.size());
  check_all("at the end of the case");
  conn_->del_dataset(name);
}

TEST_P(PropertyTest, RandomSelectionsMatchReference) {
  const int want = selections_per_direction();
  for (int c = 0; (reads_ < want || writes_ < want) && !HasFailure(); ++c) run_case(c);
  std::cout << "property test: " << reads_ << " reads, " << writes_ << " writes, "
            << reads_many_ << " selections read by read_many and " << rejected_
            << " rejected selections checked (seed " << kSeed << ")\n";
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& i) {
  return std::get<0>(i.param) + "_" + std::get<1>(i.param);
}

INSTANTIATE_TEST_SUITE_P(Matrix, PropertyTest,
                         ::testing::ValuesIn(testing::backend_engine_matrix()), param_name);

}  // namespace
}  // namespace dosna
