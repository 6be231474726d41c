#include "backends/hdf5/h5_util.h"

#include <cstdint>

#include "dosna/errors.h"

namespace dosna::hdf5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = -1;
}

std::unique_lock<std::mutex> lock() {
  static std::mutex mutex;
  std::unique_lock<std::mutex> guard(mutex);
  thread_local bool quiet = false;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
  return guard;
}

namespace {

herr_t innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err->desc != nullptr) {
    *static_cast<std::string*>(out) = std::string(err->func_name ? err->func_name : "") +
                                      ": " + err->desc;
  }
  return 0;
}

}  // namespace

std::string last_error() {
  std::string out;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

Handle create_in_memory(const std::string& name, std::string_view context) {
  Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, context);
  check(H5Pset_fapl_core(fapl.get(), 1 << 16, false), context);
  return own(H5Fcreate(name.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose, context);
}

std::vector<std::byte> file_image(hid_t file, std::string_view context) {
  check(H5Fflush(file, H5F_SCOPE_LOCAL), context);
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size < 0) check(-1, context);
  std::vector<std::byte> image(static_cast<std::size_t>(size));
  if (H5Fget_file_image(file, image.data(), image.size()) < 0) check(-1, context);
  return image;
}

void check(herr_t status, std::string_view context) {
  if (status < 0) {
    std::string detail = last_error();
    throw IoError(std::string(context) + (detail.empty() ? "" : " (" + detail + ")"));
  }
}

Handle own(hid_t id, Handle::Closer closer, std::string_view context) {
  if (id < 0) check(-1, context);
  return Handle(id, closer);
}

Handle file_type(DType dtype) {
  const std::size_t size = dtype.itemsize();
  switch (dtype.kind()) {
    case DTypeKind::kBool: {
      Handle t = own(H5Tenum_create(H5T_STD_I8LE), H5Tclose, "H5Tenum_create");
      const std::int8_t no = 0, yes = 1;
      check(H5Tenum_insert(t.get(), "FALSE", &no), "H5Tenum_insert");
      check(H5Tenum_insert(t.get(), "TRUE", &yes), "H5Tenum_insert");
      return t;
    }
    case DTypeKind::kInt:
    case DTypeKind::kUInt: {
      const bool is_signed = dtype.kind() == DTypeKind::kInt;
      hid_t base = -1;
      switch (size) {
        case 1: base = is_signed ? H5T_STD_I8LE : H5T_STD_U8LE; break;
        case 2: base = is_signed ? H5T_STD_I16LE : H5T_STD_U16LE; break;
        case 4: base = is_signed ? H5T_STD_I32LE : H5T_STD_U32LE; break;
        case 8: base = is_signed ? H5T_STD_I64LE : H5T_STD_U64LE; break;
        default: break;
      }
      if (base < 0) break;
      return own(H5Tcopy(base), H5Tclose, "H5Tcopy");
    }
    case DTypeKind::kFloat:
      if (size == 4) return own(H5Tcopy(H5T_IEEE_F32LE), H5Tclose, "H5Tcopy");
      if (size == 8) return own(H5Tcopy(H5T_IEEE_F64LE), H5Tclose, "H5Tcopy");
      break;
    case DTypeKind::kComplex: {
      if (size != 8 && size != 16) break;
      const hid_t part = size == 8 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
      Handle t = own(H5Tcreate(H5T_COMPOUND, size), H5Tclose, "H5Tcreate");
      check(H5Tinsert(t.get(), "r", 0, part), "H5Tinsert");
      check(H5Tinsert(t.get(), "i", size / 2, part), "H5Tinsert");
      return t;
    }
  }
  throw InvalidArgument("hdf5 backend: dtype '" + dtype.str() + "' has no HDF5 type");
}

std::optional<DType> dtype_of(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 1 || size == 2 || size == 4 || size == 8)
      return DType(is_signed ? DTypeKind::kInt : DTypeKind::kUInt, size);
  } else if (cls == H5T_FLOAT) {
    if (size == 4 || size == 8) return DType(DTypeKind::kFloat, size);
  } else if (cls == H5T_ENUM) {
    // h5py's bool: an int8 enum {FALSE: 0, TRUE: 1}.
    if (size == 1 && H5Tget_nmembers(type) == 2) return DType(DTypeKind::kBool, 1);
  } else if (cls == H5T_COMPOUND) {
    // h5py's complex: {r, i} of one float type.
    if (H5Tget_nmembers(type) == 2 && (size == 8 || size == 16)) {
      hid_t a = H5Tget_member_type(type, 0), b = H5Tget_member_type(type, 1);
      const bool ok = H5Tget_class(a) == H5T_FLOAT && H5Tget_class(b) == H5T_FLOAT &&
                      H5Tget_size(a) == size / 2 && H5Tget_size(b) == size / 2;
      H5Tclose(a);
      H5Tclose(b);
      if (ok) return DType(DTypeKind::kComplex, size);
    }
  }
  return std::nullopt;
}

}  // namespace dosna::hdf5
