#include "tfreeze/dtype.h"

#include <array>
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

bool IsSupportedDType(int value) {
  return Find(static_cast<DType>(value)) != nullptr;
}

}  // namespace tfreeze
