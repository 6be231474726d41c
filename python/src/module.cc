// _dosna: the pybind11 binding of the DosNa C++ library. The `dosna` Python
// package (python/dosna/) re-exports these types and adds the module-level
// selection functions (use, status, compatible) and the Connection wrapper.
//
// numpy arrays cross the boundary without extra copies: a read allocates the
// result array and the core fills its buffer; a write hands the core the
// caller's buffer with its byte strides (0 = broadcast). Only a dtype that
// differs from the dataset's is converted (once, by numpy). The GIL is
// released around every storage operation and re-acquired inside the
// per-chunk callbacks of map/apply.
#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL dosna_python_ARRAY_API
#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <complex>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dosna/dosna.h"

namespace py = pybind11;

namespace {

using dosna::DType;
using dosna::DTypeKind;
using dosna::Shape;

// ---------------------------------------------------------------- exceptions

// One Python class per row of the error-kind table (dosna/error_kinds.h),
// indexed by ErrorKind. Module-lifetime class objects; never released.
std::vector<PyObject*> g_exc;

PyObject* make_exception(py::module_& m, const char* name, std::vector<PyObject*> bases,
                         const char* doc, bool plain_str) {
  py::tuple base_tuple(bases.size());
  for (std::size_t i = 0; i < bases.size(); ++i)
    base_tuple[i] = py::reinterpret_borrow<py::object>(bases[i]);
  py::dict ns;
  ns["__module__"] = "dosna";
  ns["__doc__"] = doc;
  // KeyError's str() quotes its message; ours reads like the others.
  if (plain_str) ns["__str__"] = py::module_::import("builtins").attr("Exception").attr("__str__");
  py::object type = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type));
  py::object cls = type(name, base_tuple, ns);
  m.attr(name) = cls;
  return cls.release().ptr();
}

// Raises the Python form of `e`; IoError also gets .code (and .errno when
// the code is non-zero).
void set_python_error(const dosna::Error& e) {
  PyObject* cls = g_exc[static_cast<std::size_t>(dosna::error_kind_info(e.kind()).kind)];
  const auto* io = dynamic_cast<const dosna::IoError*>(&e);
  if (io == nullptr) {
    PyErr_SetString(cls, e.what());
    return;
  }
  PyObject* exc = PyObject_CallFunction(cls, "s", e.what());
  if (exc == nullptr) return;
  PyObject* code = PyLong_FromLong(io->code());
  PyObject_SetAttrString(exc, "code", code);
  if (io->code() != 0) PyObject_SetAttrString(exc, "errno", code);
  Py_DECREF(code);
  PyErr_SetObject(cls, exc);
  Py_DECREF(exc);
}

void register_exceptions(py::module_& m) {
  const auto kinds = dosna::error_kinds();
  py::module_ builtins = py::module_::import("builtins");
  std::vector<bool> plain_str(kinds.size(), false);
  g_exc.assign(kinds.size(), nullptr);
  for (const auto& row : kinds) {
    const auto i = static_cast<std::size_t>(row.kind);
    const auto parent = static_cast<std::size_t>(row.parent);
    std::vector<PyObject*> bases;
    if (i != parent) bases.push_back(g_exc[parent]);
    if (!row.python_base.empty())
      bases.push_back(builtins.attr(std::string(row.python_base).c_str()).ptr());
    plain_str[i] = row.python_base == "KeyError" || (i != parent && plain_str[parent]);
    g_exc[i] = make_exception(m, std::string(row.python_class).c_str(), bases,
                              std::string(row.doc).c_str(), plain_str[i]);
  }

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const dosna::Error& e) {
      set_python_error(e);
    }
  });

  // Test hooks: the table's rows, and raising any kind by name.
  m.def("_error_kinds", [] {
    py::list rows;
    for (const auto& row : dosna::error_kinds())
      rows.append(py::make_tuple(std::string(row.name), std::string(row.python_class),
                                 row.exit_code));
    return rows;
  });
  m.def(
      "_raise_error",
      [](const std::string& name, const std::string& message, int io_code) {
        for (const auto& row : dosna::error_kinds())
          if (row.name == name) dosna::throw_error(row.kind, message, io_code);
        throw dosna::InvalidArgument("_raise_error: no error kind named '" + name + "'");
      },
      py::arg("name"), py::arg("message"), py::arg("io_code") = 0);
}

// dosna::warn() becomes a Python warning of class DosnaWarning (a
// UserWarning), shown once per call site by Python's default filter.
PyObject* g_warning = nullptr;  // module lifetime, never released

void register_warnings(py::module_& m) {
  py::dict ns;
  ns["__module__"] = "dosna";
  ns["__doc__"] = "A condition the user must hear of, e.g. TLS verification switched off.";
  py::object type = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type));
  py::object cls = type("DosnaWarning",
                        py::make_tuple(py::reinterpret_borrow<py::object>(PyExc_UserWarning)), ns);
  m.attr("DosnaWarning") = cls;
  g_warning = cls.release().ptr();
  dosna::set_warning_handler([](const std::string& message) {
    if (!Py_IsInitialized()) {
      std::fprintf(stderr, "dosna: warning: %s\n", message.c_str());
      return;
    }
    py::gil_scoped_acquire gil;
    PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
    PyErr_Fetch(&type, &value, &trace);  // an exception on its way up stays intact
    // A filter that turns warnings into errors cannot raise through C++.
    if (PyErr_WarnEx(g_warning, message.c_str(), 1) < 0) PyErr_WriteUnraisable(g_warning);
    PyErr_Restore(type, value, trace);
  });
}

[[noreturn]] void raise_index_error(const std::string& message) {
  PyErr_SetString(PyExc_IndexError, message.c_str());
  throw py::error_already_set();
}

[[noreturn]] void raise_value_error(const std::string& message) {
  PyErr_SetString(PyExc_ValueError, message.c_str());
  throw py::error_already_set();
}

[[noreturn]] void raise_type_error(const std::string& message) {
  PyErr_SetString(PyExc_TypeError, message.c_str());
  throw py::error_already_set();
}

// -------------------------------------------------------------------- dtypes

int typenum_of(DType dt) {
  const std::size_t n = dt.itemsize();
  switch (dt.kind()) {
    case DTypeKind::kBool:
      return NPY_BOOL;
    case DTypeKind::kInt:
      return n == 1 ? NPY_INT8 : n == 2 ? NPY_INT16 : n == 4 ? NPY_INT32 : NPY_INT64;
    case DTypeKind::kUInt:
      return n == 1 ? NPY_UINT8 : n == 2 ? NPY_UINT16 : n == 4 ? NPY_UINT32 : NPY_UINT64;
    case DTypeKind::kFloat:
      return n == 4 ? NPY_FLOAT32 : NPY_FLOAT64;
    case DTypeKind::kComplex:
      return n == 8 ? NPY_COMPLEX64 : NPY_COMPLEX128;
  }
  return NPY_FLOAT32;
}

// A new reference to the numpy descriptor of `dt`.
py::object descr_of(DType dt) {
  return py::reinterpret_steal<py::object>(
      reinterpret_cast<PyObject*>(PyArray_DescrFromType(typenum_of(dt))));
}

PyArray_Descr* as_descr(const py::object& o) { return reinterpret_cast<PyArray_Descr*>(o.ptr()); }

// Accepts anything np.dtype() accepts and returns the DosNa dtype.
DType dtype_from_python(py::handle spec) {
  PyArray_Descr* descr = nullptr;
  if (!PyArray_DescrConverter(spec.ptr(), &descr)) throw py::error_already_set();
  py::object owner = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(descr));
  // Native byte order: numpy's '=' and '|' both mean "as this machine".
  std::string str = py::str(owner.attr("str"));
  if (!str.empty() && str[0] == '>' && descr->elsize > 1)
    throw dosna::InvalidArgument("dtype " + str + ": big-endian dtypes are not supported");
  return DType::parse(str);
}

// ------------------------------------------------------------------- scalars

dosna::Scalar scalar_from_python(py::handle o) {
  PyObject* p = o.ptr();
  if (PyBool_Check(p) || PyArray_IsScalar(p, Bool)) return dosna::Scalar(PyObject_IsTrue(p) == 1);
  if (PyLong_Check(p) || PyArray_IsScalar(p, Integer)) {
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(p));
    if (!index) throw py::error_already_set();
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(index.ptr());
      if (PyErr_Occurred()) {
        PyErr_Clear();
        raise_value_error("integer " + std::string(py::str(o)) + " is out of range");
      }
      return dosna::Scalar(u);
    }
    if (overflow < 0) raise_value_error("integer " + std::string(py::str(o)) + " is out of range");
    return dosna::Scalar(v);
  }
  if (PyFloat_Check(p) || PyArray_IsScalar(p, Floating)) {
    double v = PyFloat_AsDouble(p);
    if (PyErr_Occurred()) throw py::error_already_set();
    return dosna::Scalar(v);
  }
  if (PyComplex_Check(p) || PyArray_IsScalar(p, ComplexFloating)) {
    Py_complex c = PyComplex_AsCComplex(p);
    if (PyErr_Occurred()) throw py::error_already_set();
    return dosna::Scalar(std::complex<double>(c.real, c.imag));
  }
  if (PyArray_Check(p) && PyArray_NDIM(reinterpret_cast<PyArrayObject*>(p)) == 0)
    return scalar_from_python(o.attr("item")());
  PyErr_Format(PyExc_TypeError, "a number is required as a DosNa scalar, not %s",
               Py_TYPE(p)->tp_name);
  throw py::error_already_set();
}

// A numpy scalar of `dt` holding `value` converted as numpy would.
py::object scalar_to_python(const dosna::Scalar& value, DType dt) {
  alignas(16) std::byte buf[16];
  value.store(dt, buf);
  py::object descr = descr_of(dt);
  PyObject* s = PyArray_Scalar(buf, as_descr(descr), nullptr);
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(s);
}

// -------------------------------------------------------------------- arrays

py::tuple shape_tuple(const Shape& shape) {
  py::tuple t(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}

Shape shape_from_python(py::handle o, const char* what) {
  if (PyLong_Check(o.ptr()) || PyArray_IsScalar(o.ptr(), Integer))
    return {py::cast<std::int64_t>(py::reinterpret_borrow<py::object>(o))};
  Shape shape;
  try {
    for (py::handle item : py::reinterpret_borrow<py::iterable>(o)) {
      py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(item.ptr()));
      if (!index) throw py::error_already_set();
      shape.push_back(py::cast<std::int64_t>(index));
    }
  } catch (py::error_already_set&) {
    raise_value_error(std::string(what) + " must be a tuple of integers, got " +
                      std::string(py::repr(o)));
  } catch (py::cast_error&) {
    raise_value_error(std::string(what) + " must be a tuple of integers, got " +
                      std::string(py::repr(o)));
  }
  return shape;
}

Shape array_shape(PyArrayObject* a) {
  return Shape(PyArray_DIMS(a), PyArray_DIMS(a) + PyArray_NDIM(a));
}

// A numpy array of dtype `descr` for `value`: the same object when it already
// is one (no copy, any strides), else converted once by numpy (unsafe casting,
// as numpy's own assignment does).
py::object as_array(py::handle value, const py::object& descr) {
  PyObject* p = value.ptr();
  if (PyArray_Check(p) &&
      PyArray_EquivTypes(PyArray_DESCR(reinterpret_cast<PyArrayObject*>(p)), as_descr(descr)))
    return py::reinterpret_borrow<py::object>(value);
  Py_INCREF(descr.ptr());  // PyArray_FromAny steals it
  PyObject* a = PyArray_FromAny(p, as_descr(descr), 0, 0, NPY_ARRAY_FORCECAST | NPY_ARRAY_ALIGNED,
                                nullptr);
  if (a == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(a);
}

std::string shape_text(const Shape& s) { return dosna::shape_to_string(s); }

// A view of `arr` broadcast (numpy's rules for assignment) to `target`, with
// the axes listed in `drop` (inserted by np.newaxis, extent 1) removed.
dosna::ArrayView broadcast_view(DType dt, PyArrayObject* arr, const Shape& target,
                                const std::vector<std::size_t>& drop) {
  const int vn = PyArray_NDIM(arr);
  const npy_intp* vdims = PyArray_DIMS(arr);
  const npy_intp* vstrides = PyArray_STRIDES(arr);
  const auto tn = static_cast<int>(target.size());
  auto fail = [&]() {
    raise_value_error("could not broadcast input array from shape " + shape_text(array_shape(arr)) +
                      " into shape " + shape_text(target));
  };
  int lead = vn - tn;  // numpy drops leading axes of extent 1 from the value
  for (int i = 0; i < lead; ++i)
    if (vdims[i] != 1) fail();
  std::vector<std::int64_t> strides(target.size(), 0);
  for (int t = 0; t < tn; ++t) {
    int v = t + lead;
    if (v < 0) continue;
    if (vdims[v] == target[t]) strides[t] = vdims[v] == 1 ? 0 : vstrides[v];
    else if (vdims[v] == 1) strides[t] = 0;
    else fail();
  }
  dosna::ArrayView view{dt, {}, reinterpret_cast<const std::byte*>(PyArray_DATA(arr)), {}};
  view.shape.reserve(target.size());
  view.strides.reserve(target.size());
  std::size_t next_drop = 0;
  for (std::size_t t = 0; t < target.size(); ++t) {
    if (next_drop < drop.size() && drop[next_drop] == t) {
      ++next_drop;
      continue;
    }
    view.shape.push_back(target[t]);
    view.strides.push_back(strides[t]);
  }
  if (view.shape.empty()) view.strides.clear();
  return view;
}

// Hands an NdArray to numpy without copying: the array owns it via a capsule.
py::object ndarray_to_numpy(dosna::NdArray&& array) {
  auto* owned = new dosna::NdArray(std::move(array));
  PyObject* capsule = PyCapsule_New(owned, nullptr, [](PyObject* c) {
    delete static_cast<dosna::NdArray*>(PyCapsule_GetPointer(c, nullptr));
  });
  if (capsule == nullptr) {
    delete owned;
    throw py::error_already_set();
  }
  std::vector<npy_intp> dims(owned->shape().begin(), owned->shape().end());
  py::object descr = descr_of(owned->dtype());
  Py_INCREF(descr.ptr());  // stolen below
  PyObject* a = PyArray_NewFromDescr(&PyArray_Type, as_descr(descr), static_cast<int>(dims.size()),
                                     dims.data(), nullptr, owned->bytes(), NPY_ARRAY_CARRAY,
                                     nullptr);
  if (a == nullptr) {
    Py_DECREF(capsule);
    throw py::error_already_set();
  }
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(a), capsule) < 0) {
    Py_DECREF(a);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(a);
}

// -------------------------------------------------------------------- index

// One Python index expression resolved to a DosNa selection, plus what numpy
// adds on top (np.newaxis positions in the result).
struct ParsedKey {
  dosna::Selection selection;
  std::vector<char> kinds;  // per item: 'i'nt, 's'lice, 'e'llipsis, 'n'ewaxis
  bool has_newaxis = false;
  bool has_ellipsis = false;  // numpy then returns a 0-d array, not a scalar
};

std::optional<std::int64_t> slice_part(PyObject* o) {
  if (o == Py_None) return std::nullopt;
  Py_ssize_t v = PyNumber_AsSsize_t(o, nullptr);  // clamps huge values, as numpy does
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError,
                    "slice indices must be integers or None or have an __index__ method");
    throw py::error_already_set();
  }
  return static_cast<std::int64_t>(v);
}

void parse_item(PyObject* o, std::vector<dosna::IndexItem>& items, ParsedKey& key) {
  if (PyLong_CheckExact(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow != 0) raise_index_error("index " + std::string(py::str(o)) + " is out of bounds");
    items.emplace_back(static_cast<std::int64_t>(v));
    key.kinds.push_back('i');
    return;
  }
  if (PySlice_Check(o)) {
    auto* s = reinterpret_cast<PySliceObject*>(o);
    items.emplace_back(dosna::Slice{slice_part(s->start), slice_part(s->stop), slice_part(s->step)});
    key.kinds.push_back('s');
    return;
  }
  if (o == Py_Ellipsis) {
    items.emplace_back(dosna::ellipsis);
    key.kinds.push_back('e');
    key.has_ellipsis = true;
    return;
  }
  if (o == Py_None) {
    key.kinds.push_back('n');
    key.has_newaxis = true;
    return;
  }
  if (!PyBool_Check(o) && !PyArray_IsScalar(o, Bool) &&
      (PyLong_Check(o) || PyArray_IsScalar(o, Integer) ||
       (PyArray_Check(o) && PyArray_NDIM(reinterpret_cast<PyArrayObject*>(o)) == 0 &&
        PyArray_ISINTEGER(reinterpret_cast<PyArrayObject*>(o))))) {
    py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!index) throw py::error_already_set();
    parse_item(index.ptr(), items, key);
    return;
  }
  raise_index_error(
      "only integers, slices (`:`), ellipsis (`...`) and numpy.newaxis (`None`) are valid "
      "indices: DosNa supports numpy's basic indexing only, got " +
      std::string(Py_TYPE(o)->tp_name));
}

ParsedKey parse_key(py::handle key_obj, std::size_t ndim) {
  ParsedKey key;
  std::vector<dosna::IndexItem> items;
  PyObject* k = key_obj.ptr();
  if (PyTuple_Check(k)) {
    const Py_ssize_t n = PyTuple_GET_SIZE(k);
    items.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) parse_item(PyTuple_GET_ITEM(k, i), items, key);
  } else {
    parse_item(k, items, key);
  }
  std::size_t explicit_axes = 0, ellipses = 0;
  for (char c : key.kinds) {
    if (c == 'i' || c == 's') ++explicit_axes;
    if (c == 'e') ++ellipses;
  }
  if (ellipses > 1) raise_index_error("an index can only have a single ellipsis ('...')");
  if (explicit_axes > ndim)
    raise_index_error("too many indices for dataset: dataset is " + std::to_string(ndim) +
                      "-dimensional, but " + std::to_string(explicit_axes) + " were indexed");
  key.selection = dosna::Selection(std::move(items));
  return key;
}

// numpy's result shape including np.newaxis axes; `newaxes` gets their
// positions in that shape.
Shape shape_with_newaxes(const ParsedKey& key, const dosna::NormalizedSelection& norm,
                         std::vector<std::size_t>& newaxes) {
  const std::size_t ndim = norm.axes.size();
  std::size_t explicit_axes = 0;
  for (char c : key.kinds)
    if (c == 'i' || c == 's') ++explicit_axes;
  Shape out;
  std::size_t d = 0;
  for (char c : key.kinds) {
    if (c == 'i') {
      ++d;
    } else if (c == 's') {
      out.push_back(norm.axes[d++].count);
    } else if (c == 'n') {
      newaxes.push_back(out.size());
      out.push_back(1);
    } else {
      for (std::size_t j = 0; j < ndim - explicit_axes; ++j) out.push_back(norm.axes[d++].count);
    }
  }
  while (d < ndim) out.push_back(norm.axes[d++].count);
  return out;
}

struct Resolved {
  ParsedKey key;
  dosna::NormalizedSelection norm;
  Shape result;  // numpy's result shape (with np.newaxis axes)
  std::vector<std::size_t> newaxes;
};

Resolved resolve(py::handle key_obj, const Shape& shape, const std::string& what) {
  Resolved r;
  r.key = parse_key(key_obj, shape.size());
  r.norm = dosna::normalize(r.key.selection, shape, what);
  if (r.key.has_newaxis) r.result = shape_with_newaxes(r.key, r.norm, r.newaxes);
  else r.result = r.norm.result_shape();
  return r;
}

Resolved resolve_optional(py::handle key_obj, const Shape& shape, const std::string& what) {
  if (key_obj.is_none()) return resolve(py::ellipsis(), shape, what);
  if (PyList_Check(key_obj.ptr()))  // the original passes slices as lists
    return resolve(py::tuple(py::reinterpret_borrow<py::list>(key_obj)), shape, what);
  return resolve(key_obj, shape, what);
}

dosna::ChunkIndex chunk_index_from_python(py::handle o) {
  return shape_from_python(o, "chunk index");
}

// The layout options (include/dosna/format.h) from the keywords
// connection.py passes (only those given; codecs already as JSON text).
dosna::StorageOptions storage_from_python(const py::dict& args, const std::string& what) {
  dosna::StorageOptions storage;
  for (auto [k, v] : args) {
    const std::string key = py::str(k);
    if (key == "format") storage.format = py::str(v);
    else if (key == "compression") storage.compression = std::string(py::str(v));
    else if (key == "compression_level") storage.compression_level = v.cast<int>();
    else if (key == "shard_shape")
      storage.shard_shape = shape_from_python(py::reinterpret_borrow<py::object>(v), "shard_shape");
    else if (key == "codecs") storage.codecs = py::str(v);
    else throw dosna::InvalidArgument(what + ": unknown storage option '" + key + "'");
  }
  return storage;
}

// ------------------------------------------------------------ python objects

struct PyConnection;

struct PyDataset {
  dosna::Dataset ds;
  py::object connection;  // the Python Connection that opened it
  py::object descr;       // cached numpy dtype
  DType dtype;

  PyDataset(dosna::Dataset d, py::object con)
      : ds(std::move(d)), connection(std::move(con)), descr(descr_of(ds.dtype())),
        dtype(ds.dtype()) {}
};

struct PyDataChunk {
  dosna::DataChunk chunk;
  py::object dataset;  // the Python Dataset
  py::object descr;
  DType dtype;
};

// One read prepared under the GIL: the numpy array it fills, or for keys of
// integers only (a numpy scalar result, like numpy) a one-element buffer.
struct PreparedRead {
  py::object array;  // none for a scalar result
  alignas(16) std::byte scalar[16];
  dosna::Selection selection;
  dosna::MutableArrayView view;
};

// Resolves `key` like ds[key] and allocates the result; `what` names the key
// in messages. `out` must not move afterwards (view.data may point into it).
void prepare_read(const PyDataset& self, py::handle key, PreparedRead& out,
                  const std::string& what) {
  Resolved r = resolve(key, self.ds.shape(), what);
  out.selection = std::move(r.key.selection);
  if (r.result.empty() && !r.key.has_ellipsis) {
    out.view = dosna::MutableArrayView{self.dtype, {}, out.scalar, {}};
    return;
  }
  std::vector<npy_intp> dims(r.result.begin(), r.result.end());
  Py_INCREF(self.descr.ptr());  // PyArray_Empty steals it
  PyObject* a = PyArray_Empty(static_cast<int>(dims.size()), dims.data(), as_descr(self.descr), 0);
  if (a == nullptr) throw py::error_already_set();
  out.array = py::reinterpret_steal<py::object>(a);
  auto* data = reinterpret_cast<std::byte*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(a)));
  out.view = dosna::MutableArrayView{self.dtype,
                                     r.key.has_newaxis ? r.norm.result_shape() : r.result, data, {}};
}

// The Python result of a read that was filled.
py::object finish_read(const PyDataset& self, const PreparedRead& r) {
  if (r.array) return r.array;
  PyObject* s = PyArray_Scalar(const_cast<std::byte*>(r.scalar), as_descr(self.descr), nullptr);
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(s);
}

py::object read_dataset(const PyDataset& self, py::handle key) {
  PreparedRead r;
  prepare_read(self, key, r, self.ds.name());
  {
    py::gil_scoped_release nogil;
    self.ds.read(r.selection, r.view);
  }
  return finish_read(self, r);
}

// ds.read_many(keys): [ds[k] for k in keys], read as one batched plan.
py::list read_many_dataset(const PyDataset& self, py::handle keys_obj) {
  if (!PySequence_Check(keys_obj.ptr()) || PyUnicode_Check(keys_obj.ptr()))
    raise_type_error("read_many: expected a sequence of keys (like ds[key] takes), got " +
                     std::string(py::str(py::type::of(keys_obj).attr("__name__"))));
  const py::list keys(py::reinterpret_borrow<py::object>(keys_obj));
  std::vector<PreparedRead> reads(keys.size());
  for (std::size_t i = 0; i < reads.size(); ++i)  // named as Dataset::read_many names them
    prepare_read(self, keys[i], reads[i],
                 self.ds.name() + " (selection " + std::to_string(i) + " of " +
                     std::to_string(reads.size()) + ")");
  std::vector<dosna::Selection> selections;
  std::vector<dosna::MutableArrayView> views;
  selections.reserve(reads.size());
  views.reserve(reads.size());
  for (auto& r : reads) {
    selections.push_back(std::move(r.selection));
    views.push_back(std::move(r.view));
  }
  {
    py::gil_scoped_release nogil;
    self.ds.read_many(selections, views);
  }
  py::list out(reads.size());
  for (std::size_t i = 0; i < reads.size(); ++i) out[i] = finish_read(self, reads[i]);
  return out;
}

void write_dataset(PyDataset& self, py::handle key, py::handle value) {
  Resolved r = resolve_optional(key, self.ds.shape(), self.ds.name());
  py::object arr = as_array(value, self.descr);
  dosna::ArrayView view =
      broadcast_view(self.dtype, reinterpret_cast<PyArrayObject*>(arr.ptr()), r.result, r.newaxes);
  py::gil_scoped_release nogil;
  self.ds.write(r.key.selection, view);
}

// Wraps a Python callable as a ChunkFunction. The callable is borrowed: the
// caller keeps it alive for the duration of map/apply. With halo > 0
// (map_overlap) the result may also be the input shape minus the halo.
dosna::ChunkFunction chunk_function(py::handle fn, std::int64_t halo = 0) {
  return [fn, halo](dosna::NdArray chunk) -> dosna::NdArray {
    py::gil_scoped_acquire gil;
    DType dt = chunk.dtype();
    Shape shape = chunk.shape();
    auto* raw = chunk.bytes();
    py::object arr = ndarray_to_numpy(std::move(chunk));
    py::object ret = fn(arr);
    if (ret.is(arr) && Py_REFCNT(arr.ptr()) == 2) {
      // Returned in place and referenced nowhere else: take the buffer back.
      PyObject* base = PyArray_BASE(reinterpret_cast<PyArrayObject*>(arr.ptr()));
      auto* owned = static_cast<dosna::NdArray*>(PyCapsule_GetPointer(base, nullptr));
      if (owned != nullptr && owned->bytes() == raw) {
        dosna::NdArray out = std::move(*owned);
        // The numpy array still points at the buffer; it dies with `arr` below
        // without touching it (the capsule now holds an empty NdArray).
        return out;
      }
    }
    py::object src = py::reinterpret_steal<py::object>(PyArray_FROM_O(ret.ptr()));
    if (!src) throw py::error_already_set();
    Shape got = array_shape(reinterpret_cast<PyArrayObject*>(src.ptr()));
    if (halo > 0 && got != shape) {
      Shape core = shape;
      for (auto& n : core) n -= 2 * halo;
      if (got == core) shape = core;
    }
    if (got != shape)
      raise_value_error("map/apply: the function returned shape " + shape_text(got) +
                        " for a chunk of shape " + shape_text(shape));
    dosna::NdArray out = dosna::NdArray::uninitialized(dt, shape);
    std::vector<npy_intp> dims(shape.begin(), shape.end());
    py::object descr = descr_of(dt);
    Py_INCREF(descr.ptr());
    py::object dst = py::reinterpret_steal<py::object>(PyArray_NewFromDescr(
        &PyArray_Type, as_descr(descr), static_cast<int>(dims.size()), dims.data(), nullptr,
        out.bytes(), NPY_ARRAY_CARRAY, nullptr));
    if (!dst) throw py::error_already_set();
    if (PyArray_CopyInto(reinterpret_cast<PyArrayObject*>(dst.ptr()),
                         reinterpret_cast<PyArrayObject*>(src.ptr())) < 0)
      throw py::error_already_set();
    return out;
  };
}

py::object chunk_object(const py::object& dataset_obj, dosna::DataChunk chunk) {
  auto& ds = dataset_obj.cast<PyDataset&>();
  return py::cast(PyDataChunk{std::move(chunk), dataset_obj, ds.descr, ds.dtype});
}

struct PyConnection {
  std::unique_ptr<dosna::Connection> con;
  std::string mode;
};

dosna::Options options_from_python(const py::dict& d) {
  dosna::Options out;
  for (auto item : d) out[py::str(item.first)] = py::str(item.second);
  return out;
}

py::object dataset_object(const py::object& con_obj, dosna::Dataset ds) {
  return py::cast(PyDataset(std::move(ds), con_obj));
}

// The seed README uses a Connection without calling connect() first (the
// original's backends connect lazily): dataset operations connect on demand.
dosna::Connection& connected(PyConnection& c) {
  if (!c.con->connected()) c.con->connect();
  return *c.con;
}

PyConnection& con_of(const py::object& o) { return o.cast<PyConnection&>(); }

// mpi rank/size/barrier without mpi4py: the mpi engine's world communicator.
dosna::Engine& world_engine() {
  static std::shared_ptr<dosna::Engine> engine = dosna::make_engine("mpi", {});
  return *engine;
}

}  // namespace

PYBIND11_MODULE(_dosna, m) {
  if (_import_array() < 0) throw py::error_already_set();
  m.doc() = "DosNa C++ core binding; use the `dosna` package.";
  register_exceptions(m);
  register_warnings(m);

  m.def("known_backends", &dosna::known_backends);
  m.def("available_backends", &dosna::available_backends);
  m.def("known_engines", &dosna::known_engines);
  m.def("available_engines", &dosna::available_engines);
  m.def("backend_is_shared", [](const std::string& b) { return dosna::backend_is_shared(b); });
  m.def("parse_store_uri", [](const std::string& uri) {
    auto s = dosna::parse_store_uri(uri);
    return py::make_tuple(s.backend, s.name, s.options);
  }, "(backend, name, options) of a store URI (dosna/store_uri.h).");
  m.def("canonical_engine_name", [](const std::string& n) { return dosna::canonical_engine_name(n); });
  m.def("dtype_str", [](py::handle spec) { return dtype_from_python(spec).str(); },
        "numpy's dtype.str of a dtype DosNa can store; raises for others.");
  m.def("mpi_world_rank", []() { return world_engine().rank(); });
  m.def("mpi_world_size", []() { return world_engine().size(); });
  m.def("mpi_world_barrier", []() {
    py::gil_scoped_release nogil;
    world_engine().barrier();
  });

  py::class_<PyConnection>(m, "Connection", py::dynamic_attr())
      .def(py::init([](const std::string& name, const std::string& backend,
                       const std::string& engine, const py::dict& options,
                       const py::dict& engine_options, const std::string& mode) {
             dosna::ConnectionConfig config;
             config.name = name;
             config.backend = backend;
             config.options = options_from_python(options);
             config.engine = engine;
             config.engine_options = options_from_python(engine_options);
             return PyConnection{std::make_unique<dosna::Connection>(std::move(config)), mode};
           }),
           py::arg("name"), py::arg("backend") = "ram", py::arg("engine") = "cpu",
           py::arg("options") = py::dict(), py::arg("engine_options") = py::dict(),
           py::arg("mode") = "a")
      .def("connect",
           [](PyConnection& c) {
             py::gil_scoped_release nogil;
             c.con->connect();
           })
      .def("disconnect",
           [](PyConnection& c) {
             py::gil_scoped_release nogil;
             c.con->disconnect();
           })
      .def_property_readonly("connected", [](const PyConnection& c) { return c.con->connected(); })
      .def_property_readonly("name", [](const PyConnection& c) { return c.con->name(); })
      .def_property_readonly("mode", [](const PyConnection& c) { return c.mode; })
      .def_property_readonly("uri", [](const PyConnection& c) { return c.con->uri(); })
      .def_property_readonly("backend", [](const PyConnection& c) { return c.con->config().backend; })
      .def_property_readonly("engine", [](const PyConnection& c) { return c.con->config().engine; })
      .def_property_readonly("options", [](const PyConnection& c) { return c.con->config().options; })
      .def_property_readonly("engine_options",
                             [](const PyConnection& c) { return c.con->config().engine_options; })
      .def_property_readonly("mpi_rank", [](const PyConnection& c) { return c.con->mpi_rank(); })
      .def_property_readonly("mpi_size", [](const PyConnection& c) { return c.con->mpi_size(); })
      .def_property_readonly("mpi_is_root", [](const PyConnection& c) { return c.con->mpi_is_root(); })
      .def("mpi_barrier",
           [](PyConnection& c) {
             py::gil_scoped_release nogil;
             c.con->engine().barrier();
           })
      .def("_create_dataset",
           [](py::object self, const std::string& name, py::object shape, py::object dtype,
              py::object fillvalue, py::object data, py::object chunk_size, py::dict storage_args) {
             PyConnection& c = con_of(self);
             const dosna::StorageOptions storage = storage_from_python(storage_args, "create_dataset");
             Shape chunks;
             if (!chunk_size.is_none()) chunks = shape_from_python(chunk_size, "chunk_size");
             dosna::Scalar fill = fillvalue.is_none() ? dosna::Scalar(0) : scalar_from_python(fillvalue);
             if (!data.is_none()) {
               DType dt = dtype_from_python(dtype);
               py::object arr = as_array(data, descr_of(dt));
               auto* a = reinterpret_cast<PyArrayObject*>(arr.ptr());
               Shape dshape = array_shape(a);
               dosna::ArrayView view{dt, dshape, reinterpret_cast<const std::byte*>(PyArray_DATA(a)),
                                     std::vector<std::int64_t>(PyArray_STRIDES(a),
                                                               PyArray_STRIDES(a) + PyArray_NDIM(a))};
               if (dshape.empty()) view.strides.clear();
               std::optional<dosna::Dataset> ds;
               {
                 py::gil_scoped_release nogil;
                 ds.emplace(connected(c).create_dataset(name, view, chunks, fill, storage));
               }
               return dataset_object(self, std::move(*ds));
             }
             Shape s = shape_from_python(shape, "shape");
             DType dt = dtype_from_python(dtype);
             std::optional<dosna::Dataset> ds;
             {
               py::gil_scoped_release nogil;
               ds.emplace(connected(c).create_dataset(name, s, dt, chunks, fill, storage));
             }
             return dataset_object(self, std::move(*ds));
           })
      .def("_copy_dataset",
           [](py::object self, py::object src_obj, const std::string& name, py::object chunk_size,
              py::dict storage_args, py::object max_bytes, py::object progress) {
             PyConnection& c = con_of(self);
             const dosna::Dataset& src = src_obj.cast<PyDataset&>().ds;
             dosna::CopyOptions options;
             options.storage = storage_from_python(storage_args, "copy_dataset");
             if (!chunk_size.is_none()) options.chunk_size = shape_from_python(chunk_size, "chunk_size");
             if (!max_bytes.is_none()) options.max_bytes_in_flight = max_bytes.cast<std::size_t>();
             if (!progress.is_none())
               options.progress = [progress](std::int64_t done, std::int64_t total) {
                 py::gil_scoped_acquire gil;
                 progress(done, total);
               };
             std::optional<dosna::Dataset> ds;
             {
               py::gil_scoped_release nogil;
               ds.emplace(dosna::copy_dataset(src, connected(c), name, options));
             }
             return dataset_object(self, std::move(*ds));
           })
      .def("get_dataset",
           [](py::object self, const std::string& name) {
             PyConnection& c = con_of(self);
             std::optional<dosna::Dataset> ds;
             {
               py::gil_scoped_release nogil;
               ds.emplace(connected(c).get_dataset(name));
             }
             return dataset_object(self, std::move(*ds));
           })
      .def("__getitem__",
           [](py::object self, const std::string& name) {
             PyConnection& c = con_of(self);
             std::optional<dosna::Dataset> ds;
             {
               py::gil_scoped_release nogil;
               ds.emplace(connected(c).get_dataset(name));
             }
             return dataset_object(self, std::move(*ds));
           })
      .def("has_dataset",
           [](PyConnection& c, const std::string& name) {
             py::gil_scoped_release nogil;
             return connected(c).has_dataset(name);
           })
      .def("__contains__",
           [](PyConnection& c, const std::string& name) {
             py::gil_scoped_release nogil;
             return connected(c).has_dataset(name);
           })
      .def("del_dataset",
           [](PyConnection& c, const std::string& name) {
             py::gil_scoped_release nogil;
             connected(c).del_dataset(name);
           })
      .def("list_datasets", [](PyConnection& c) {
        py::gil_scoped_release nogil;
        return connected(c).list_datasets();
      });

  py::class_<PyDataset>(m, "Dataset", py::dynamic_attr())
      .def_property_readonly("name", [](const PyDataset& d) { return d.ds.name(); })
      .def_property_readonly("shape", [](const PyDataset& d) { return shape_tuple(d.ds.shape()); })
      .def_property_readonly("ndim", [](const PyDataset& d) { return d.ds.ndim(); })
      .def_property_readonly("size", [](const PyDataset& d) { return dosna::shape_size(d.ds.shape()); })
      .def_property_readonly("dtype", [](const PyDataset& d) { return d.descr; })
      .def_property_readonly("format", [](const PyDataset& d) { return d.ds.format(); })
      .def_property_readonly("location", [](const PyDataset& d) { return d.ds.location(); })
      .def_property_readonly("fillvalue",
                             [](const PyDataset& d) { return scalar_to_python(d.ds.fillvalue(), d.dtype); })
      .def_property_readonly("chunk_size", [](const PyDataset& d) { return shape_tuple(d.ds.chunk_size()); })
      .def_property_readonly("chunk_grid", [](const PyDataset& d) { return shape_tuple(d.ds.chunk_grid()); })
      .def_property_readonly("total_chunks", [](const PyDataset& d) { return d.ds.total_chunks(); })
      .def_property_readonly("connection", [](const PyDataset& d) { return d.connection; })
      .def_property_readonly("mpi_rank", [](const PyDataset& d) { return d.ds.engine().rank(); })
      .def_property_readonly("mpi_size", [](const PyDataset& d) { return d.ds.engine().size(); })
      .def_property_readonly("mpi_is_root", [](const PyDataset& d) { return d.ds.engine().is_root(); })
      .def("mpi_barrier",
           [](PyDataset& d) {
             py::gil_scoped_release nogil;
             d.ds.engine().barrier();
           })
      .def("__getitem__", &read_dataset)
      .def("read_many", &read_many_dataset, py::arg("keys"))
      .def("__setitem__", &write_dataset)
      .def("__len__",
           [](const PyDataset& d) {
             if (d.ds.ndim() == 0) {
               PyErr_SetString(PyExc_TypeError, "len() of unsized object");
               throw py::error_already_set();
             }
             return d.ds.shape()[0];
           })
      .def("__array__",
           [](const PyDataset& d, py::object dtype) {
             py::object out = read_dataset(d, py::ellipsis());
             if (!dtype.is_none()) return out.attr("astype")(dtype);
             if (!PyArray_Check(out.ptr()))
               out = py::reinterpret_steal<py::object>(PyArray_FROM_O(out.ptr()));
             return out;
           },
           py::arg("dtype") = py::none())
      .def("get_data",
           [](const PyDataset& d, py::object slices) {
             if (slices.is_none()) return read_dataset(d, py::ellipsis());
             if (PyList_Check(slices.ptr()))
               return read_dataset(d, py::tuple(py::reinterpret_borrow<py::list>(slices)));
             return read_dataset(d, slices);
           },
           py::arg("slices") = py::none())
      .def("set_data", [](PyDataset& d, py::object values, py::object slices) { write_dataset(d, slices, values); },
           py::arg("values"), py::arg("slices") = py::none())
      .def("load",
           [](PyDataset& d, py::object data) {
             py::object arr = as_array(data, d.descr);
             auto* a = reinterpret_cast<PyArrayObject*>(arr.ptr());
             Shape s = array_shape(a);
             if (s != d.ds.shape())
               raise_value_error("dataset '" + d.ds.name() + "': load() needs an array of shape " +
                                 shape_text(d.ds.shape()) + ", got " + shape_text(s));
             dosna::ArrayView view{d.dtype, s, reinterpret_cast<const std::byte*>(PyArray_DATA(a)),
                                   std::vector<std::int64_t>(PyArray_STRIDES(a),
                                                             PyArray_STRIDES(a) + PyArray_NDIM(a))};
             if (s.empty()) view.strides.clear();
             py::gil_scoped_release nogil;
             d.ds.load(view);
           })
      .def("clear",
           [](PyDataset& d) {
             py::gil_scoped_release nogil;
             d.ds.clear();
           })
      .def("resize",
           [](PyDataset& d, py::object shape) {
             Shape s = shape_from_python(shape, "shape");
             py::gil_scoped_release nogil;
             d.ds.resize(s);
           },
           py::arg("shape"),
           "Changes the shape (same number of axes). Shrinking deletes the chunks "
           "outside the new shape and sets the cut part of edge chunks to the fill "
           "value; collective under mpi.")
      .def("append",
           [](PyDataset& d, py::object data, std::size_t axis) {
             py::object arr = as_array(data, d.descr);
             auto* a = reinterpret_cast<PyArrayObject*>(arr.ptr());
             Shape s = array_shape(a);
             dosna::ArrayView view{d.dtype, s, reinterpret_cast<const std::byte*>(PyArray_DATA(a)),
                                   std::vector<std::int64_t>(PyArray_STRIDES(a),
                                                             PyArray_STRIDES(a) + PyArray_NDIM(a))};
             py::gil_scoped_release nogil;
             d.ds.append(view, axis);
           },
           py::arg("data"), py::arg("axis") = 0,
           "Grows `axis` by data.shape[axis] and writes `data` there.")
      .def("_attributes_json",
           [](const PyDataset& d) {
             std::string text;
             {
               py::gil_scoped_release nogil;
               text = d.ds.attributes().dump();
             }
             return text;
           })
      .def("_set_attributes_json",
           [](PyDataset& d, const std::string& text) {
             nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
             if (j.is_discarded())
               raise_value_error("dataset '" + d.ds.name() + "': attributes are not valid JSON");
             py::gil_scoped_release nogil;
             d.ds.set_attributes(j);
           })
      .def("delete",
           [](PyDataset& d) {
             py::gil_scoped_release nogil;
             d.ds.remove();
           })
      .def("clone",
           [](const PyDataset& d, const std::string& output_name, bool copy_data) {
             std::optional<dosna::Dataset> out;
             {
               py::gil_scoped_release nogil;
               out.emplace(d.ds.clone(output_name, copy_data));
             }
             return dataset_object(d.connection, std::move(*out));
           },
           py::arg("output_name"), py::arg("copy_data") = false)
      .def("map",
           [](const PyDataset& d, py::function func, const std::string& output_name) {
             dosna::ChunkFunction fn = chunk_function(func);
             std::optional<dosna::Dataset> out;
             {
               py::gil_scoped_release nogil;
               out.emplace(d.ds.map(fn, output_name));
             }
             return dataset_object(d.connection, std::move(*out));
           },
           py::arg("func"), py::arg("output_name"))
      .def("map_overlap",
           [](const PyDataset& d, py::function func, const std::string& output_name,
              std::int64_t halo) {
             dosna::ChunkFunction fn = chunk_function(func, halo);
             std::optional<dosna::Dataset> out;
             {
               py::gil_scoped_release nogil;
               out.emplace(d.ds.map_overlap(fn, output_name, halo));
             }
             return dataset_object(d.connection, std::move(*out));
           },
           py::arg("func"), py::arg("output_name"), py::arg("halo"),
           "Like map, but func sees each chunk extended by `halo` elements of its "
           "neighbours on every side ('reflect' padding beyond the dataset, as "
           "scipy.ndimage); it returns that extended shape (the halo is cropped) "
           "or the chunk's shape.")
      .def("apply",
           [](PyDataset& d, py::function func) {
             dosna::ChunkFunction fn = chunk_function(func);
             py::gil_scoped_release nogil;
             d.ds.apply(fn);
           },
           py::arg("func"))
      .def("stored_chunks",
           [](const PyDataset& d) {
             py::gil_scoped_release nogil;
             return d.ds.stored_chunks();
           })
      .def("create_chunk",
           [](py::object self, py::object idx, py::object data, py::object slices) {
             auto& d = self.cast<PyDataset&>();
             dosna::ChunkIndex index = chunk_index_from_python(idx);
             std::optional<dosna::DataChunk> chunk;
             if (data.is_none()) {
               dosna::Selection sel;
               py::gil_scoped_release nogil;
               chunk.emplace(d.ds.create_chunk(index, std::nullopt, sel));
             } else {
               Resolved r = resolve_optional(slices, d.ds.chunk_size(), d.ds.name());
               py::object arr = as_array(data, d.descr);
               dosna::ArrayView view =
                   broadcast_view(d.dtype, reinterpret_cast<PyArrayObject*>(arr.ptr()), r.result, r.newaxes);
               py::gil_scoped_release nogil;
               chunk.emplace(d.ds.create_chunk(index, view, r.key.selection));
             }
             return chunk_object(self, std::move(*chunk));
           },
           py::arg("idx"), py::arg("data") = py::none(), py::arg("slices") = py::none())
      .def("get_chunk",
           [](py::object self, py::object idx) {
             auto& d = self.cast<PyDataset&>();
             return chunk_object(self, d.ds.chunk(chunk_index_from_python(idx)));
           })
      .def("has_chunk",
           [](const PyDataset& d, py::object idx) {
             dosna::ChunkIndex index = chunk_index_from_python(idx);
             py::gil_scoped_release nogil;
             return d.ds.has_chunk(index);
           })
      .def("del_chunk",
           [](PyDataset& d, py::object idx) {
             dosna::ChunkIndex index = chunk_index_from_python(idx);
             py::gil_scoped_release nogil;
             return d.ds.del_chunk(index);
           })
      .def("get_chunk_data",
           [](py::object self, py::object idx, py::object slices) {
             auto& d = self.cast<PyDataset&>();
             py::object chunk = chunk_object(self, d.ds.chunk(chunk_index_from_python(idx)));
             return chunk.attr("get_data")(slices);
           },
           py::arg("idx"), py::arg("slices") = py::none())
      .def("set_chunk_data",
           [](py::object self, py::object idx, py::object values, py::object slices) {
             auto& d = self.cast<PyDataset&>();
             py::object chunk = chunk_object(self, d.ds.chunk(chunk_index_from_python(idx)));
             chunk.attr("set_data")(values, slices);
           },
           py::arg("idx"), py::arg("values"), py::arg("slices") = py::none())
      .def("__repr__", [](const PyDataset& d) {
        return "<dosna.Dataset '" + d.ds.name() + "' shape " + shape_text(d.ds.shape()) + " " +
               d.ds.dtype().name() + " chunks " + shape_text(d.ds.chunk_size()) + ">";
      });

  auto chunk_read = [](const PyDataChunk& c, py::handle slices) -> py::object {
    Resolved r = resolve_optional(slices, c.chunk.shape(), c.chunk.name());
    std::optional<dosna::NdArray> out;
    {
      py::gil_scoped_release nogil;
      out.emplace(c.chunk.read(r.key.selection));
    }
    if (r.result.empty() && !r.key.has_ellipsis) return scalar_to_python(dosna::Scalar::load(c.dtype, out->bytes()), c.dtype);
    if (r.key.has_newaxis) out.emplace(std::move(*out).reshaped(r.result));
    return ndarray_to_numpy(std::move(*out));
  };
  auto chunk_write = [](PyDataChunk& c, py::handle slices, py::handle values) {
    Resolved r = resolve_optional(slices, c.chunk.shape(), c.chunk.name());
    py::object arr = as_array(values, c.descr);
    dosna::ArrayView view =
        broadcast_view(c.dtype, reinterpret_cast<PyArrayObject*>(arr.ptr()), r.result, r.newaxes);
    py::gil_scoped_release nogil;
    c.chunk.write(r.key.selection, view);
  };

  py::class_<PyDataChunk>(m, "DataChunk", py::dynamic_attr())
      .def_property_readonly("name", [](const PyDataChunk& c) { return c.chunk.name(); })
      .def_property_readonly("idx", [](const PyDataChunk& c) { return shape_tuple(c.chunk.index()); })
      .def_property_readonly("shape", [](const PyDataChunk& c) { return shape_tuple(c.chunk.shape()); })
      .def_property_readonly("size", [](const PyDataChunk& c) { return c.chunk.size(); })
      .def_property_readonly("dtype", [](const PyDataChunk& c) { return c.descr; })
      .def_property_readonly("fillvalue",
                             [](const PyDataChunk& c) { return scalar_to_python(c.chunk.fillvalue(), c.dtype); })
      .def_property_readonly("byte_count", [](const PyDataChunk& c) { return c.chunk.byte_count(); })
      .def_property_readonly("dataset", [](const PyDataChunk& c) { return c.dataset; })
      .def("exists",
           [](const PyDataChunk& c) {
             py::gil_scoped_release nogil;
             return c.chunk.exists();
           })
      .def("get_data", [chunk_read](const PyDataChunk& c, py::object slices) { return chunk_read(c, slices); },
           py::arg("slices") = py::none())
      .def("set_data",
           [chunk_write](PyDataChunk& c, py::object values, py::object slices) { chunk_write(c, slices, values); },
           py::arg("values"), py::arg("slices") = py::none())
      .def("__getitem__", [chunk_read](const PyDataChunk& c, py::object slices) { return chunk_read(c, slices); })
      .def("__setitem__", [chunk_write](PyDataChunk& c, py::object slices, py::object values) {
        chunk_write(c, slices, values);
      })
      .def("__repr__", [](const PyDataChunk& c) {
        return "<dosna.DataChunk '" + c.chunk.name() + "' shape " + shape_text(c.chunk.shape()) + ">";
      });
}
