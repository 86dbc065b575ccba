// C++ exceptions -> the Python classes in tfreeze/errors.py, so users catch
// tfreeze.DTypeError (also a TypeError) rather than a generic RuntimeError.
#include <pybind11/pybind11.h>

#include "registrations.h"
#include "tfreeze/errors.h"

namespace py = pybind11;

namespace tfreeze::python {
namespace {

template <typename Extra = void (*)(py::object&)>
void Raise(const char* class_name, const Error& error, Extra extra = [](py::object&) {}) {
  py::object cls = py::module_::import("tfreeze.errors").attr(class_name);
  // A message can quote names from a corrupt or crafted file: never let its
  // bytes turn the error into a UnicodeDecodeError.
  const std::string message = error.what();
  py::object text = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "replace"));
  py::object instance = cls(text);
  instance.attr("code") = CodeName(error.code());
  extra(instance);
  PyErr_SetObject(cls.ptr(), instance.ptr());
}

void Translate(std::exception_ptr thrown) {
  if (!thrown) return;
  try {
    std::rethrow_exception(thrown);
  } catch (const FileNotFoundError& e) {
    Raise("ModelFileNotFoundError", e);
  } catch (const DeviceError& e) {
    Raise("DeviceError", e);
  } catch (const UnsafeOpError& e) {
    Raise("UnsafeOpError", e);
  } catch (const ConstantTooLargeError& e) {
    Raise("ConstantTooLargeError", e);
  } catch (const LoadError& e) {
    Raise("LoadError", e);
  } catch (const UnknownNameError& e) {
    Raise("UnknownNameError", e);
  } catch (const DTypeError& e) {
    Raise("DTypeError", e);
  } catch (const ShapeError& e) {
    Raise("ShapeError", e);
  } catch (const InputError& e) {
    Raise("InputError", e);
  } catch (const ModelCrashedError& e) {
    Raise("ModelCrashedError", e, [&](py::object& instance) {
      instance.attr("signal") = e.signal();
      instance.attr("exit_code") = e.exit_code();
    });
  } catch (const OutOfMemoryError& e) {
    Raise("OutOfMemoryError", e);
  } catch (const RunError& e) {
    Raise("RunError", e);
  } catch (const Error& e) {
    Raise("Error", e);
  }
}

}  // namespace

void RegisterErrors(py::module_& /*module*/) {
  py::register_exception_translator(&Translate);
}

}  // namespace tfreeze::python
