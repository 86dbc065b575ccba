// Element types of tensors, with the names numpy and TensorFlow use.
#ifndef TFREEZE_DTYPE_H_
#define TFREEZE_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tfreeze {

// Values equal TensorFlow's TF_DataType, so conversion is a cast.
enum class DType : int {
  kFloat32 = 1,
  kFloat64 = 2,
  kInt32 = 3,
  kUInt8 = 4,
  kInt16 = 5,
  kInt8 = 6,
  kString = 7,
  kInt64 = 9,
  kBool = 10,
  kBFloat16 = 14,
  kUInt16 = 17,
  kFloat16 = 19,
  kUInt32 = 22,
  kUInt64 = 23,
};

// "float32", "int64", "string", ...: the names used in signatures and by numpy.
std::string DTypeName(DType dtype);

// Inverse of DTypeName; throws DTypeError listing the valid names.
DType DTypeFromName(const std::string& name);

// Bytes per element; 0 for kString, whose elements have no fixed size.
std::size_t DTypeSize(DType dtype);

// True when `value` is one of the DType enumerators.
bool IsSupportedDType(int value);

// IEEE 754 half precision, stored as its bits; converts to and from float.
struct Float16 {
  std::uint16_t bits = 0;
  static Float16 FromFloat(float value);  // rounds to nearest even
  float ToFloat() const;
};

// bfloat16: the upper 16 bits of a float32; converts to and from float.
struct BFloat16 {
  std::uint16_t bits = 0;
  static BFloat16 FromFloat(float value);  // rounds to nearest even
  float ToFloat() const;
};

// Maps a C++ element type to its DType, for typed tensor access.
template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<std::int8_t> { static constexpr DType value = DType::kInt8; };
template <> struct DTypeOf<std::int16_t> { static constexpr DType value = DType::kInt16; };
template <> struct DTypeOf<std::int32_t> { static constexpr DType value = DType::kInt32; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<std::uint8_t> { static constexpr DType value = DType::kUInt8; };
template <> struct DTypeOf<std::uint16_t> { static constexpr DType value = DType::kUInt16; };
template <> struct DTypeOf<std::uint32_t> { static constexpr DType value = DType::kUInt32; };
template <> struct DTypeOf<std::uint64_t> { static constexpr DType value = DType::kUInt64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::kBool; };
template <> struct DTypeOf<Float16> { static constexpr DType value = DType::kFloat16; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::kBFloat16; };

}  // namespace tfreeze

#endif  // TFREEZE_DTYPE_H_
