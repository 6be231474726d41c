// Small helpers over the HDF5 C API for the hdf5 backend: owned handles, the
// process-wide lock every HDF5 call runs under, error text, and the HDF5
// types h5py uses for each DosNa dtype.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/dtype.h"

namespace dosna::hdf5 {

// An owned hid_t, closed with the matching H5?close on destruction.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() noexcept;
  // Gives up ownership (to close it explicitly and check the result).
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Every HDF5 API call of this backend holds this lock. The library serialises
// calls behind its own global lock anyway when it is built thread-safe
// (Debian's is: H5is_library_threadsafe); holding ours as well makes a
// non-thread-safe build correct and costs nothing extra. The lock also turns
// off HDF5's automatic error printing for the calling thread (error stacks
// are per thread), since failures become typed DosNa errors instead.
std::unique_lock<std::mutex> lock();

// The innermost message of the calling thread's HDF5 error stack, or "" if
// empty. Call under lock() right after the failing call.
std::string last_error();

// Throws IoError "<context>: <hdf5 message>" when `status` < 0.
void check(herr_t status, std::string_view context);
// Wraps a new handle; throws IoError "<context>: ..." when `id` < 0.
Handle own(hid_t id, Handle::Closer closer, std::string_view context);

// Creates the HDF5 file `name` in memory only (core driver, no backing
// store): nothing done to it touches the disk, so a full disk cannot leave
// HDF5 holding a file it failed to close (which crashes the library's exit
// handler). `name` must be unique among the files this process has open.
// Call under lock(); throws IoError "<context>: ...".
Handle create_in_memory(const std::string& name, std::string_view context);
// The bytes of an open file, flushed first. Call under lock().
std::vector<std::byte> file_image(hid_t file, std::string_view context);

// The on-disk (little-endian) HDF5 type h5py uses for `dtype`: IEEE floats,
// STD integers, an int8 enum {FALSE=0, TRUE=1} for bool, and a compound
// {r, i} of floats for complex. Also valid as a memory type: the payload
// bytes of a chunk are exactly this type, element after element.
Handle file_type(DType dtype);
// The DosNa dtype of an HDF5 type h5py writes (the inverse of file_type, any
// byte order); nullopt for a type DosNa has no dtype for. Call under lock().
std::optional<DType> dtype_of(hid_t type);

}  // namespace dosna::hdf5
