#include "result_file.h"

#include <hdf5.h>

#include <filesystem>
#include <functional>

#include "dosna/errors.h"

namespace dosna::conv {
namespace {

// Closes an HDF5 handle on scope exit.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Silences HDF5's error stack printing while alive (errors become exceptions).
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + ")";
}

// Shape of dataset `key` in an open file; empty optional-like result via ok.
bool existing_shape(hid_t file, const std::string& key, std::vector<hsize_t>& dims) {
  if (H5Lexists(file, key.substr(0, key.find('/')).c_str(), H5P_DEFAULT) <= 0) return false;
  if (H5Lexists(file, key.c_str(), H5P_DEFAULT) <= 0) return false;
  Handle ds(H5Dopen2(file, key.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) throw IoError("result file: cannot open dataset '" + key + "'");
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  const int nd = H5Sget_simple_extent_ndims(space.get());
  dims.assign(static_cast<std::size_t>(std::max(nd, 0)), 0);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return true;
}

void check_shape(const std::string& path, const std::string& key, const std::vector<hsize_t>& have,
                 const std::vector<hsize_t>& want) {
  if (have != want)
    throw InvalidArgument("result file " + path + ": dataset '" + key + "' has shape " +
                          shape_text(have) + " but this run needs " + shape_text(want) +
                          " (use another --out or the same sizes, chunk sizes and ntest)");
}

void set_attr(hid_t obj, const char* name, hid_t type, hid_t space, const void* data) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  Handle attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok() || H5Awrite(attr.get(), type, data) < 0)
    throw IoError(std::string("result file: cannot write attribute ") + name);
}

hid_t vlen_utf8() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

void set_string_attr(hid_t obj, const char* name, const std::string& value) {
  Handle type(vlen_utf8(), H5Tclose);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* p = value.c_str();
  set_attr(obj, name, type.get(), space.get(), &p);
}

void set_strings_attr(hid_t obj, const char* name, const std::vector<std::string>& values) {
  Handle type(vlen_utf8(), H5Tclose);
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  set_attr(obj, name, type.get(), space.get(), p.data());
}

void set_ints_attr(hid_t obj, const char* name, const std::vector<std::int64_t>& values) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  set_attr(obj, name, H5T_NATIVE_INT64, space.get(), values.data());
}

std::vector<hsize_t> to_hsize(const std::vector<std::uint64_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

std::vector<std::uint64_t> ResultLayout::dims() const {
  return {sizes.size(), chunks.size(), tests.size(), static_cast<std::uint64_t>(ntest)};
}

void check_result_file(const std::string& path, const std::string& key, const ResultLayout& layout) {
  if (!std::filesystem::exists(path)) return;
  const QuietErrors quiet;
  {
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) throw IoError("result file " + path + " exists but is not a readable HDF5 file");
    std::vector<hsize_t> have;
    if (existing_shape(file.get(), key, have)) check_shape(path, key, have, to_hsize(layout.dims()));
  }
}

void write_result_file(const std::string& path, const std::string& key, const ResultLayout& layout,
                       const std::vector<float>& values) {
  const auto want = to_hsize(layout.dims());
  const QuietErrors quiet;
  {
    const bool exists = std::filesystem::exists(path);
    Handle file(exists ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                       : H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT),
                H5Fclose);
    if (!file.ok()) throw IoError("result file " + path + ": cannot open for writing");
    std::vector<hsize_t> have;
    hid_t ds_id;
    if (existing_shape(file.get(), key, have)) {
      check_shape(path, key, have, want);
      ds_id = H5Dopen2(file.get(), key.c_str(), H5P_DEFAULT);
    } else {
      Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
      H5Pset_create_intermediate_group(lcpl.get(), 1);
      Handle space(H5Screate_simple(static_cast<int>(want.size()), want.data(), nullptr), H5Sclose);
      ds_id = H5Dcreate2(file.get(), key.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(),
                         H5P_DEFAULT, H5P_DEFAULT);
    }
    Handle ds(ds_id, H5Dclose);
    if (!ds.ok() || H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
      throw IoError("result file " + path + ": cannot write dataset '" + key + "'");
    set_string_attr(ds.get(), "axis0_label", "Data Size");
    set_string_attr(ds.get(), "axis1_label", "Chunk Size");
    set_string_attr(ds.get(), "axis2_label", "Tests");
    set_string_attr(ds.get(), "axis3_label", "# Tests");
    set_ints_attr(ds.get(), "axis0_value", layout.sizes);
    set_ints_attr(ds.get(), "axis1_value", layout.chunks);
    set_strings_attr(ds.get(), "axis2_value", layout.tests);
    std::vector<std::int64_t> idx;
    for (std::int64_t i = 0; i < layout.ntest; ++i) idx.push_back(i);
    set_ints_attr(ds.get(), "axis3_value", idx);
    H5Fflush(file.get(), H5F_SCOPE_GLOBAL);
  }
}

}  // namespace dosna::conv
