// What the parts of the _dosna binding share (python/src/, one file per
// concern): errors.cc (exceptions, warnings), convert.cc (dtypes, scalars,
// shapes, numpy arrays, options), keys.cc (numpy indexing keys), objects.cc
// (the Python-side objects' reads, writes and chunk functions), and the
// class bindings bind_connection.cc and bind_dataset.cc, put together by
// module.cc.
//
// numpy arrays cross the boundary without extra copies: a read allocates the
// result array and the core fills its buffer; a write hands the core the
// caller's buffer with its byte strides (0 = broadcast). Only a dtype that
// differs from the dataset's is converted (once, by numpy). The GIL is
// released around every storage operation and re-acquired inside the
// per-chunk callbacks of map/apply.
#pragma once

#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL dosna_python_ARRAY_API
#ifndef DOSNA_PYTHON_IMPORTS_NUMPY
#define NO_IMPORT_ARRAY  // only module.cc calls import_array
#endif
#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dosna/dosna.h"

namespace py = pybind11;

namespace dosna::python {

// ----------------------------------------------------------- errors.cc

// Python classes for the error-kind table (dosna/error_kinds.h) and the
// translator of dosna::Error to them; the test hooks _error_kinds and
// _raise_error.
void register_exceptions(py::module_& m);
// dosna::warn() becomes a Python warning of class DosnaWarning (a
// UserWarning), shown once per call site by Python's default filter.
void register_warnings(py::module_& m);
// Set the Python exception and throw py::error_already_set.
[[noreturn]] void raise_index_error(const std::string& message);
[[noreturn]] void raise_value_error(const std::string& message);
[[noreturn]] void raise_type_error(const std::string& message);

// ---------------------------------------------------------- convert.cc

// A new reference to the numpy descriptor of `dt`.
py::object descr_of(DType dt);
PyArray_Descr* as_descr(const py::object& o);
// Anything np.dtype() accepts, as the DosNa dtype (InvalidArgument for
// big-endian ones).
DType dtype_from_python(py::handle spec);
// A Python or numpy number (TypeError otherwise, ValueError past 64 bits).
Scalar scalar_from_python(py::handle o);
// A numpy scalar of `dt` holding `value` converted as numpy would.
py::object scalar_to_python(const Scalar& value, DType dt);
py::tuple shape_tuple(const Shape& shape);
// An int or an iterable of ints; ValueError naming `what` otherwise.
Shape shape_from_python(py::handle o, const char* what);
ChunkIndex chunk_index_from_python(py::handle o);
Shape array_shape(PyArrayObject* a);
std::string shape_text(const Shape& s);
// A numpy array of dtype `descr` for `value`: the same object when it already
// is one (no copy, any strides), else converted once by numpy (unsafe casting,
// as numpy's own assignment does).
py::object as_array(py::handle value, const py::object& descr);
// A view of `arr` broadcast (numpy's rules for assignment) to `target`, with
// the axes listed in `drop` (inserted by np.newaxis, extent 1) removed.
ArrayView broadcast_view(DType dt, PyArrayObject* arr, const Shape& target,
                         const std::vector<std::size_t>& drop);
// Hands an NdArray to numpy without copying: the array owns it via a capsule.
py::object ndarray_to_numpy(NdArray&& array);
// The layout options (include/dosna/format.h) from the keywords
// connection.py passes (only those given; codecs already as JSON text);
// InvalidArgument naming `what` for an unknown one.
StorageOptions storage_from_python(const py::dict& args, const std::string& what);
Options options_from_python(const py::dict& d);

// ------------------------------------------------------------- keys.cc

// One Python index expression resolved to a DosNa selection, plus what numpy
// adds on top (np.newaxis positions in the result).
struct ParsedKey {
  Selection selection;
  std::vector<char> kinds;  // per item: 'i'nt, 's'lice, 'e'llipsis, 'n'ewaxis
  bool has_newaxis = false;
  bool has_ellipsis = false;  // numpy then returns a 0-d array, not a scalar
};

struct Resolved {
  ParsedKey key;
  NormalizedSelection norm;
  Shape result;  // numpy's result shape (with np.newaxis axes)
  std::vector<std::size_t> newaxes;
};

// `key` as ds[key] takes it, against `shape`; IndexError / TypeError as
// numpy raises them, `what` names the dataset in the core's errors.
Resolved resolve(py::handle key_obj, const Shape& shape, const std::string& what);
// The same, where None means `...` and a list is a tuple (the original
// passes slices as lists).
Resolved resolve_optional(py::handle key_obj, const Shape& shape, const std::string& what);

// ---------------------------------------------------------- objects.cc

struct PyDataset {
  Dataset ds;
  py::object connection;  // the Python Connection that opened it
  py::object descr;       // cached numpy dtype
  DType dtype;

  PyDataset(Dataset d, py::object con)
      : ds(std::move(d)), connection(std::move(con)), descr(descr_of(ds.dtype())),
        dtype(ds.dtype()) {}
};

struct PyDataChunk {
  DataChunk chunk;
  py::object dataset;  // the Python Dataset
  py::object descr;
  DType dtype;
};

struct PyConnection {
  std::unique_ptr<Connection> con;
  std::string mode;
};

// ds[key] into a new numpy array (a numpy scalar for integer-only keys).
py::object read_dataset(const PyDataset& self, py::handle key);
// ds.read_many(keys): [ds[k] for k in keys], read as one batched plan.
py::list read_many_dataset(const PyDataset& self, py::handle keys_obj);
// target[key] = value (a Dataset or a DataChunk of `shape`, named `what`),
// from value's own buffer and strides where it can, without the GIL.
template <class Target>
void assign(Target& target, const Shape& shape, const std::string& what, const py::object& descr,
            DType dtype, py::handle key, py::handle value) {
  Resolved r = resolve_optional(key, shape, what);
  py::object arr = as_array(value, descr);
  ArrayView view =
      broadcast_view(dtype, reinterpret_cast<PyArrayObject*>(arr.ptr()), r.result, r.newaxes);
  py::gil_scoped_release nogil;
  target.write(r.key.selection, view);
}
// ds[key] = value.
void write_dataset(PyDataset& self, py::handle key, py::handle value);
// Wraps a Python callable as a ChunkFunction. The callable is borrowed: the
// caller keeps it alive for the duration of map/apply. With halo > 0
// (map_overlap) the result may also be the input shape minus the halo.
ChunkFunction chunk_function(py::handle fn, std::int64_t halo = 0);
// The Python DataChunk / Dataset objects for a chunk / a dataset.
py::object chunk_object(const py::object& dataset_obj, DataChunk chunk);
py::object dataset_object(const py::object& con_obj, Dataset ds);
// The seed README uses a Connection without calling connect() first (the
// original's backends connect lazily): dataset operations connect on demand.
Connection& connected(PyConnection& c);
PyConnection& con_of(const py::object& o);
// mpi rank/size/barrier without mpi4py: the mpi engine's world communicator.
Engine& world_engine();

// ------------------------------------------------------ class bindings

void bind_connection(py::module_& m);
void bind_dataset(py::module_& m);

}  // namespace dosna::python
