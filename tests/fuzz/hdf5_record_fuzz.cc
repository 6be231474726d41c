// The hdf5 backend's record parser (hdf5::parse_metadata_image, the reading
// of dataset.h5's root attributes). The input describes up to eight root
// attributes, which are written with the HDF5 library into an in-memory file;
// the parser then reads that file's image as it reads a dataset.h5. This
// fuzzes how DosNa interprets attributes of any name, HDF5 type, dataspace
// and value (what h5py or another writer could store), not the HDF5
// library's own decoding of damaged files.
//
// Per attribute, bytes: name (selects shape, dtype, fillvalue, chunk_grid,
// chunk_size, chunks or another name), type (integers of 1-8 bytes signed or
// not, float32/64, fixed or variable strings, the bool enum, the complex
// compound, an array type, opaque), dataspace (scalar, null, or 1-d with a
// count byte), then the value bytes (the rest of the input, reused).
#include <hdf5.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/hdf5/h5_util.h"
#include "backends/hdf5/metadata_file.h"
#include "fuzz/fuzz_util.h"

namespace {

using dosna::hdf5::Handle;

struct Reader {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
  std::uint8_t byte() { return pos < size ? data[pos++] : 0; }
};

hid_t make_type(std::uint8_t kind, std::uint8_t extra) {
  switch (kind % 12) {
    case 0: return H5Tcopy(H5T_STD_I64LE);
    case 1: return H5Tcopy(H5T_STD_I32LE);
    case 2: return H5Tcopy(H5T_STD_U8LE);
    case 3: return H5Tcopy(H5T_STD_I16BE);
    case 4: return H5Tcopy(H5T_IEEE_F64LE);
    case 5: return H5Tcopy(H5T_IEEE_F32BE);
    case 6: {  // fixed-length string
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, 1 + extra % 16);
      return t;
    }
    case 7: {  // variable-length string
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, H5T_VARIABLE);
      if (extra & 1) H5Tset_cset(t, H5T_CSET_UTF8);
      return t;
    }
    case 8: {  // h5py's bool, or another enum
      hid_t t = H5Tenum_create(extra & 1 ? H5T_STD_I8LE : H5T_STD_I32LE);
      const int no = 0, yes = 1;
      std::int8_t no8 = 0, yes8 = 1;
      if (extra & 1) {
        H5Tenum_insert(t, "FALSE", &no8);
        H5Tenum_insert(t, "TRUE", &yes8);
      } else {
        H5Tenum_insert(t, "FALSE", &no);
        H5Tenum_insert(t, "TRUE", &yes);
      }
      return t;
    }
    case 9: {  // complex as h5py writes it, or a compound with other names
      const hid_t part = extra & 1 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
      const std::size_t n = H5Tget_size(part);
      hid_t t = H5Tcreate(H5T_COMPOUND, 2 * n);
      H5Tinsert(t, extra & 2 ? "x" : "r", 0, part);
      H5Tinsert(t, "i", n, part);
      return t;
    }
    case 10: {  // an array of 2 int64
      const hsize_t dims[1] = {2};
      return H5Tarray_create2(H5T_STD_I64LE, 1, dims);
    }
    default: {
      hid_t t = H5Tcreate(H5T_OPAQUE, 1 + extra % 8);
      H5Tset_tag(t, "fuzz");
      return t;
    }
  }
}

const char* kNames[] = {"shape", "dtype", "fillvalue", "chunk_grid", "chunk_size", "chunks",
                        "other"};

// The image of a file with the attributes the input describes; empty if the
// library refused to write them.
std::vector<std::byte> build(const std::uint8_t* data, std::size_t size) {
  static unsigned long serial = 0;
  auto guard = dosna::hdf5::lock();
  Reader in{data, size};
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(fapl.get(), 64 << 10, false);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_LATEST);
  const std::string name = "fuzz-record-" + std::to_string(serial++) + ".h5";
  Handle file(H5Fcreate(name.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file.valid()) return {};
  const int count = 1 + in.byte() % 8;
  for (int a = 0; a < count && in.pos < in.size; ++a) {
    const char* attr_name = kNames[in.byte() % 7];
    if (H5Aexists(file.get(), attr_name) > 0) continue;
    const std::uint8_t kind = in.byte(), extra = in.byte(), space_kind = in.byte();
    Handle type(make_type(kind, extra), H5Tclose);
    if (!type.valid()) continue;
    hsize_t n = 1;
    Handle space;
    if (space_kind % 8 == 0) {
      space = Handle(H5Screate(H5S_SCALAR), H5Sclose);
    } else if (space_kind % 8 == 1) {
      space = Handle(H5Screate(H5S_NULL), H5Sclose);
      n = 0;
    } else {
      n = in.byte() % 48;
      space = Handle(H5Screate_simple(1, &n, nullptr), H5Sclose);
    }
    Handle attr(H5Acreate2(file.get(), attr_name, type.get(), space.get(), H5P_DEFAULT,
                           H5P_DEFAULT),
                H5Aclose);
    if (!attr.valid() || n == 0) continue;
    if (H5Tis_variable_str(type.get()) > 0) {
      std::vector<std::string> texts(n);
      std::vector<const char*> pointers(n);
      for (hsize_t i = 0; i < n; ++i) {
        const std::size_t len = in.byte() % 12;
        for (std::size_t k = 0; k < len; ++k) texts[i] += static_cast<char>(in.byte());
        pointers[i] = texts[i].c_str();
      }
      H5Awrite(attr.get(), type.get(), pointers.data());
    } else {
      std::vector<std::uint8_t> bytes(H5Tget_size(type.get()) * n);
      for (auto& b : bytes) b = in.byte();
      H5Awrite(attr.get(), type.get(), bytes.data());
    }
  }
  H5Eclear2(H5E_DEFAULT);
  if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) return {};
  const ssize_t image_size = H5Fget_file_image(file.get(), nullptr, 0);
  if (image_size <= 0) return {};
  std::vector<std::byte> image(static_cast<std::size_t>(image_size));
  if (H5Fget_file_image(file.get(), image.data(), image.size()) < 0) return {};
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::byte> image = build(data, size);
  if (image.empty()) return 0;
  dosna::fuzz::typed_errors_only([&] {
    const dosna::DatasetMeta meta = dosna::hdf5::parse_metadata_image(image, "fuzz", "fuzz.h5");
    // An accepted record is valid and its chunk size computable.
    meta.validate("fuzz");
    (void)meta.chunk_nbytes();
    // And it round-trips through the writer.
    const dosna::DatasetMeta again = dosna::hdf5::parse_metadata_image(
        dosna::hdf5::metadata_image(meta, "fuzz"), "fuzz", "fuzz.h5");
    if (again.shape != meta.shape || again.chunk_size != meta.chunk_size ||
        !(again.dtype == meta.dtype))
      __builtin_trap();
  });
  return 0;
}
