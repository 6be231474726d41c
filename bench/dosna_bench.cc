// dosna-bench: times the core operations of one backend x engine and prints
// one JSON object per operation on stdout (progress goes to stderr):
//
//   {"op", "backend", "engine", "shape", "chunks", "bytes", "seconds",
//    "mb_per_s", "ops_per_s", "us_per_op"}
//
// `seconds` is the median over --reps repetitions of the timed part of one
// operation; the rates derive from it. Every result is verified against the
// data the program wrote, outside the timed part: a mismatch exits 1, so a
// fast wrong answer is never reported. Datasets the program creates carry a
// unique name and are deleted before it exits.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <complex>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "dosna/dosna.h"

namespace {

using dosna::ArrayView;
using dosna::Connection;
using dosna::ConnectionConfig;
using dosna::Dataset;
using dosna::DType;
using dosna::DTypeKind;
using dosna::IndexItem;
using dosna::MutableArrayView;
using dosna::NdArray;
using dosna::Options;
using dosna::StorageOptions;
using dosna::Selection;
using dosna::Shape;

const std::vector<std::string> kAllOps = {
    "memcpy",          "create_load",      "read_full",   "read_zslab",   "read_yslab",
    "read_xslab",      "read_boxes",       "read_boxes_each", "read_boxes_plain",
    "write_boxes",     "read_element",     "apply"};
// read_boxes reads the boxes with one Dataset::read_many; the references
// read_boxes_each (one Dataset::read per box) and read_boxes_plain (the same
// boxes copied out of one C-order array in RAM, what numpy does for a slice)
// are timed in the same loop, repetitions interleaved, when requested too.
const std::vector<std::string> kBoxOps = {"read_boxes", "read_boxes_each", "read_boxes_plain"};
constexpr std::int64_t kSlabThickness = 16;
constexpr std::int64_t kBoxEdge = 24;
constexpr int kBoxCount = 200;
constexpr int kElementCount = 1000;
constexpr std::uint64_t kReadBoxSeed = 20240601;
constexpr std::uint64_t kWriteBoxSeed = 20240602;
constexpr std::uint64_t kElementSeed = 20240603;
constexpr unsigned char kPoison = 0xA5;

struct Args {
  ConnectionConfig config;
  Shape shape = {256, 256, 256};
  Shape chunks = {32, 32, 32};
  std::string dtype = "<f4";
  std::vector<std::string> ops = kAllOps;
  int reps = 3;
  StorageOptions storage;  // --format, --compression, --shard
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A read or write returned data that differs from what was written.
class VerifyFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr const char* kOpsHelp =
    "ops: memcpy create_load read_full read_zslab read_yslab read_xslab read_boxes "
    "read_boxes_each read_boxes_plain write_boxes read_element apply";

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = text.find(sep, pos);
    out.emplace_back(text.substr(pos, next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

Shape parse_shape(const std::string& text, const std::string& flag) {
  Shape out;
  for (const auto& part : split(text, ',')) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || v < 1)
      throw UsageError(flag + ": extents must be integers >= 1, got '" + text + "'");
    out.push_back(v);
  }
  return out;
}

// KEY=VALUE flags into an options map (the later of two equal keys wins).
void add_options(Options& into, const std::vector<std::string>& items, const std::string& flag) {
  for (const auto& text : items) {
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(flag + ": expected key=value, got '" + text + "'");
    into.insert_or_assign(text.substr(0, eq), text.substr(eq + 1));
  }
}

// Parses the command line with CLI11 (the CLI's parser). --help prints and
// exits 0; a bad flag or value throws UsageError.
Args parse_args(int argc, char** argv) {
  Args args;
  args.config.name = "dosna-bench";
  CLI::App app{"dosna-bench: times reads and writes of one dataset; one JSON line per op",
               "dosna-bench"};
  app.footer(kOpsHelp);
  std::vector<std::string> opts, engine_opts;
  std::string shape = "256,256,256", chunks = "32,32,32", ops = "all", shard, compression;
  app.add_option("--backend", args.config.backend, "store: ram, file, hdf5, ceph, s3");
  app.add_option("--engine", args.config.engine, "engine: cpu, threads, mpi");
  app.add_option("--opt", opts, "backend option KEY=VALUE (repeatable)");
  app.add_option("--engine-opt", engine_opts, "engine option KEY=VALUE (repeatable)");
  app.add_option("--name", args.config.name, "connection name (default dosna-bench)");
  app.add_option("--shape", shape, "dataset shape (default 256,256,256)");
  app.add_option("--chunks", chunks, "chunk shape; the inner chunk when sharded (default 32,32,32)");
  app.add_option("--dtype", args.dtype, "numpy dtype str (default <f4)");
  app.add_option("--ops", ops, "all, or a comma list of ops");
  app.add_option("--reps", args.reps, "repetitions, the median is reported (default 3)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--format", args.storage.format, "dataset format: dosna, zarr3, zarr2");
  app.add_option("--compression", compression, "zarr: zstd, gzip, blosc-lz4, blosc-zstd");
  app.add_option("--compression-level", args.storage.compression_level, "zarr: codec level");
  app.add_option("--shard", shard, "zarr3: shard shape, a multiple of --chunks");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  add_options(args.config.options, opts, "--opt");
  add_options(args.config.engine_options, engine_opts, "--engine-opt");
  args.shape = parse_shape(shape, "--shape");
  args.chunks = parse_shape(chunks, "--chunks");
  if (!shard.empty()) args.storage.shard_shape = parse_shape(shard, "--shard");
  if (!compression.empty() && compression != "none") args.storage.compression = compression;
  if (ops != "all") {
    args.ops = split(ops, ',');
    for (const auto& op : args.ops)
      if (std::find(kAllOps.begin(), kAllOps.end(), op) == kAllOps.end())
        throw UsageError("--ops: unknown op '" + op + "'");
  }
  if (args.chunks.size() != args.shape.size())
    throw UsageError("--chunks must have as many extents as --shape");
  return args;
}

template <class T>
struct IsComplex : std::false_type {};
template <class R>
struct IsComplex<std::complex<R>> : std::true_type {};

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Deterministic pseudo-random values (never NaN) of the dataset's dtype.
void fill_pattern(DType dtype, std::byte* dst, std::int64_t n, std::uint64_t seed) {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = reinterpret_cast<T*>(dst);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t h = mix(seed * 0x100000001B3ull + static_cast<std::uint64_t>(i));
      if constexpr (std::is_same_v<T, bool>) {
        out[i] = (h & 1) != 0;
      } else if constexpr (IsComplex<T>::value) {
        using R = typename T::value_type;
        out[i] = T(static_cast<R>(h % 65536), static_cast<R>((h >> 32) % 65536));
      } else if constexpr (std::is_floating_point_v<T>) {
        out[i] = static_cast<T>(static_cast<std::int64_t>(h % 65536) - 32768) / T(4);
      } else {
        out[i] = static_cast<T>(h);
      }
    }
  });
}

// x + 1 for numbers; logical not for bool (bool + 1 is not a bool).
void add_one(DType dtype, std::byte* data, std::int64_t n) {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = reinterpret_cast<T*>(data);
    for (std::int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, bool>) p[i] = !p[i];
      else p[i] = static_cast<T>(p[i] + T(1));
    }
  });
}

// A box [start, start + count) per axis.
struct Box {
  Shape start;
  Shape count;
  Selection selection() const {
    std::vector<IndexItem> items;
    for (std::size_t d = 0; d < start.size(); ++d)
      items.emplace_back(dosna::slice(start[d], start[d] + count[d]));
    return Selection(std::move(items));
  }
};

// Visits the rows (runs along the last axis) of `box` inside a C-order array
// of `shape`: fn(element offset in the array, element offset in the box, row
// length). A 0-d array is one row of one element.
template <class F>
void for_each_row(const Shape& shape, const Box& box, F&& fn) {
  const std::size_t nd = shape.size();
  if (nd == 0) {
    fn(0, 0, 1);
    return;
  }
  for (auto c : box.count)
    if (c == 0) return;
  std::vector<std::int64_t> strides(nd, 1);
  for (std::size_t d = nd - 1; d > 0; --d) strides[d - 1] = strides[d] * shape[d];
  std::int64_t offset = 0;  // of the first row of the current plane
  for (std::size_t d = 0; d < nd; ++d) offset += box.start[d] * strides[d];
  // The rows of one plane (the last two axes) in a tight loop, the outer axes
  // as an odometer: offsets are updated, not recomputed per row.
  const std::int64_t row = box.count[nd - 1];
  const std::int64_t rows = nd == 1 ? 1 : box.count[nd - 2];
  const std::int64_t row_stride = nd == 1 ? 0 : strides[nd - 2];
  std::vector<std::int64_t> pos(nd, 0);
  std::int64_t box_offset = 0;
  while (true) {
    std::int64_t off = offset;
    for (std::int64_t j = 0; j < rows; ++j, off += row_stride, box_offset += row)
      fn(off, box_offset, row);
    int d = static_cast<int>(nd) - 3;
    for (; d >= 0; --d) {
      offset += strides[static_cast<std::size_t>(d)];
      if (++pos[static_cast<std::size_t>(d)] < box.count[static_cast<std::size_t>(d)]) break;
      offset -= strides[static_cast<std::size_t>(d)] * box.count[static_cast<std::size_t>(d)];
      pos[static_cast<std::size_t>(d)] = 0;
    }
    if (d < 0) return;
  }
}

// Plain in-memory copy of `box` out of / into the reference array.
void extract_box(const NdArray& ref, const Box& box, std::byte* dst) {
  const std::size_t isz = ref.dtype().itemsize();
  for_each_row(ref.shape(), box, [&](std::int64_t off, std::int64_t boff, std::int64_t n) {
    std::memcpy(dst + boff * isz, ref.bytes() + off * isz, static_cast<std::size_t>(n) * isz);
  });
}

void insert_box(NdArray& ref, const Box& box, const std::byte* src) {
  const std::size_t isz = ref.dtype().itemsize();
  for_each_row(ref.shape(), box, [&](std::int64_t off, std::int64_t boff, std::int64_t n) {
    std::memcpy(ref.bytes() + off * isz, src + boff * isz, static_cast<std::size_t>(n) * isz);
  });
}

void expect_equal(const std::string& what, const std::byte* got, const std::byte* want,
                  std::size_t nbytes, std::size_t itemsize) {
  if (std::memcmp(got, want, nbytes) == 0) return;
  std::size_t i = 0;
  while (i < nbytes && got[i] == want[i]) ++i;
  throw VerifyFailure(what + ": wrong data at element " + std::to_string(i / itemsize) + " of " +
                      std::to_string(nbytes / itemsize));
}

std::vector<Box> random_boxes(const Shape& shape, int count, std::int64_t edge,
                              std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Box> out;
  for (int i = 0; i < count; ++i) {
    Box box;
    for (auto n : shape) {
      const std::int64_t c = std::min(edge, n);
      box.count.push_back(c);
      box.start.push_back(std::uniform_int_distribution<std::int64_t>(0, n - c)(rng));
    }
    out.push_back(std::move(box));
  }
  return out;
}

using Clock = std::chrono::steady_clock;

// CPU seconds of the whole process (every thread), to tell waiting for a
// shared CPU apart from work when the machine is loaded.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Stopwatch {
  Clock::time_point wall = Clock::now();
  double cpu = process_cpu_seconds();
};

struct Timing {
  std::uint64_t bytes = 0;  // bytes moved by one repetition
  std::int64_t ops = 1;     // operations in one repetition
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;
  void stop(const Stopwatch& sw) {
    seconds.push_back(std::chrono::duration<double>(Clock::now() - sw.wall).count());
    cpu_seconds.push_back(process_cpu_seconds() - sw.cpu);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double v, const char* fmt) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string json_shape(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

class Bench {
 public:
  explicit Bench(Args args)
      : args_(std::move(args)), dtype_(DType::parse(args_.dtype)), conn_(args_.config) {
    conn_.connect();
    ref_ = NdArray::uninitialized(dtype_, args_.shape);
    fill_pattern(dtype_, ref_.bytes(), ref_.size(), 1);
    scratch_ = NdArray::uninitialized(dtype_, args_.shape);
    std::memset(scratch_.bytes(), 0, scratch_.nbytes());
  }

  ~Bench() {
    for (const auto& name : created_) {
      try {
        if (conn_.has_dataset(name)) conn_.del_dataset(name);
      } catch (const std::exception& e) {
        std::cerr << "dosna-bench: could not delete dataset '" << name << "': " << e.what()
                  << "\n";
      }
    }
  }

  void run(const std::string& op) {
    std::cerr << "dosna-bench: " << op << " ..." << std::endl;
    Timing t;
    if (op == "memcpy") t = bench_memcpy();
    else if (op == "create_load") t = bench_create_load();
    else if (op == "read_full") t = bench_read_full();
    else if (op == "read_zslab") t = bench_read_slabs(0, op);
    else if (op == "read_yslab") t = bench_read_slabs(1, op);
    else if (op == "read_xslab") t = bench_read_slabs(2, op);
    else if (std::find(kBoxOps.begin(), kBoxOps.end(), op) != kBoxOps.end()) t = bench_box_op(op);
    else if (op == "write_boxes") t = bench_write_boxes();
    else if (op == "read_element") t = bench_read_element();
    else if (op == "apply") t = bench_apply();
    if (t.seconds.empty()) return;
    const double s = median(t.seconds);
    std::cerr << "dosna-bench: " << op << ": median " << s << " s wall, "
              << median(t.cpu_seconds) << " s cpu over " << t.seconds.size() << " reps"
              << std::endl;
    const bool has_bytes = t.bytes > 0;
    std::cout << "{\"op\":" << json_string(op)
              << ",\"backend\":" << json_string(args_.config.backend)
              << ",\"engine\":" << json_string(args_.config.engine)
              << ",\"shape\":" << json_shape(args_.shape)
              << ",\"chunks\":" << json_shape(args_.chunks)
              << ",\"format\":" << json_string(main_ ? main_->format() : args_.storage.format)
              << ",\"compression\":"
              << (args_.storage.compression ? json_string(*args_.storage.compression) : "null")
              << ",\"shard\":"
              << (args_.storage.shard_shape.empty() ? "null" : json_shape(args_.storage.shard_shape))
              << ",\"bytes\":" << (has_bytes ? std::to_string(t.bytes) : "null")
              << ",\"seconds\":" << json_number(s, "%.9g")
              << ",\"mb_per_s\":"
              << (has_bytes && s > 0 ? json_number(static_cast<double>(t.bytes) / s / 1e6, "%.1f")
                                     : "null")
              << ",\"ops_per_s\":"
              << (s > 0 ? json_number(static_cast<double>(t.ops) / s, "%.1f") : "null")
              << ",\"us_per_op\":" << json_number(s / static_cast<double>(t.ops) * 1e6, "%.4g")
              << "}" << std::endl;
  }

 private:
  std::string new_name(const std::string& hint) {
    const std::string name =
        "bench-" + std::to_string(getpid()) + "-" + std::to_string(created_.size()) + "-" + hint;
    created_.push_back(name);
    return name;
  }

  Dataset create(const std::string& hint) {
    return conn_.create_dataset(new_name(hint), args_.shape, dtype_, args_.chunks, 0,
                                args_.storage);
  }

  // The dataset the read ops use, created and loaded with the reference data.
  Dataset& main() {
    if (!main_) {
      main_ = create("main");
      main_->load(ref_.view());
      verify_full(*main_, "load");
    }
    return *main_;
  }

  void poison(NdArray& a) { std::memset(a.bytes(), kPoison, a.nbytes()); }

  void verify_full(const Dataset& ds, const std::string& what) {
    poison(scratch_);
    ds.read(Selection{}, scratch_.mutable_view());
    expect_equal(what + " (full read back)", scratch_.bytes(), ref_.bytes(), ref_.nbytes(),
                 dtype_.itemsize());
  }

  std::uint64_t nbytes() const { return ref_.nbytes(); }

  Timing bench_memcpy() {
    Timing t{nbytes(), 1, {}, {}};
    NdArray dst = NdArray::uninitialized(dtype_, args_.shape);
    for (int r = 0; r < args_.reps; ++r) {
      poison(dst);
      const Stopwatch sw;
      std::memcpy(dst.bytes(), ref_.bytes(), ref_.nbytes());
      t.stop(sw);
      expect_equal("memcpy", dst.bytes(), ref_.bytes(), ref_.nbytes(), dtype_.itemsize());
    }
    return t;
  }

  Timing bench_create_load() {
    Timing t{nbytes(), 1, {}, {}};
    for (int r = 0; r < args_.reps; ++r) {
      const std::string name = new_name("create_load");
      const Stopwatch sw;
      Dataset ds = conn_.create_dataset(name, args_.shape, dtype_, args_.chunks, 0, args_.storage);
      ds.load(ref_.view());
      t.stop(sw);
      verify_full(ds, "create_load");
      conn_.del_dataset(name);
    }
    return t;
  }

  Timing bench_read_full() {
    Dataset& ds = main();
    Timing t{nbytes(), 1, {}, {}};
    NdArray out = NdArray::uninitialized(dtype_, args_.shape);
    for (int r = 0; r < args_.reps; ++r) {
      poison(out);
      const Stopwatch sw;
      ds.read(Selection{}, out.mutable_view());
      t.stop(sw);
      expect_equal("read_full", out.bytes(), ref_.bytes(), ref_.nbytes(), dtype_.itemsize());
    }
    return t;
  }

  // Times reading `boxes` in each of `modes` (kBoxOps), the repetitions of
  // the modes interleaved so they see the same machine load. Every result is
  // verified against the reference array.
  std::map<std::string, Timing> time_box_reads(const std::vector<std::string>& modes,
                                               const std::vector<Box>& boxes) {
    const bool plain_only = modes.size() == 1 && modes[0] == "read_boxes_plain";
    Dataset* ds = plain_only ? nullptr : &main();
    std::vector<NdArray> outs;
    std::vector<MutableArrayView> views;
    std::vector<Selection> sels;
    Timing proto{0, static_cast<std::int64_t>(boxes.size()), {}, {}};
    for (const auto& box : boxes) {
      outs.push_back(NdArray::uninitialized(dtype_, box.count));
      views.push_back(outs.back().mutable_view());
      sels.push_back(box.selection());
      proto.bytes += outs.back().nbytes();
    }
    std::map<std::string, Timing> out;
    for (const auto& mode : modes) out[mode] = proto;
    NdArray want;
    for (int r = 0; r < args_.reps; ++r) {
      for (const auto& mode : modes) {
        for (auto& o : outs) poison(o);
        const Stopwatch sw;
        if (mode == "read_boxes") {
          ds->read_many(sels, views);
        } else if (mode == "read_boxes_each") {
          for (std::size_t i = 0; i < boxes.size(); ++i) ds->read(sels[i], views[i]);
        } else {
          for (std::size_t i = 0; i < boxes.size(); ++i) extract_box(ref_, boxes[i], outs[i].bytes());
        }
        out[mode].stop(sw);
        for (std::size_t i = 0; i < boxes.size(); ++i) {
          want = NdArray::uninitialized(dtype_, boxes[i].count);
          extract_box(ref_, boxes[i], want.bytes());
          expect_equal(mode + " box " + std::to_string(i) + " " + sels[i].to_string(),
                       outs[i].bytes(), want.bytes(), want.nbytes(), dtype_.itemsize());
        }
      }
    }
    return out;
  }

  // The read_boxes family: the requested members measured together once.
  Timing bench_box_op(const std::string& op) {
    if (box_timings_.empty()) {
      std::vector<std::string> modes;
      for (const auto& m : kBoxOps)
        if (std::find(args_.ops.begin(), args_.ops.end(), m) != args_.ops.end()) modes.push_back(m);
      box_timings_ =
          time_box_reads(modes, random_boxes(args_.shape, kBoxCount, kBoxEdge, kReadBoxSeed));
    }
    return box_timings_.at(op);
  }

  Timing bench_read_slabs(std::size_t axis, const std::string& op) {
    if (axis >= args_.shape.size()) {
      std::cerr << "dosna-bench: " << op << " skipped: the dataset has no axis " << axis << "\n";
      return {};
    }
    std::vector<Box> slabs;
    for (std::int64_t s = 0; s < args_.shape[axis]; s += kSlabThickness) {
      Box box{Shape(args_.shape.size(), 0), args_.shape};
      box.start[axis] = s;
      box.count[axis] = std::min(kSlabThickness, args_.shape[axis] - s);
      slabs.push_back(std::move(box));
    }
    return time_box_reads({"read_boxes_each"}, slabs).at("read_boxes_each");
  }

  Timing bench_write_boxes() {
    Dataset& ds = main();
    const std::vector<Box> boxes = random_boxes(args_.shape, kBoxCount, kBoxEdge, kWriteBoxSeed);
    std::vector<NdArray> values;
    std::vector<Selection> sels;
    Timing t{0, kBoxCount, {}, {}};
    for (const auto& box : boxes) {
      values.push_back(NdArray::uninitialized(dtype_, box.count));
      sels.push_back(box.selection());
      t.bytes += values.back().nbytes();
    }
    for (int r = 0; r < args_.reps; ++r) {
      for (std::size_t i = 0; i < boxes.size(); ++i)
        fill_pattern(dtype_, values[i].bytes(), values[i].size(), 1000 + 1000 * r + i);
      const Stopwatch sw;
      for (std::size_t i = 0; i < boxes.size(); ++i) ds.write(sels[i], values[i].view());
      t.stop(sw);
      for (std::size_t i = 0; i < boxes.size(); ++i) insert_box(ref_, boxes[i], values[i].bytes());
      verify_full(ds, "write_boxes");
    }
    return t;
  }

  Timing bench_read_element() {
    Dataset& ds = main();
    std::mt19937_64 rng(kElementSeed);
    std::vector<Selection> sels;
    std::vector<std::int64_t> flat;
    for (int i = 0; i < kElementCount; ++i) {
      std::vector<IndexItem> items;
      std::int64_t f = 0;
      for (auto n : args_.shape) {
        const std::int64_t v = std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng);
        items.emplace_back(v);
        f = f * n + v;
      }
      sels.emplace_back(std::move(items));
      flat.push_back(f);
    }
    const std::size_t isz = dtype_.itemsize();
    std::vector<std::byte> out(kElementCount * isz);
    Timing t{kElementCount * isz, kElementCount, {}, {}};
    for (int r = 0; r < args_.reps; ++r) {
      std::memset(out.data(), kPoison, out.size());
      const Stopwatch sw;
      for (int i = 0; i < kElementCount; ++i)
        ds.read(sels[i], MutableArrayView{dtype_, Shape{}, out.data() + i * isz, {}});
      t.stop(sw);
      for (int i = 0; i < kElementCount; ++i)
        expect_equal("read_element " + sels[i].to_string(), out.data() + i * isz,
                     ref_.bytes() + flat[i] * static_cast<std::int64_t>(isz), isz, isz);
    }
    return t;
  }

  Timing bench_apply() {
    Dataset& ds = main();
    Timing t{nbytes(), 1, {}, {}};
    const DType dtype = dtype_;
    for (int r = 0; r < args_.reps; ++r) {
      const Stopwatch sw;
      ds.apply([dtype](NdArray chunk) {
        add_one(dtype, chunk.bytes(), chunk.size());
        return chunk;
      });
      t.stop(sw);
      add_one(dtype_, ref_.bytes(), ref_.size());
      verify_full(ds, "apply");
    }
    return t;
  }

  Args args_;
  DType dtype_;
  Connection conn_;
  NdArray ref_;      // what the main dataset holds
  NdArray scratch_;  // full-size buffer for verification reads
  std::optional<Dataset> main_;
  std::vector<std::string> created_;
  std::map<std::string, Timing> box_timings_;  // the read_boxes family, once measured
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "dosna-bench: " << e.what() << " (see dosna-bench --help)\n";
    return 2;
  }
  try {
    Bench bench(args);
    for (const auto& op : args.ops) bench.run(op);
  } catch (const VerifyFailure& e) {
    std::cerr << "dosna-bench: VERIFICATION FAILED: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dosna-bench: error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
