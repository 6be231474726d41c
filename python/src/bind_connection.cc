// The _dosna.Connection class.

#include <memory>
#include <optional>
#include <string>

#include "binding.h"

namespace dosna::python {
void bind_connection(py::module_& m) {
  auto get_dataset = [](py::object self, const std::string& name) {
    PyConnection& c = con_of(self);
    std::optional<dosna::Dataset> ds;
    {
      py::gil_scoped_release nogil;
      ds.emplace(connected(c).get_dataset(name));
    }
    return dataset_object(self, std::move(*ds));
  };
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
      .def("get_dataset", get_dataset)
      .def("__getitem__", get_dataset)
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
}

}  // namespace dosna::python
