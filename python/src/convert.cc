// Values crossing the boundary: dtypes, scalars, shapes, numpy arrays
// (without copies where numpy allows), options.

#include <complex>
#include <cstdint>
#include <type_traits>
#include <string>
#include <vector>

#include "binding.h"

namespace dosna::python {
// -------------------------------------------------------------------- dtypes

namespace {

template <class T>
constexpr int npy_type_of() {
  if constexpr (std::is_same_v<T, bool>) return NPY_BOOL;
  else if constexpr (std::is_same_v<T, std::int8_t>) return NPY_INT8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return NPY_INT16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return NPY_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return NPY_INT64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return NPY_UINT8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return NPY_UINT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return NPY_UINT32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return NPY_UINT64;
  else if constexpr (std::is_same_v<T, float>) return NPY_FLOAT32;
  else if constexpr (std::is_same_v<T, double>) return NPY_FLOAT64;
  else if constexpr (std::is_same_v<T, std::complex<float>>) return NPY_COMPLEX64;
  else return NPY_COMPLEX128;
}

int typenum_of(DType dt) {
  return dosna::visit_dtype(dt, [](auto v) { return npy_type_of<decltype(v)>(); });
}

}  // namespace

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

dosna::Options options_from_python(const py::dict& d) {
  dosna::Options out;
  for (auto item : d) out[py::str(item.first)] = py::str(item.second);
  return out;
}

}  // namespace dosna::python
