#include "tfreeze/tensor.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include <tensorflow/c/tf_tensor.h>
#include <tensorflow/c/tf_tstring.h>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

std::size_t ElementStorageSize(DType dtype) {
  return dtype == DType::kString ? sizeof(TF_TString) : DTypeSize(dtype);
}

// Allocates an uninitialized tensor; strings are initialized to empty.
TF_Tensor* Allocate(DType dtype, const Shape& shape) {
  const std::int64_t count = NumElements(shape);
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<std::int64_t>(ElementStorageSize(dtype)), &bytes)) {
    throw ShapeError("a " + DTypeName(dtype) + " tensor of shape " + ShapeToString(shape) +
                     " needs more bytes than a 64-bit size holds");
  }
  TF_Tensor* tensor = TF_AllocateTensor(
      static_cast<TF_DataType>(dtype), shape.data(), static_cast<int>(shape.size()),
      static_cast<std::size_t>(bytes));
  if (tensor == nullptr || (bytes > 0 && TF_TensorData(tensor) == nullptr)) {
    if (tensor != nullptr) TF_DeleteTensor(tensor);
    throw OutOfMemoryError(Code::kResourceExhausted,
                           "could not allocate " + std::to_string(bytes) + " bytes for a " +
                               DTypeName(dtype) + " tensor of shape " +
                               ShapeToString(shape) + "; free memory or use a smaller batch");
  }
  if (dtype == DType::kString) {
    auto* strings = static_cast<TF_TString*>(TF_TensorData(tensor));
    for (std::int64_t i = 0; i < count; ++i) TF_StringInit(&strings[i]);
  }
  return tensor;
}

void CallRelease(void* /*data*/, std::size_t /*len*/, void* arg) {
  auto* release = static_cast<std::function<void()>*>(arg);
  if (*release) (*release)();
  delete release;
}

}  // namespace

std::string ShapeToString(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ",";
    text += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return text + "]";
}

std::int64_t NumElements(const Shape& shape) {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) {
    if (dim < 0) {
      throw ShapeError("shape " + ShapeToString(shape) +
                       " has an unknown dimension; a tensor needs every size");
    }
    // TensorFlow CHECK-fails (aborts the process) on a shape whose count
    // overflows, so it must never see one.
    if (__builtin_mul_overflow(count, dim, &count)) {
      throw ShapeError("shape " + ShapeToString(shape) +
                       " has more elements than a 64-bit count holds");
    }
  }
  return count;
}

void Tensor::Deleter::operator()(TF_Tensor* tensor) const noexcept {
  if (tensor != nullptr) TF_DeleteTensor(tensor);
}

Tensor::Tensor(std::unique_ptr<TF_Tensor, Deleter> handle, DType dtype, Shape shape)
    : handle_(std::move(handle)), dtype_(dtype), shape_(std::move(shape)) {}

Tensor::Tensor(DType dtype, Shape shape)
    : handle_(Allocate(dtype, shape)), dtype_(dtype), shape_(std::move(shape)) {
  if (dtype_ != DType::kString) std::memset(raw_data(), 0, byte_size());
}

Tensor Tensor::FromBytes(DType dtype, Shape shape, const void* bytes,
                         std::size_t count) {
  if (static_cast<std::int64_t>(count) != NumElements(shape)) {
    throw ShapeError("got " + std::to_string(count) + " values for shape " +
                     ShapeToString(shape) + ", which holds " +
                     std::to_string(NumElements(shape)));
  }
  std::unique_ptr<TF_Tensor, Deleter> handle(Allocate(dtype, shape));
  if (count > 0) std::memcpy(TF_TensorData(handle.get()), bytes, count * DTypeSize(dtype));
  return Tensor(std::move(handle), dtype, std::move(shape));
}

Tensor Tensor::FromStrings(Shape shape, const std::vector<std::string>& values) {
  if (static_cast<std::int64_t>(values.size()) != NumElements(shape)) {
    throw ShapeError("got " + std::to_string(values.size()) +
                     " strings for shape " + ShapeToString(shape));
  }
  std::unique_ptr<TF_Tensor, Deleter> handle(Allocate(DType::kString, shape));
  auto* strings = static_cast<TF_TString*>(TF_TensorData(handle.get()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    TF_StringCopy(&strings[i], values[i].data(), values[i].size());
  }
  return Tensor(std::move(handle), DType::kString, std::move(shape));
}

Tensor Tensor::Wrap(DType dtype, Shape shape, void* data, std::size_t byte_size,
                    std::function<void()> release) {
  if (dtype == DType::kString) {
    throw DTypeError("string tensors cannot wrap caller memory; use FromStrings");
  }
  const std::size_t expected =
      static_cast<std::size_t>(NumElements(shape)) * DTypeSize(dtype);
  if (byte_size != expected) {
    throw ShapeError("a " + DTypeName(dtype) + " tensor of shape " +
                     ShapeToString(shape) + " needs " + std::to_string(expected) +
                     " bytes, got " + std::to_string(byte_size));
  }
  if (!IsAligned(data)) return CopyAligned(dtype, std::move(shape), data, byte_size, release);
  auto* release_arg = new std::function<void()>(std::move(release));
  TF_Tensor* tensor =
      TF_NewTensor(static_cast<TF_DataType>(dtype), shape.data(),
                   static_cast<int>(shape.size()), data, byte_size, CallRelease,
                   release_arg);
  if (tensor == nullptr) {
    CallRelease(data, byte_size, release_arg);
    throw Error(Code::kInternal, "TensorFlow refused to wrap a " +
                                     DTypeName(dtype) + " buffer of shape " +
                                     ShapeToString(shape));
  }
  return Tensor(std::unique_ptr<TF_Tensor, Deleter>(tensor), dtype, std::move(shape));
}

std::size_t Tensor::Alignment() { return std::max<std::size_t>(1, TF_TensorDefaultAlignment()); }

bool Tensor::IsAligned(const void* data) {
  return reinterpret_cast<std::uintptr_t>(data) % Alignment() == 0;
}

// TF_NewTensor would copy misaligned memory itself, with an allocation it
// never checks: out of memory, the copy writes through a null pointer. Here
// the allocation is checked, and `release` runs as soon as the copy is made.
Tensor Tensor::CopyAligned(DType dtype, Shape shape, const void* data, std::size_t byte_size,
                           const std::function<void()>& release) {
  std::unique_ptr<TF_Tensor, Deleter> handle(Allocate(dtype, shape));
  if (byte_size > 0) std::memcpy(TF_TensorData(handle.get()), data, byte_size);
  if (release) release();
  return Tensor(std::move(handle), dtype, std::move(shape));
}

Tensor Tensor::Adopt(TF_Tensor* handle) {
  std::unique_ptr<TF_Tensor, Deleter> owned(handle);
  const int type = static_cast<int>(TF_TensorType(handle));
  if (!IsSupportedDType(type)) {
    throw DTypeError("TensorFlow returned a tensor of unsupported type " +
                     std::to_string(type));
  }
  Shape shape(TF_NumDims(handle));
  for (std::size_t i = 0; i < shape.size(); ++i) {
    shape[i] = TF_Dim(handle, static_cast<int>(i));
  }
  return Tensor(std::move(owned), static_cast<DType>(type), std::move(shape));
}

std::int64_t Tensor::num_elements() const { return TF_TensorElementCount(handle_.get()); }

std::size_t Tensor::byte_size() const { return TF_TensorByteSize(handle_.get()); }

void* Tensor::raw_data() { return TF_TensorData(handle_.get()); }

const void* Tensor::raw_data() const { return TF_TensorData(handle_.get()); }

void Tensor::CheckDType(DType wanted) const {
  if (wanted != dtype_) {
    throw DTypeError("tensor holds " + DTypeName(dtype_) + ", not " +
                     DTypeName(wanted));
  }
}

std::vector<std::string> Tensor::ToStrings() const {
  CheckDType(DType::kString);
  const auto* strings = static_cast<const TF_TString*>(raw_data());
  std::vector<std::string> values;
  values.reserve(static_cast<std::size_t>(num_elements()));
  for (std::int64_t i = 0; i < num_elements(); ++i) {
    values.emplace_back(TF_StringGetDataPointer(&strings[i]),
                        TF_StringGetSize(&strings[i]));
  }
  return values;
}

}  // namespace tfreeze
