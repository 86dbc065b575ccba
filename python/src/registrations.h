// One Register* function per area of the tfreeze._core module.
#ifndef TFREEZE_PYTHON_REGISTRATIONS_H_
#define TFREEZE_PYTHON_REGISTRATIONS_H_

#include <pybind11/pybind11.h>

namespace tfreeze::python {

void RegisterChecks(pybind11::module_& module);
void RegisterErrors(pybind11::module_& module);
void RegisterModel(pybind11::module_& module);

}  // namespace tfreeze::python

#endif  // TFREEZE_PYTHON_REGISTRATIONS_H_
