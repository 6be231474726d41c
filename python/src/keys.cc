// numpy basic indexing keys (ds[key]) resolved to DosNa selections, with
// what numpy adds on top (np.newaxis).

#include <optional>
#include <string>
#include <vector>

#include "binding.h"

namespace dosna::python {
namespace {

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


}  // namespace

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

}  // namespace dosna::python
