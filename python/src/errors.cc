// DosNa errors as Python exceptions (one class per row of the error-kind
// table, dosna/error_kinds.h) and dosna::warn() as DosnaWarning.

#include <cstdio>
#include <string>
#include <vector>

#include "binding.h"

namespace dosna::python {
namespace {
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

}  // namespace

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

namespace {
PyObject* g_warning = nullptr;  // module lifetime, never released
}  // namespace

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

}  // namespace dosna::python
