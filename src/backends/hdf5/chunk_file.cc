#include "backends/hdf5/chunk_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#include "backends/hdf5/h5_util.h"
#include "backends/hdf5/posix_io.h"
#include "dosna/errors.h"

namespace dosna::hdf5 {
namespace {

std::string shape_text(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + ")";
}

std::string prefix(std::string_view dataset) {
  return "hdf5 backend: dataset '" + std::string(dataset) + "': ";
}

[[noreturn]] void throw_errno(std::string_view dataset, const std::string& what, int err) {
  hdf5::throw_errno(prefix(dataset) + what, err);
}

// Opens a chunk file that must be a regular file; invalid if absent.
Fd open_chunk(const std::string& path, std::string_view dataset) {
  struct stat st;
  return open_regular_at(AT_FDCWD, path, prefix(dataset) + "cannot read chunk file " + path, st);
}

// Reads the whole chunk through the HDF5 library into `out` (chunk_nbytes()
// bytes): any layout, any filters. `fd` is the chunk file, open and checked
// to be a regular file: the library opens that file, whatever `path` names by
// now.
void read_with_library_into(const Fd& fd, const std::string& path, const DatasetMeta& meta,
                            std::string_view dataset, std::byte* out) {
  const std::string context = prefix(dataset) + "cannot read chunk file " + path;
  auto guard = lock();
  Handle file = own(H5Fopen(fd_path(fd.get()).c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                    context);
  Handle data = own(H5Dopen2(file.get(), "data", H5P_DEFAULT), H5Dclose, context + " (/data)");
  Handle space = own(H5Dget_space(data.get()), H5Sclose, context);
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  if (ndims < 0) check(-1, context);
  std::vector<hsize_t> dims(static_cast<std::size_t>(ndims));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), context);
  const Shape found(dims.begin(), dims.end());
  if (found != meta.chunk_size) {
    throw IoError(context + ": /data has shape " + shape_text(found) + ", expected " +
                  shape_text(meta.chunk_size));
  }
  Handle mem = file_type(meta.dtype);
  if (meta.chunk_nbytes() > 0)
    check(H5Dread(data.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), context);
}

// The same into a buffer of its own.
ChunkData read_with_library(const Fd& fd, const std::string& path, const DatasetMeta& meta,
                            std::string_view dataset) {
  auto buffer = Buffer::allocate(meta.chunk_nbytes());
  read_with_library_into(fd, path, meta, dataset, buffer->data());
  return buffer;
}

std::atomic<unsigned long> temp_counter{0};

}  // namespace

ChunkTemplate build_chunk_template(const DatasetMeta& meta, std::string_view dataset) {
  static std::atomic<unsigned long> serial{0};
  const std::string context = prefix(dataset) + "cannot build the chunk file layout";
  const std::size_t nbytes = meta.chunk_nbytes();
  ChunkTemplate out;
  out.payload = nbytes;

  auto guard = lock();
  const std::string name = "dosna-chunk-template-" + std::to_string(::getpid()) + "-" +
                           std::to_string(serial++) + ".h5";
  Handle file = create_in_memory(name, context);
  {
    Handle type = file_type(meta.dtype);
    std::vector<hsize_t> dims(meta.chunk_size.begin(), meta.chunk_size.end());
    Handle space = own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       H5Sclose, context);
    Handle dcpl = own(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, context);
    check(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), context);
    check(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), context);
    check(H5Pset_obj_track_times(dcpl.get(), false), context);
    std::vector<std::byte> fill(meta.dtype.itemsize());
    meta.fillvalue.store(meta.dtype, fill.data());
    check(H5Pset_fill_value(dcpl.get(), type.get(), fill.data()), context);
    Handle data = own(H5Dcreate2(file.get(), "data", type.get(), space.get(), H5P_DEFAULT,
                                 dcpl.get(), H5P_DEFAULT),
                      H5Dclose, context);
    const haddr_t offset = H5Dget_offset(data.get());
    if (offset == HADDR_UNDEF) throw IoError(context + ": no data offset");
    const std::vector<std::byte> image = file_image(file.get(), context);
    if (image.size() < offset + nbytes) throw IoError(context + ": file image smaller than its data");
    out.head.assign(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(offset));
    out.tail.assign(image.begin() + static_cast<std::ptrdiff_t>(offset + nbytes), image.end());
  }
  check(H5Fclose(file.release()), context);
  return out;
}

// Reads the file at `path` into `payload` (layout.payload bytes) with one
// preadv; true if the file matches the template, so `payload` holds its
// data. `fd` is the open file.
bool read_templated(int fd, const ChunkTemplate& layout, std::byte* payload,
                    std::string_view dataset, const std::string& path) {
  // head, payload, tail and one byte more to notice a longer file.
  thread_local std::vector<std::byte> scratch;
  scratch.resize(layout.head.size() + layout.tail.size() + 1);
  iovec iov[3] = {{scratch.data(), layout.head.size()},
                  {payload, layout.payload},
                  {scratch.data() + layout.head.size(), layout.tail.size() + 1}};
  ssize_t n;
  do {
    n = ::preadv(fd, iov, 3, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno(dataset, "cannot read " + path, errno);
  // Short reads of a regular file happen only at its end, so a mismatch
  // means a file of another layout (or a foreign writer).
  return static_cast<std::size_t>(n) == layout.file_size() &&
         std::memcmp(scratch.data(), layout.head.data(), layout.head.size()) == 0 &&
         (layout.tail.empty() || std::memcmp(scratch.data() + layout.head.size(),
                                             layout.tail.data(), layout.tail.size()) == 0);
}

ChunkData read_chunk_file(const std::string& path, const ChunkTemplate& layout,
                          const DatasetMeta& meta, std::string_view dataset) {
  Fd fd = open_chunk(path, dataset);
  if (!fd.valid()) return nullptr;
  auto buffer = Buffer::allocate(layout.payload);
  if (read_templated(fd.get(), layout, buffer->data(), dataset, path)) return buffer;
  return read_with_library(fd, path, meta, dataset);
}

bool read_chunk_file_into(const std::string& path, const ChunkTemplate& layout,
                          const DatasetMeta& meta, std::string_view dataset,
                          std::span<std::byte> out) {
  if (out.size() != layout.payload)
    throw InvalidArgument(prefix(dataset) + "buffer of " + std::to_string(out.size()) +
                          " bytes for a chunk of " + std::to_string(layout.payload));
  Fd fd = open_chunk(path, dataset);
  if (!fd.valid()) return false;
  if (!read_templated(fd.get(), layout, out.data(), dataset, path))
    read_with_library_into(fd, path, meta, dataset, out.data());
  return true;
}

ChunkData read_chunk_ranges(const std::string& path, const ChunkTemplate& layout,
                            const DatasetMeta& meta, std::string_view dataset,
                            std::span<const ByteRange> ranges) {
  std::size_t total = 0;
  for (const auto& r : ranges) {
    if (r.offset > layout.payload || r.length > layout.payload - r.offset) {
      throw InvalidArgument(prefix(dataset) + "byte range [" + std::to_string(r.offset) + ", " +
                            std::to_string(r.offset + r.length) + ") outside a chunk of " +
                            std::to_string(layout.payload) + " bytes");
    }
    total += r.length;
  }
  Fd fd = open_chunk(path, dataset);
  if (!fd.valid()) return nullptr;
  auto buffer = Buffer::allocate(total);

  // Plan the reads: the header first (to validate the file), then the ranges
  // in order. A range that starts a little after the previous read ends
  // joins it, the gap read into a throw-away buffer: copying a few KiB costs
  // less than another system call. Every read is one preadv().
  constexpr std::size_t kMaxGap = 8192;
  thread_local std::vector<std::byte> head;
  thread_local std::vector<std::byte> gap(kMaxGap);
  head.resize(layout.head.size());
  struct Read {
    off_t at;
    std::size_t first_iov, iov_count, bytes;
  };
  std::vector<iovec> iov;
  std::vector<Read> reads;
  iov.push_back({head.data(), head.size()});
  reads.push_back({0, 0, 1, head.size()});
  std::size_t end = head.size();
  std::byte* dst = buffer->data();
  for (const auto& r : ranges) {
    if (r.length == 0) continue;
    const std::size_t at = layout.head.size() + r.offset;
    Read& last = reads.back();
    if (at >= end && at - end <= kMaxGap && last.iov_count + 2 <= IOV_MAX) {
      if (at > end) {
        iov.push_back({gap.data(), at - end});
        ++last.iov_count;
        last.bytes += at - end;
      }
      iov.push_back({dst, r.length});
      ++last.iov_count;
      last.bytes += r.length;
    } else {
      iov.push_back({dst, r.length});
      reads.push_back({static_cast<off_t>(at), iov.size() - 1, 1, r.length});
    }
    dst += r.length;
    end = at + r.length;
  }
  bool ok = true;
  for (std::size_t k = 0; ok && k < reads.size(); ++k) {
    const Read& rd = reads[k];
    ssize_t n;
    do {
      n = ::preadv(fd.get(), &iov[rd.first_iov], static_cast<int>(rd.iov_count), rd.at);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno(dataset, "cannot read " + path, errno);
    // A short read means a file of another size; the header bytes (the
    // superblock with its end-of-file address and the layout message) must
    // equal the template's for the payload to be where we read it.
    ok = static_cast<std::size_t>(n) == rd.bytes &&
         (k > 0 || std::memcmp(head.data(), layout.head.data(), head.size()) == 0);
  }
  if (ok) return buffer;

  ChunkData whole = read_with_library(fd, path, meta, dataset);
  if (!whole) return nullptr;
  dst = buffer->data();
  for (const auto& r : ranges) {
    if (r.length > 0) std::memcpy(dst, whole->data() + r.offset, r.length);
    dst += r.length;
  }
  return buffer;
}

void write_chunk_file(const std::string& dir, const std::string& file_name,
                      const ChunkTemplate& layout, const Buffer& payload, bool durable,
                      std::string_view dataset) {
  if (payload.size() != layout.payload) {
    throw InvalidArgument(prefix(dataset) + "chunk payload of " + std::to_string(payload.size()) +
                          " bytes, expected " + std::to_string(layout.payload));
  }
  const std::string final_path = dir + "/" + file_name;
  // Hidden, unique per process and call; list() ignores it.
  const std::string temp_path = dir + "/." + file_name + "." + std::to_string(::getpid()) + "." +
                                std::to_string(temp_counter++) + ".tmp";
  Fd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.get() < 0) throw_errno(dataset, "cannot create " + temp_path, errno);
  try {
    std::vector<iovec> iov = {
        {const_cast<std::byte*>(layout.head.data()), layout.head.size()},
        {const_cast<std::byte*>(payload.data()), payload.size()},
        {const_cast<std::byte*>(layout.tail.data()), layout.tail.size()}};
    write_all(fd.get(), std::move(iov), prefix(dataset) + "cannot write " + temp_path);
    if (durable && ::fsync(fd.get()) != 0) throw_errno(dataset, "cannot fsync " + temp_path, errno);
    if (::close(fd.release()) != 0) throw_errno(dataset, "cannot close " + temp_path, errno);
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
      throw_errno(dataset, "cannot rename " + temp_path + " to " + final_path, errno);
    }
  } catch (...) {
    ::unlink(temp_path.c_str());
    throw;
  }
  if (durable) {
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
      throw_errno(dataset, "cannot fsync directory " + dir, errno);
    }
  }
}

}  // namespace dosna::hdf5
