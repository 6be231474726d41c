#include "backends/hdf5/metadata_file.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <complex>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/hdf5/chunk_file.h"
#include "backends/hdf5/h5_util.h"
#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna::hdf5 {
namespace {

std::string where(std::string_view dataset, std::string_view field) {
  return "hdf5 backend: dataset " + quote(dataset) + " field '" + std::string(field) + "'";
}

void write_ints(hid_t root, const char* field, const Shape& values, std::string_view dataset) {
  const hsize_t n = values.size();
  Handle space = own(H5Screate_simple(1, &n, nullptr), H5Sclose, where(dataset, field));
  Handle attr = own(H5Acreate2(root, field, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    H5Aclose, where(dataset, field));
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data()), where(dataset, field));
}

void write_string(hid_t root, const char* field, const std::string& value,
                  std::string_view dataset) {
  Handle type = own(H5Tcopy(H5T_C_S1), H5Tclose, where(dataset, field));
  check(H5Tset_size(type.get(), H5T_VARIABLE), where(dataset, field));
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where(dataset, field));
  Handle space = own(H5Screate(H5S_SCALAR), H5Sclose, where(dataset, field));
  Handle attr = own(H5Acreate2(root, field, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    H5Aclose, where(dataset, field));
  const char* text = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &text), where(dataset, field));
}

Handle open_attr(hid_t root, const char* field, std::string_view dataset) {
  const htri_t exists = H5Aexists(root, field);
  if (exists <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(where(dataset, field) + " is missing");
  }
  return own(H5Aopen(root, field, H5P_DEFAULT), H5Aclose, where(dataset, field));
}

hssize_t point_count(hid_t attr, const std::string& context) {
  Handle space = own(H5Aget_space(attr), H5Sclose, context);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) check(-1, context);
  return n;
}

Shape read_ints(hid_t attr, std::string_view dataset, std::string_view field) {
  const std::string context = where(dataset, field);
  Handle type = own(H5Aget_type(attr), H5Tclose, context);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw IoError(context + " is not an integer array");
  }
  const hssize_t n = point_count(attr, context);
  if (n > static_cast<hssize_t>(kMaxRank)) {
    throw IoError(context + " holds " + std::to_string(n) + " values (a dataset has at most " +
                  std::to_string(kMaxRank) + " dimensions)");
  }
  Shape values(static_cast<std::size_t>(n));
  check(H5Aread(attr, H5T_NATIVE_INT64, values.data()), context);
  return values;
}

std::string read_string(hid_t attr, std::string_view dataset, std::string_view field) {
  const std::string context = where(dataset, field);
  Handle type = own(H5Aget_type(attr), H5Tclose, context);
  if (H5Tget_class(type.get()) != H5T_STRING || point_count(attr, context) != 1) {
    throw IoError(context + " is not a string");
  }
  Handle mem = own(H5Tcopy(H5T_C_S1), H5Tclose, context);
  check(H5Tset_cset(mem.get(), H5Tget_cset(type.get())), context);
  std::string out;
  if (H5Tis_variable_str(type.get()) > 0) {
    check(H5Tset_size(mem.get(), H5T_VARIABLE), context);
    char* text = nullptr;
    check(H5Aread(attr, mem.get(), &text), context);
    if (text != nullptr) {
      out = text;
      H5free_memory(text);
    }
  } else {
    const std::size_t size = H5Tget_size(type.get());
    if (size == 0 || size > kMaxRecordBytes) throw IoError(context + " is not a string");
    check(H5Tset_size(mem.get(), size + 1), context);
    check(H5Tset_strpad(mem.get(), H5T_STR_NULLTERM), context);
    std::vector<char> text(size + 1, '\0');
    check(H5Aread(attr, mem.get(), text.data()), context);
    out.assign(text.data());
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

// h5py stores numpy scalars with their own HDF5 type: integers, floats, the
// bool enum and the complex compound. Read whichever was written.
Scalar read_fillvalue(hid_t attr, DType dtype, std::string_view dataset) {
  const std::string context = where(dataset, "fillvalue");
  if (point_count(attr, context) != 1) throw IoError(context + " is not a scalar");
  Handle type = own(H5Aget_type(attr), H5Tclose, context);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
        std::uint64_t v = 0;
        check(H5Aread(attr, H5T_NATIVE_UINT64, &v), context);
        if (dtype.kind() == DTypeKind::kBool) return Scalar(v != 0);
        return Scalar(v);
      }
      std::int64_t v = 0;
      check(H5Aread(attr, H5T_NATIVE_INT64, &v), context);
      if (dtype.kind() == DTypeKind::kBool) return Scalar(v != 0);
      return Scalar(v);
    }
    case H5T_FLOAT: {
      double v = 0;
      check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), context);
      return Scalar(v);
    }
    case H5T_ENUM: {
      // h5py's bool: an int8 enum {FALSE, TRUE}. Read the raw base integer.
      Handle native = own(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose, context);
      const std::size_t size = H5Tget_size(native.get());
      if (size > 8) throw IoError(context + " has an unsupported enum size");
      std::array<unsigned char, 8> raw{};
      check(H5Aread(attr, native.get(), raw.data()), context);
      bool nonzero = false;
      for (std::size_t i = 0; i < size; ++i) nonzero = nonzero || raw[i] != 0;
      return Scalar(nonzero);
    }
    case H5T_COMPOUND: {
      Handle mem = own(H5Tcreate(H5T_COMPOUND, sizeof(double) * 2), H5Tclose, context);
      check(H5Tinsert(mem.get(), "r", 0, H5T_NATIVE_DOUBLE), context);
      check(H5Tinsert(mem.get(), "i", sizeof(double), H5T_NATIVE_DOUBLE), context);
      std::array<double, 2> v{};
      check(H5Aread(attr, mem.get(), v.data()), context);
      return Scalar(std::complex<double>(v[0], v[1]));
    }
    default:
      throw IoError(context + " has an unsupported HDF5 type");
  }
}

}  // namespace

std::vector<std::byte> metadata_image(const DatasetMeta& meta, std::string_view dataset) {
  static std::atomic<unsigned long> serial{0};
  const std::string context = "hdf5 backend: dataset " + quote(dataset) +
                              ": cannot build its dataset.h5";
  auto guard = lock();
  // The core driver keeps the file in memory; the name only has to be unique
  // among the files this process has open.
  Handle file = create_in_memory("dosna-record-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(serial++) + ".h5",
                                 context);
  std::vector<std::byte> image;
  {
    Handle root = own(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, context);
    write_ints(root.get(), "shape", meta.shape, dataset);
    write_string(root.get(), "dtype", meta.dtype.str(), dataset);
    Handle type = file_type(meta.dtype);
    Handle space = own(H5Screate(H5S_SCALAR), H5Sclose, context);
    Handle attr = own(H5Acreate2(root.get(), "fillvalue", type.get(), space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT),
                      H5Aclose, where(dataset, "fillvalue"));
    std::vector<std::byte> bytes(meta.dtype.itemsize());
    meta.fillvalue.store(meta.dtype, bytes.data());
    check(H5Awrite(attr.get(), type.get(), bytes.data()), where(dataset, "fillvalue"));
    write_ints(root.get(), "chunk_grid", meta.chunk_grid(), dataset);
    write_ints(root.get(), "chunk_size", meta.chunk_size, dataset);
  }
  image = file_image(file.get(), context);
  check(H5Fclose(file.release()), context);
  return image;
}

DatasetMeta parse_metadata_image(std::span<const std::byte> image, std::string_view dataset,
                                 const std::string& path) {
  static std::atomic<unsigned long> serial{0};
  const std::string context = "hdf5 backend: dataset " + quote(dataset) + ": cannot read " + path;
  if (image.empty()) throw IoError(context + ": the file is empty");
  if (image.size() > kMaxRecordBytes)
    throw IoError(context + ": the file has " + std::to_string(image.size()) +
                  " bytes, more than any dataset record (" + std::to_string(kMaxRecordBytes) +
                  ")");
  DatasetMeta meta;
  Shape grid;
  {
    auto guard = lock();
    Handle fapl = own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, context);
    check(H5Pset_fapl_core(fapl.get(), 64 << 10, false), context);
    check(H5Pset_file_image(fapl.get(), const_cast<std::byte*>(image.data()), image.size()),
          context);
    const std::string name = "dosna-record-image-" + std::to_string(::getpid()) + "-" +
                             std::to_string(serial++) + ".h5";
    Handle file = own(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, context);
    Handle root = own(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose, context);
    meta.shape = read_ints(open_attr(root.get(), "shape", dataset).get(), dataset, "shape");
    const std::string dtype_text =
        read_string(open_attr(root.get(), "dtype", dataset).get(), dataset, "dtype");
    try {
      meta.dtype = DType::parse(dtype_text);
    } catch (const InvalidArgument&) {
      throw IoError(where(dataset, "dtype") + " holds an unsupported dtype " + quote(dtype_text));
    }
    meta.fillvalue =
        read_fillvalue(open_attr(root.get(), "fillvalue", dataset).get(), meta.dtype, dataset);
    meta.chunk_size =
        read_ints(open_attr(root.get(), "chunk_size", dataset).get(), dataset, "chunk_size");
    const char* grid_field = H5Aexists(root.get(), "chunk_grid") > 0 ? "chunk_grid" : "chunks";
    H5Eclear2(H5E_DEFAULT);
    grid = read_ints(open_attr(root.get(), grid_field, dataset).get(), dataset, "chunk_grid");
  }
  try {
    meta.validate(dataset);
  } catch (const InvalidArgument& e) {
    throw IoError(std::string("hdf5 backend: corrupt record: ") + e.what());
  }
  if (grid != meta.chunk_grid()) {
    throw IoError(where(dataset, "chunk_grid") + " does not equal ceil(shape / chunk_size)");
  }
  return meta;
}

}  // namespace dosna::hdf5
