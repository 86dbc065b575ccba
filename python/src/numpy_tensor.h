// numpy arrays <-> tfreeze::Tensor, without copies where memory allows.
#ifndef TFREEZE_PYTHON_NUMPY_TENSOR_H_
#define TFREEZE_PYTHON_NUMPY_TENSOR_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "tfreeze/tensor.h"

namespace tfreeze::python {

// Memory an input tensor reads from, to detect outputs that alias an input.
struct Span {
  const char* begin;
  const char* end;
};

// The GIL must be held. Contiguous native-order numeric arrays are wrapped
// without a copy; the Tensor keeps the array alive until TensorFlow lets go.
Tensor ArrayToTensor(const pybind11::handle& value);

// The GIL must be held. The array takes ownership of the tensor's buffer
// unless it aliases one of `inputs`, in which case it gets its own copy.
pybind11::object TensorToArray(Tensor tensor, const std::vector<Span>& inputs);

Span SpanOf(const Tensor& tensor);

}  // namespace tfreeze::python

#endif  // TFREEZE_PYTHON_NUMPY_TENSOR_H_
