#include "tfreeze/dtype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

struct DTypeEntry {
  DType dtype;
  const char* name;
  std::size_t size;
};

constexpr std::array<DTypeEntry, 14> kDTypes = {{
    {DType::kFloat32, "float32", 4},  {DType::kFloat64, "float64", 8},
    {DType::kFloat16, "float16", 2},  {DType::kBFloat16, "bfloat16", 2},
    {DType::kInt8, "int8", 1},        {DType::kInt16, "int16", 2},
    {DType::kInt32, "int32", 4},      {DType::kInt64, "int64", 8},
    {DType::kUInt8, "uint8", 1},      {DType::kUInt16, "uint16", 2},
    {DType::kUInt32, "uint32", 4},    {DType::kUInt64, "uint64", 8},
    {DType::kBool, "bool", 1},        {DType::kString, "string", 0},
}};

const DTypeEntry* Find(DType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return &entry;
  }
  return nullptr;
}

std::string ValidNames() {
  std::string names;
  for (const auto& entry : kDTypes) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

}  // namespace

std::string DTypeName(DType dtype) {
  const DTypeEntry* entry = Find(dtype);
  if (entry == nullptr) {
    return "unsupported(" + std::to_string(static_cast<int>(dtype)) + ")";
  }
  return entry->name;
}

DType DTypeFromName(const std::string& name) {
  for (const auto& entry : kDTypes) {
    if (name == entry.name) return entry.dtype;
  }
  throw DTypeError("unknown dtype \"" + name + "\"; valid dtypes are: " +
                   ValidNames());
}

std::size_t DTypeSize(DType dtype) {
  const DTypeEntry* entry = Find(dtype);
  return entry == nullptr ? 0 : entry->size;
}

namespace {

std::uint32_t FloatBits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float BitsToFloat(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

}  // namespace

BFloat16 BFloat16::FromFloat(float value) {
  const std::uint32_t bits = FloatBits(value);
  if (std::isnan(value)) return BFloat16{static_cast<std::uint16_t>((bits >> 16) | 0x40)};
  const std::uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);  // to nearest, ties to even
  return BFloat16{static_cast<std::uint16_t>((bits + rounding) >> 16)};
}

float BFloat16::ToFloat() const { return BitsToFloat(static_cast<std::uint32_t>(bits) << 16); }

Float16 Float16::FromFloat(float value) {
  const std::uint32_t bits = FloatBits(value);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
  const std::uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) return Float16{static_cast<std::uint16_t>(sign | 0x7E00)};  // NaN
  if (magnitude >= 0x477FF000) return Float16{static_cast<std::uint16_t>(sign | 0x7C00)};  // inf
  if (magnitude < 0x38800000) {  // below the smallest normal half: subnormal or zero
    const float scaled = BitsToFloat(magnitude) * 16777216.0f;  // 2^24: units of 2^-24
    return Float16{static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(
                                                         std::nearbyint(scaled)))};
  }
  // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits.
  const std::uint32_t rebiased = magnitude - (112u << 23);
  const std::uint32_t rounding = 0x0FFF + ((rebiased >> 13) & 1);
  return Float16{static_cast<std::uint16_t>(sign | ((rebiased + rounding) >> 13))};
}

float Float16::ToFloat() const {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1F;
  const std::uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float value = static_cast<float>(mantissa) / 16777216.0f;
    return sign ? -value : value;
  }
  if (exponent == 0x1F) return BitsToFloat(sign | 0x7F800000 | (mantissa << 13));
  return BitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

bool IsSupportedDType(int value) {
  return Find(static_cast<DType>(value)) != nullptr;
}

}  // namespace tfreeze
