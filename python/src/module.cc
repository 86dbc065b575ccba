// tfreeze._core: the C++ runtime seen from Python. Everything that is not a
// hot path lives in plain Python under python/tfreeze/.
#include <pybind11/pybind11.h>

#include "registrations.h"
#include "tfreeze/version.h"

PYBIND11_MODULE(_core, module) {
  module.doc() = "tfreeze C++ runtime (TensorFlow C API) for frozen graphs";
  module.attr("__version__") = TFREEZE_VERSION;
  module.def("tensorflow_version", &tfreeze::TensorFlowVersion,
             "Version of the TensorFlow C library this module runs on.");
  tfreeze::python::RegisterErrors(module);
  tfreeze::python::RegisterModel(module);
  tfreeze::python::RegisterChecks(module);
}
