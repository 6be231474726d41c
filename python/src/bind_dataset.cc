// The _dosna.Dataset and _dosna.DataChunk classes.

#include <optional>
#include <string>
#include <vector>

#include "binding.h"

namespace dosna::python {
void bind_dataset(py::module_& m) {
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
    assign(c.chunk, c.chunk.shape(), c.chunk.name(), c.descr, c.dtype, slices, values);
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

}  // namespace dosna::python
