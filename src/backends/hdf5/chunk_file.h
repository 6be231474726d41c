// chunk_<i>_<j>_<k>.h5: one chunk of an hdf5-backend dataset, an HDF5 file
// holding /data of shape chunk_size with the dataset's fill value as its HDF5
// fill value (docs/format.md, HDF5 section).
//
// Why the hot paths avoid the HDF5 library
// ----------------------------------------
// Every HDF5 API call runs behind one process-wide lock, and opening a file
// (superblock, root group, object header) costs far more than moving a chunk's
// bytes. Chunk I/O through the library would therefore serialise the threads
// engine and pay several opens per chunk, which is where the Python original
// spends ~95% of its time. Instead:
//
// * We write every chunk file with CONTIGUOUS layout, no filters, storage
//   allocated at creation and no object timestamps. The bytes of such a file
//   are then a fixed function of (dtype, chunk_size, fill value) and the
//   payload: a header, the payload at a fixed data offset (H5Dget_offset), and
//   possibly a fixed tail. We build that file once per dataset with HDF5 in
//   memory (core driver, H5Fget_file_image) and keep its header and tail as a
//   template. Writing a chunk is then one pwritev(header, payload, tail) to a
//   temporary name in the same directory and a rename(): plain syscalls, no
//   lock, many in parallel, and never torn (a reader sees the old file or the
//   new one). The result is an ordinary HDF5 file that h5py opens.
// * Reading a chunk is one open and one preadv(header, payload, tail+1 byte)
//   straight into the result buffer. The file is trusted only if its size and
//   header bytes equal the template (so the data offset is right); anything
//   else, such as files written by h5py (late allocation, chunked or
//   compressed layouts, another library version), is read through the HDF5
//   API, which is correct for every layout, only slower.
// * get_ranges_many on a file that matches the template reads
//   just the requested bytes of the payload (reads_ranges() is true).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/backend.h"

namespace dosna::hdf5 {

// The fixed bytes around the payload of a chunk file of one dataset.
struct ChunkTemplate {
  std::vector<std::byte> head;  // file bytes [0, data offset)
  std::vector<std::byte> tail;  // file bytes after the payload
  std::size_t payload = 0;      // chunk_nbytes()
  std::size_t file_size() const { return head.size() + payload + tail.size(); }
};

// Builds the template with the HDF5 library (in memory, under its lock).
// Throws IoError naming `dataset`.
ChunkTemplate build_chunk_template(const DatasetMeta& meta, std::string_view dataset);

// The chunk file's payload, or nullptr if `path` does not exist. Throws
// IoError naming `dataset` and the path if the file cannot be read or its
// /data does not have the chunk's shape.
ChunkData read_chunk_file(const std::string& path, const ChunkTemplate& layout,
                          const DatasetMeta& meta, std::string_view dataset);

// The same into `out` (the payload's size): false if `path` does not exist.
bool read_chunk_file_into(const std::string& path, const ChunkTemplate& layout,
                          const DatasetMeta& meta, std::string_view dataset,
                          std::span<std::byte> out);

// The bytes of `ranges` of the payload, concatenated in order, or nullptr if
// absent: one open and a few preadv() calls for a file that matches the
// template. Throws InvalidArgument for a range outside the payload.
ChunkData read_chunk_ranges(const std::string& path, const ChunkTemplate& layout,
                            const DatasetMeta& meta, std::string_view dataset,
                            std::span<const ByteRange> ranges);


// Writes `payload` as `dir`/`file_name` atomically: a temporary file in `dir`
// renamed into place. With `durable`, fsyncs the file before the rename and
// the directory after it. Throws IoError naming `dataset` (NotFound-free: a
// missing directory is an IoError with ENOENT).
void write_chunk_file(const std::string& dir, const std::string& file_name,
                      const ChunkTemplate& layout, const Buffer& payload, bool durable,
                      std::string_view dataset);

}  // namespace dosna::hdf5
