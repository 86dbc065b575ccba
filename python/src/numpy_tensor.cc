#include "numpy_tensor.h"

#include <pybind11/stl.h>

#include <string>

#include "tfreeze/errors.h"

namespace py = pybind11;

namespace tfreeze::python {
namespace {

DType DTypeOfNumpy(const py::dtype& dtype) {
  const std::size_t size = static_cast<std::size_t>(dtype.itemsize());
  switch (dtype.kind()) {
    case 'f':
      if (size == 2) return DType::kFloat16;
      if (size == 4) return DType::kFloat32;
      if (size == 8) return DType::kFloat64;
      break;
    case 'i':
      if (size == 1) return DType::kInt8;
      if (size == 2) return DType::kInt16;
      if (size == 4) return DType::kInt32;
      if (size == 8) return DType::kInt64;
      break;
    case 'u':
      if (size == 1) return DType::kUInt8;
      if (size == 2) return DType::kUInt16;
      if (size == 4) return DType::kUInt32;
      if (size == 8) return DType::kUInt64;
      break;
    case 'b':
      return DType::kBool;
    case 'U':
    case 'S':
    case 'O':
      return DType::kString;
    case 'V':
      if (py::str(dtype.attr("name")).cast<std::string>() == "bfloat16") {
        return DType::kBFloat16;
      }
      break;
  }
  throw DTypeError("numpy dtype " + py::str(dtype).cast<std::string>() +
                   " has no TensorFlow equivalent; supported: float16/32/64, "
                   "bfloat16, int8/16/32/64, uint8/16/32/64, bool, str/bytes");
}

py::dtype NumpyDTypeOf(DType dtype) {
  if (dtype == DType::kBFloat16) {
    return py::dtype::from_args(py::module_::import("ml_dtypes").attr("bfloat16"));
  }
  if (dtype == DType::kString) return py::dtype("O");
  return py::dtype(DTypeName(dtype));
}

Shape ShapeOfArray(const py::array& array) {
  return Shape(array.shape(), array.shape() + array.ndim());
}

std::string ToBytes(const py::handle& item) {
  if (py::isinstance<py::str>(item)) return item.cast<std::string>();  // UTF-8
  if (py::isinstance<py::bytes>(item)) return item.cast<std::string>();
  throw DTypeError("string tensors take str or bytes elements, got " +
                   py::str(py::type::of(item)).cast<std::string>());
}

Tensor StringArrayToTensor(const py::array& array) {
  py::list items = array.attr("ravel")().attr("tolist")();
  std::vector<std::string> values;
  values.reserve(items.size());
  for (const py::handle& item : items) values.push_back(ToBytes(item));
  return Tensor::FromStrings(ShapeOfArray(array), values);
}

py::object StringTensorToArray(const Tensor& tensor) {
  const std::vector<std::string> values = tensor.ToStrings();
  py::list items;
  for (const std::string& value : values) items.append(py::bytes(value));
  py::array array = py::module_::import("numpy").attr("array")(items, "O");
  return array.attr("reshape")(py::tuple(py::cast(tensor.shape())));
}

bool Aliases(const Span& output, const std::vector<Span>& inputs) {
  for (const Span& input : inputs) {
    if (output.begin < input.end && input.begin < output.end) return true;
  }
  return false;
}

}  // namespace

Span SpanOf(const Tensor& tensor) {
  const char* begin = static_cast<const char*>(tensor.raw_data());
  return Span{begin, begin + tensor.byte_size()};
}

Tensor ArrayToTensor(const py::handle& value) {
  py::array array = py::array::ensure(value);
  if (!array) throw DTypeError("a feed must be a numpy array or convertible to one");
  const DType dtype = DTypeOfNumpy(array.dtype());
  if (dtype == DType::kString) return StringArrayToTensor(array);
  const bool native = array.dtype().attr("isnative").cast<bool>();
  if (!native || !(array.flags() & py::array::c_style)) {
    array = py::module_::import("numpy").attr("ascontiguousarray")(
        array, array.dtype().attr("newbyteorder")("="));
  }
  auto* keep_alive = new py::object(array);
  auto release = [keep_alive] {
    py::gil_scoped_acquire gil;  // TensorFlow may release from its own thread
    delete keep_alive;
  };
  return Tensor::Wrap(dtype, ShapeOfArray(array), const_cast<void*>(array.data()),
                      static_cast<std::size_t>(array.nbytes()), release);
}

py::object TensorToArray(Tensor tensor, const std::vector<Span>& inputs) {
  if (tensor.dtype() == DType::kString) return StringTensorToArray(tensor);
  const py::dtype dtype = NumpyDTypeOf(tensor.dtype());
  const std::vector<py::ssize_t> shape(tensor.shape().begin(), tensor.shape().end());
  if (tensor.num_elements() == 0 || Aliases(SpanOf(tensor), inputs)) {
    return py::array(dtype, shape, tensor.raw_data());  // copies
  }
  auto* owned = new Tensor(std::move(tensor));
  py::capsule owner(owned, [](void* pointer) { delete static_cast<Tensor*>(pointer); });
  return py::array(dtype, shape, owned->raw_data(), owner);
}

}  // namespace tfreeze::python
