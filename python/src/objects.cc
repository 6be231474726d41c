// The Python Dataset / DataChunk / Connection objects' shared operations:
// reads into new numpy arrays, writes from the caller's buffer, chunk
// functions for map/apply.

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "binding.h"

namespace dosna::python {
namespace {
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

}  // namespace

py::object read_dataset(const PyDataset& self, py::handle key) {
  PreparedRead r;
  prepare_read(self, key, r, self.ds.name());
  {
    py::gil_scoped_release nogil;
    self.ds.read(r.selection, r.view);
  }
  return finish_read(self, r);
}

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
  assign(self.ds, self.ds.shape(), self.ds.name(), self.descr, self.dtype, key, value);
}

dosna::ChunkFunction chunk_function(py::handle fn, std::int64_t halo) {
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

py::object dataset_object(const py::object& con_obj, dosna::Dataset ds) {
  return py::cast(PyDataset(std::move(ds), con_obj));
}

dosna::Connection& connected(PyConnection& c) {
  if (!c.con->connected()) c.con->connect();
  return *c.con;
}

PyConnection& con_of(const py::object& o) { return o.cast<PyConnection&>(); }

dosna::Engine& world_engine() {
  static std::shared_ptr<dosna::Engine> engine = dosna::make_engine("mpi", {});
  return *engine;
}

}  // namespace dosna::python
