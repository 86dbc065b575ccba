// tfreeze._core.check_*: the loader's checks without loading, for the Python
// paths that hand a user's file to Python TensorFlow (freeze, export, parity,
// graph). They raise what tfreeze.Model would: UnsafeOpError, LoadError.
#include <pybind11/pybind11.h>

#include <string>

#include "load_checks.h"
#include "registrations.h"
#include "tfreeze/options.h"

namespace py = pybind11;

namespace tfreeze::python {

void RegisterChecks(py::module_& module) {
  module.def(
      "check_file",
      [](const std::string& path, const Options& options) {
        py::gil_scoped_release release;  // imports a scratch graph: can take a while
        internal::CheckModelFile(path, options);
      },
      py::arg("path"), py::arg("options"),
      "What Model(path, options) checks before it creates a session (a frozen .pb or a "
      "SavedModel directory); nothing in the file runs.");
  module.def(
      "check_graph_def",
      [](const py::bytes& graph_def, const Options& options, const std::string& origin) {
        std::string bytes = graph_def;
        py::gil_scoped_release release;
        internal::CheckGraphDefBytes(bytes, options, origin);
      },
      py::arg("graph_def"), py::arg("options"), py::arg("origin"),
      "Model.from_bytes's checks of a serialized GraphDef; `origin` names it in errors.");
  module.def(
      "check_meta_graph",
      [](const py::bytes& meta_graph_def, const Options& options, const std::string& origin) {
        std::string bytes = meta_graph_def;
        py::gil_scoped_release release;
        internal::CheckMetaGraphBytes(bytes, options, origin);
      },
      py::arg("meta_graph_def"), py::arg("options"), py::arg("origin"),
      "The checks of a SavedModel's MetaGraph on a serialized MetaGraphDef (a TF1 .meta): "
      "its saver's restore may read the checkpoint it is fed, nothing else may.");
}

}  // namespace tfreeze::python
