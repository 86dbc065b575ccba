// An owning, typed n-dimensional array exchanged with a Model.
//
//   tfreeze::Tensor image = tfreeze::Tensor::FromVector<float>({1, 4}, {1, 2, 3, 4});
//   float* pixels = image.data<float>();          // DTypeError if not float32
//   std::vector<float> copy = image.ToVector<float>();
//
// A Tensor owns a TensorFlow tensor; it is movable, not copyable, so ownership
// is always plain. Tensor::Wrap feeds caller memory without copying it when the
// memory is aligned as TensorFlow wants (Tensor::IsAligned), and copies it once
// otherwise.
#ifndef TFREEZE_TENSOR_H_
#define TFREEZE_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tfreeze/dtype.h"

struct TF_Tensor;  // TensorFlow's C type; users never need its header.

namespace tfreeze {

// Dimension sizes; -1 marks a dimension the signature leaves open.
using Shape = std::vector<std::int64_t>;

// "[?,28,28,1]": the form used in every error message.
std::string ShapeToString(const Shape& shape);

// Number of elements of a fully known shape; ShapeError if any dim is < 0.
std::int64_t NumElements(const Shape& shape);

class Tensor {
 public:
  // A zero-filled tensor (empty strings for kString) that owns its memory.
  Tensor(DType dtype, Shape shape);

  // Copies `values` (row-major) into a new tensor; ShapeError on a count mismatch.
  template <typename T>
  static Tensor FromVector(Shape shape, const std::vector<T>& values);

  static Tensor FromStrings(Shape shape, const std::vector<std::string>& values);

  // Zero copy when IsAligned(data): the tensor reads and writes `data` in
  // place. `data` must stay valid until `release` is called; TensorFlow calls
  // it once the last reference is gone, which can be after this Tensor is
  // destroyed (an output may alias an input). Misaligned data is copied into
  // an aligned buffer and `release` is called before Wrap returns
  // (OutOfMemoryError when that buffer cannot be allocated). `release` may be
  // empty when the caller outlives all use. Not for kString. ShapeError when
  // byte_size does not match the shape.
  static Tensor Wrap(DType dtype, Shape shape, void* data, std::size_t byte_size,
                     std::function<void()> release);

  // The alignment TensorFlow wants of tensor memory (64 bytes in the
  // tensorflow wheel; malloc and numpy give 16), and whether `data` has it:
  // Wrap takes such memory as it is.
  static std::size_t Alignment();
  static bool IsAligned(const void* data);

  // Takes ownership of a TF_Tensor (used by Model for outputs).
  static Tensor Adopt(TF_Tensor* handle);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor() = default;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t num_elements() const;
  std::size_t byte_size() const;

  // Typed element access; DTypeError when T does not match dtype().
  template <typename T>
  T* data() {
    CheckDType(DTypeOf<T>::value);
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    CheckDType(DTypeOf<T>::value);
    return static_cast<const T*>(raw_data());
  }
  template <typename T>
  std::vector<T> ToVector() const {
    const T* first = data<T>();
    return std::vector<T>(first, first + num_elements());
  }
  std::vector<std::string> ToStrings() const;

  // Untyped access, for float16/bfloat16 and for bindings.
  void* raw_data();
  const void* raw_data() const;

  // The TensorFlow tensor; ownership stays with this object.
  TF_Tensor* handle() const { return handle_.get(); }

 private:
  struct Deleter {
    void operator()(TF_Tensor* tensor) const noexcept;
  };
  Tensor(std::unique_ptr<TF_Tensor, Deleter> handle, DType dtype, Shape shape);
  void CheckDType(DType wanted) const;
  static Tensor FromBytes(DType dtype, Shape shape, const void* bytes,
                          std::size_t count);
  static Tensor CopyAligned(DType dtype, Shape shape, const void* data, std::size_t byte_size,
                            const std::function<void()>& release);

  std::unique_ptr<TF_Tensor, Deleter> handle_;
  DType dtype_;
  Shape shape_;
};

template <typename T>
Tensor Tensor::FromVector(Shape shape, const std::vector<T>& values) {
  if constexpr (std::is_same_v<T, bool>) {
    // std::vector<bool> is packed bits; unpack to one byte per element.
    std::vector<std::uint8_t> bytes(values.begin(), values.end());
    return FromBytes(DType::kBool, std::move(shape), bytes.data(), bytes.size());
  } else {
    return FromBytes(DTypeOf<T>::value, std::move(shape), values.data(),
                     values.size());
  }
}

template <>
inline std::vector<bool> Tensor::ToVector<bool>() const {
  const bool* first = data<bool>();
  return std::vector<bool>(first, first + num_elements());
}

}  // namespace tfreeze

#endif  // TFREEZE_TENSOR_H_
