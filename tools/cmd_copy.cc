// cp, import, export: chunk-by-chunk copies run as engine tasks.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <span>

#include "default_chunks.h"
#include "commands.h"
#include "context.h"
#include "dosna/copy.h"
#include "dosna/errors.h"
#include "file_errors.h"
#include "incomplete.h"
#include "mapped_file.h"
#include "npy.h"
#include "progress.h"
#ifdef DOSNA_CLI_HDF5
#include "h5file.h"
#endif

namespace dosna::cli {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_h5(const std::string& ext) { return ext == ".h5" || ext == ".hdf5" || ext == ".hdf"; }

#ifndef DOSNA_CLI_HDF5
[[noreturn]] void no_h5(const std::string& path) {
  throw NotBuilt("file '" + path + "': HDF5 files need the hdf5 part, which this dosna lacks");
}
#endif

// Calls fn(boxes) for the chunk boxes of `meta`'s grid in C order, in batches
// of chunks_per_batch() run as tasks of `engine`, so a batch can be read with
// one Dataset::read_many (its chunks in flight together).
void for_each_box_batch(const DatasetMeta& meta, Engine& engine,
                        const std::function<void(std::span<const ChunkBox>)>& fn) {
  const auto n = static_cast<std::size_t>(meta.total_chunks());
  const std::size_t batch = chunks_per_batch(meta.chunk_nbytes());
  engine.run_local((n + batch - 1) / batch, [&](std::size_t b) {
    std::vector<ChunkBox> boxes;
    for (std::size_t i = b * batch; i < std::min(n, (b + 1) * batch); ++i)
      boxes.push_back(chunk_box(meta, static_cast<std::int64_t>(i)));
    fn(boxes);
  });
}

// Fills every chunk of `dst` from `read_box`, which returns a view of the
// source box [start, start+count) (it may use `scratch`, an array of that
// shape, as storage). Chunks run as tasks of `dst`'s engine.
using BoxSource =
    std::function<ArrayView(const Shape& start, const Shape& count, NdArray& scratch)>;

void fill_chunks(Dataset& dst, const BoxSource& read_box, Progress& progress) {
  const DatasetMeta meta = dst.meta();
  const auto n = static_cast<std::size_t>(meta.total_chunks());
  dst.engine().run_local(n, [&](std::size_t i) {
    const ChunkBox box = chunk_box(meta, static_cast<std::int64_t>(i));
    NdArray scratch;
    const ArrayView view = read_box(box.start, box.count, scratch);
    dst.create_chunk(box.index, view, box_selection(Shape(box.count.size(), 0), box.count));
    progress.add(nbytes(box.count, meta.dtype.itemsize()));
  });
}

#ifdef DOSNA_CLI_HDF5
// Calls `sink` with every chunk box of `src` and an array of its elements,
// as tasks of `src`'s engine.
using BoxSink = std::function<void(const Shape& start, const Shape& count, const NdArray& data)>;

void drain_chunks(const Dataset& src, const BoxSink& sink, Progress& progress) {
  const DatasetMeta meta = src.meta();
  for_each_box_batch(meta, src.engine(), [&](std::span<const ChunkBox> boxes) {
    std::vector<Selection> sels;
    for (const auto& box : boxes) sels.push_back(box_selection(box.start, box.count));
    std::vector<NdArray> data = src.read_many(sels);
    for (std::size_t k = 0; k < boxes.size(); ++k) {
      if (data[k].shape() != boxes[k].count) data[k] = std::move(data[k]).reshaped(boxes[k].count);
      sink(boxes[k].start, boxes[k].count, data[k]);
      progress.add(data[k].nbytes());
    }
  });
}
#endif

void check_same_meta(const Dataset& src, Connection& dst_con, const std::string& dst_name,
                     const Shape& chunks) {
  const Dataset back = dst_con.get_dataset(dst_name);
  if (back.shape() != src.shape() || !(back.dtype() == src.dtype()) || back.chunk_size() != chunks)
    throw IoError("dataset '" + dst_name + "': the destination reads back as " +
                  shape_to_string(back.shape()) + " " + back.dtype().str() + " in chunks " +
                  shape_to_string(back.chunk_size()) + ", not what was written");
}

}  // namespace

int cmd_cp(const Args& args) {
  const StoreSpec src_spec = parse_store(args.store, args.backend, args.opts);
  const StoreSpec dst_spec =
      parse_store(args.dst_store, args.dst_backend.empty() ? args.backend : args.dst_backend,
                  args.dst_backend.empty() && args.dst_opts.empty() ? args.opts : args.dst_opts);
  const std::string dst_name = args.dst_name.empty() ? args.name : args.dst_name;
  if (same_store(src_spec, dst_spec) && dst_name == args.name)
    throw InvalidArgument("cp: source and destination are the same dataset '" + dst_name + "'");
  auto engine = make_cli_engine(args);
  Connection src_con = open_store(src_spec, engine, StoreMode::kExisting);
  const Dataset src = src_con.get_dataset(args.name);
  Connection dst_con = open_store(dst_spec, engine, StoreMode::kCreateMissing);
  const Shape chunks =
      args.chunks.empty() ? src.chunk_size() : parse_shape(args.chunks, "--chunks");
  write_marked(dst_con, {dst_name, src.shape(), src.dtype(), chunks, src.fillvalue(), args.force,
                         storage_options(args)},
               [&](Dataset& dst) {
    const bool same_chunks = chunks == src.chunk_size();
    std::int64_t written = 0;
    {
      Progress progress(
          "cp",
          same_chunks ? static_cast<std::uint64_t>(src.stored_chunks()) * src.meta().chunk_nbytes()
                      : nbytes(src.shape(), src.dtype().itemsize()),
          progress_enabled(args));
      CopyOptions options;
      std::int64_t reported = 0;
      options.progress = [&](std::int64_t done, std::int64_t) {
        progress.add(static_cast<std::uint64_t>(done - reported));
        reported = done;
      };
      written = copy_chunks(src, dst, options);
      if (args.stats) progress.print_stats("cp");
    }
    check_same_meta(src, dst_con, dst_name, chunks);
    const std::int64_t stored = dst.stored_chunks();
    if (stored != written)
      throw IoError("dataset '" + dst_name + "': wrote " + std::to_string(written) +
                    " chunks but the destination stores " + std::to_string(stored));
  });
  return 0;
}

int cmd_import(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  const std::string ext = lower_extension(args.file);
  auto engine = make_cli_engine(args);
  if (ext == ".npy") {
    if (!args.h5path.empty())
      throw InvalidArgument("--h5path applies to HDF5 files, not '" + args.file + "'");
    const MappedFile file = MappedFile::open_read(args.file);
    const NpyHeader header = parse_npy_header(file.data(), file.size(), args.file);
    const ArrayView whole = npy_view(header, file.data());
    const std::size_t isz = header.dtype.itemsize();
    const std::vector<std::int64_t> strides =
        whole.strides.empty() ? contiguous_strides(header.shape, isz) : whole.strides;
    const Shape chunks = args.chunks.empty() ? default_chunks(header.shape, isz)
                                             : parse_shape(args.chunks, "--chunks");
    Connection con = open_store(spec, engine, StoreMode::kCreateMissing);
    write_marked(con,
                 {args.name, header.shape, header.dtype, chunks, Scalar::parse(args.fillvalue),
                  args.force, storage_options(args)},
                 [&](Dataset& dst) {
      Progress progress("import", nbytes(header.shape, isz), progress_enabled(args));
      fill_chunks(
          dst,
          [&](const Shape& start, const Shape& count, NdArray&) {
            std::int64_t offset = 0;
            for (std::size_t d = 0; d < start.size(); ++d) offset += start[d] * strides[d];
            return ArrayView{header.dtype, count, whole.data + offset, strides};
          },
          progress);
      if (args.stats) progress.print_stats("import");
    });
    return 0;
  }
  if (is_h5(ext)) {
#ifdef DOSNA_CLI_HDF5
    H5Reader reader(args.file, args.h5path);
    const Shape chunks = args.chunks.empty()
                             ? default_chunks(reader.shape(), reader.dtype().itemsize())
                             : parse_shape(args.chunks, "--chunks");
    Connection con = open_store(spec, engine, StoreMode::kCreateMissing);
    write_marked(con,
                 {args.name, reader.shape(), reader.dtype(), chunks,
                  Scalar::parse(args.fillvalue), args.force, storage_options(args)},
                 [&](Dataset& dst) {
      Progress progress("import", nbytes(reader.shape(), reader.dtype().itemsize()),
                        progress_enabled(args));
      fill_chunks(
          dst,
          [&](const Shape& start, const Shape& count, NdArray& scratch) {
            scratch = NdArray::uninitialized(reader.dtype(), count);
            reader.read(start, count, scratch.bytes());
            return scratch.view();
          },
          progress);
      if (args.stats) progress.print_stats("import");
    });
    return 0;
#else
    no_h5(args.file);
#endif
  }
  throw InvalidArgument("import: file '" + args.file +
                        "' has no known extension (.npy, .h5, .hdf5)");
}

int cmd_export(const Args& args) {
  const StoreSpec spec = parse_store(args.store, args.backend, args.opts);
  const std::string ext = lower_extension(args.file);
  if (ext != ".npy" && !is_h5(ext))
    throw InvalidArgument("export: file '" + args.file +
                          "' has no known extension (.npy, .h5, .hdf5)");
  if (ext == ".npy" && !args.h5path.empty())
    throw InvalidArgument("--h5path applies to HDF5 files, not '" + args.file + "'");
  Connection con = open_store(spec, make_cli_engine(args), StoreMode::kExisting);
  const Dataset src = con.get_dataset(args.name);
  const DType dtype = src.dtype();
  const std::uint64_t total = nbytes(src.shape(), dtype.itemsize());
  if (ext == ".npy") {
    if (!args.force && std::filesystem::exists(args.file))
      throw AlreadyExists("file '" + args.file + "' exists (use --force to replace it)");
    const std::string header = make_npy_header(dtype, src.shape());
    const std::string tmp = args.file + ".part-" + std::to_string(::getpid());
    try {
      MappedFile out = MappedFile::create(tmp, header.size() + total, args.file);
      std::memcpy(out.data(), header.data(), header.size());
      std::byte* base = out.data() + header.size();
      const auto strides = contiguous_strides(src.shape(), dtype.itemsize());
      {
        Progress progress("export", total, progress_enabled(args));
        for_each_box_batch(src.meta(), src.engine(), [&](std::span<const ChunkBox> boxes) {
          std::vector<Selection> sels;
          std::vector<MutableArrayView> views;
          std::uint64_t done = 0;
          for (const auto& box : boxes) {
            std::int64_t offset = 0;
            for (std::size_t d = 0; d < box.start.size(); ++d) offset += box.start[d] * strides[d];
            sels.push_back(box_selection(box.start, box.count));
            views.push_back(MutableArrayView{dtype, box.count, base + offset, strides});
            done += nbytes(box.count, dtype.itemsize());
          }
          src.read_many(sels, views);
          progress.add(done);
        });
        if (args.stats) progress.print_stats("export");
      }
      out.sync();
      if (std::rename(tmp.c_str(), args.file.c_str()) != 0)
        throw_errno(errno, "file '" + args.file + "'");
    } catch (...) {
      std::remove(tmp.c_str());
      throw;
    }
    return 0;
  }
#ifdef DOSNA_CLI_HDF5
  const std::string h5path = args.h5path.empty() ? "/" + args.name : args.h5path;
  H5Writer writer(args.file, h5path, dtype, src.shape(), args.force);
  {
    Progress progress("export", total, progress_enabled(args));
    drain_chunks(
        src,
        [&](const Shape& start, const Shape& count, const NdArray& data) {
          writer.write(start, count, data.bytes());
        },
        progress);
    if (args.stats) progress.print_stats("export");
  }
  writer.close();
  return 0;
#else
  no_h5(args.file);
#endif
}

}  // namespace dosna::cli
