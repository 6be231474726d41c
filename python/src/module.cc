// _dosna: the pybind11 binding of the DosNa C++ library. The `dosna` Python
// package (python/dosna/) re-exports these types and adds the module-level
// selection functions (use, status, compatible) and the Connection wrapper.
// The binding's parts: python/src/binding.h.
#define DOSNA_PYTHON_IMPORTS_NUMPY
#include "binding.h"

using namespace dosna::python;

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

  bind_connection(m);
  bind_dataset(m);
}
