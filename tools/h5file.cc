#include "h5file.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "backends/hdf5/h5_util.h"
#include "dosna/errors.h"
#include "file_errors.h"

namespace dosna::cli {
namespace {

std::vector<hsize_t> dims(const Shape& s) { return {s.begin(), s.end()}; }

herr_t collect_dataset(hid_t, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET)
    static_cast<std::vector<std::string>*>(out)->push_back(std::string("/") + name);
  return 0;
}

void check_readable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno(errno, "file '" + path + "'");
  if (::access(path.c_str(), R_OK) != 0) throw_errno(errno, "file '" + path + "'");
}

// Runs `transfer(memory space, file space)` (an H5Dread or H5Dwrite) on the
// box start:start+count of `dataset`; returns its status.
template <class Transfer>
herr_t transfer_box(hid_t dataset, const Shape& start, const Shape& count, Transfer&& transfer) {
  hid_t fspace = H5Dget_space(dataset);
  const auto s = dims(start), c = dims(count);
  if (!start.empty()) H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr);
  hid_t mspace = count.empty() ? H5Screate(H5S_SCALAR)
                               : H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr);
  const herr_t rc = transfer(mspace, fspace);
  H5Sclose(mspace);
  H5Sclose(fspace);
  return rc;
}

}  // namespace

H5Reader::H5Reader(const std::string& path, const std::string& h5path) : path_(path) {
  check_readable(path);
  const auto guard = hdf5::lock();
  const std::string where = "hdf5 file '" + path + "'";
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InvalidArgument(where + ": not an HDF5 file");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  // It is readable and has the signature: HDF5 refusing it means the file is
  // damaged (typically truncated), bad input like a garbled file.
  if (file_ < 0) throw InvalidArgument(where + ": damaged or truncated (HDF5 cannot open it)");
  h5path_ = h5path;
  if (h5path_.empty()) {
    std::vector<std::string> found;
    H5Ovisit2(file_, H5_INDEX_NAME, H5_ITER_NATIVE, collect_dataset, &found, H5O_INFO_BASIC);
    if (found.size() != 1) {
      std::string list;
      for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
      H5Fclose(file_);
      file_ = -1;
      throw InvalidArgument(where + " holds " + std::to_string(found.size()) +
                            " datasets; choose one with --h5path" +
                            (list.empty() ? "" : " (" + list + ")"));
    }
    h5path_ = found[0];
  }
  htri_t exists = H5Lexists(file_, "/", H5P_DEFAULT);
  // Check every link on the way so a missing group is a NotFound too.
  std::string prefix;
  std::size_t pos = h5path_[0] == '/' ? 1 : 0;
  while (exists > 0 && pos <= h5path_.size()) {
    auto slash = h5path_.find('/', pos);
    if (slash == std::string::npos) slash = h5path_.size();
    prefix = h5path_.substr(0, slash);
    if (!prefix.empty() && prefix != "/") exists = H5Lexists(file_, prefix.c_str(), H5P_DEFAULT);
    pos = slash + 1;
  }
  if (exists <= 0) {
    H5Fclose(file_);
    file_ = -1;
    throw NotFound(where + ": no dataset '" + h5path_ + "'");
  }
  dataset_ = H5Dopen2(file_, h5path_.c_str(), H5P_DEFAULT);
  if (dataset_ < 0) {
    H5Fclose(file_);
    file_ = -1;
    throw InvalidArgument(where + ": '" + h5path_ + "' is not a dataset");
  }
  hid_t ftype = H5Dget_type(dataset_);
  const auto dt = hdf5::dtype_of(ftype);
  H5Tclose(ftype);
  hid_t space = H5Dget_space(dataset_);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, d.data(), nullptr);
  H5Sclose(space);
  if (!dt) {
    H5Dclose(dataset_);
    H5Fclose(file_);
    dataset_ = file_ = -1;
    throw InvalidArgument(where + ": dataset '" + h5path_ +
                          "' has a type DosNa does not store (numeric types only)");
  }
  dtype_ = *dt;
  shape_.assign(d.begin(), d.end());
  mem_type_ = hdf5::file_type(dtype_).release();
}

H5Reader::~H5Reader() {
  const auto guard = hdf5::lock();
  if (mem_type_ >= 0) H5Tclose(mem_type_);
  if (dataset_ >= 0) H5Dclose(dataset_);
  if (file_ >= 0) H5Fclose(file_);
}

void H5Reader::read(const Shape& start, const Shape& count, std::byte* out) {
  const auto guard = hdf5::lock();
  const herr_t rc = transfer_box(dataset_, start, count, [&](hid_t mspace, hid_t fspace) {
    return H5Dread(dataset_, mem_type_, mspace, fspace, H5P_DEFAULT, out);
  });
  if (rc < 0) throw IoError("hdf5 file '" + path_ + "': reading dataset '" + h5path_ + "' failed");
}

H5Writer::H5Writer(const std::string& path, const std::string& h5path, DType dtype,
                   const Shape& shape, bool overwrite)
    : path_(path), h5path_(h5path) {
  const std::string where = "hdf5 file '" + path + "'";
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  {
    // Create or open the file first as a plain file, so errno names the cause.
    if (!exists) {
      FILE* f = std::fopen(path.c_str(), "wb");
      if (!f) throw_errno(errno, where);
      std::fclose(f);
      ::unlink(path.c_str());
    } else if (::access(path.c_str(), W_OK) != 0) {
      throw_errno(errno, where);
    }
  }
  const auto guard = hdf5::lock();
  if (exists) {
    if (H5Fis_hdf5(path.c_str()) <= 0)
      throw InvalidArgument(where + " exists and is not an HDF5 file");
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  } else {
    file_ = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  }
  if (file_ < 0) throw IoError(where + ": cannot be opened for writing");
  if (H5Lexists(file_, h5path_.c_str(), H5P_DEFAULT) > 0) {
    if (!overwrite) {
      H5Fclose(file_);
      file_ = -1;
      throw AlreadyExists(where + ": dataset '" + h5path_ + "' exists (use --force)");
    }
    H5Ldelete(file_, h5path_.c_str(), H5P_DEFAULT);
  }
  mem_type_ = hdf5::file_type(dtype).release();
  const auto d = dims(shape);
  hid_t space = shape.empty() ? H5Screate(H5S_SCALAR)
                              : H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  dataset_ = H5Dcreate2(file_, h5path_.c_str(), mem_type_, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  H5Sclose(space);
  if (dataset_ < 0) {
    H5Tclose(mem_type_);
    H5Fclose(file_);
    mem_type_ = file_ = -1;
    throw IoError(where + ": cannot create dataset '" + h5path_ + "'");
  }
}

H5Writer::~H5Writer() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw
  }
}

void H5Writer::write(const Shape& start, const Shape& count, const std::byte* data) {
  const auto guard = hdf5::lock();
  const herr_t rc = transfer_box(dataset_, start, count, [&](hid_t mspace, hid_t fspace) {
    return H5Dwrite(dataset_, mem_type_, mspace, fspace, H5P_DEFAULT, data);
  });
  if (rc < 0) throw IoError("hdf5 file '" + path_ + "': writing dataset '" + h5path_ + "' failed");
}

void H5Writer::close() {
  const auto guard = hdf5::lock();
  bool ok = true;
  if (mem_type_ >= 0) H5Tclose(mem_type_);
  if (dataset_ >= 0) ok &= H5Dclose(dataset_) >= 0;
  if (file_ >= 0) ok &= H5Fclose(file_) >= 0;
  mem_type_ = dataset_ = file_ = -1;
  if (!ok) throw IoError("hdf5 file '" + path_ + "': closing failed");
}

}  // namespace dosna::cli
