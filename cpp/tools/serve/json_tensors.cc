#include "json_tensors.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

#include "tfreeze/errors.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

// What ParseJson turns the non-finite tokens into: strings no client sends
// by accident (they start with a NUL character).
const std::string kNaN = std::string(1, '\0') + "NaN";
const std::string kInfinity = std::string(1, '\0') + "Infinity";
const std::string kMinusInfinity = std::string(1, '\0') + "-Infinity";

// TensorFlow's limit on a tensor's rank; deeper nesting is refused before
// anything recurses over it.
constexpr std::size_t kMaxRank = 254;

bool StartsWith(std::string_view text, std::size_t at, std::string_view word) {
  return text.substr(at, word.size()) == word;
}

// Replaces the bare tokens outside strings with quoted markers; strict JSON
// passes through unchanged.
std::string QuoteNonFiniteTokens(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    const bool minus = c == '-' && StartsWith(text, i + 1, "Inf");
    const std::size_t at = minus ? i + 1 : i;
    std::size_t length = 0;
    if (!minus && StartsWith(text, at, "NaN")) {
      out += "\"\\u0000NaN\"";
      length = 3;
    } else if (StartsWith(text, at, "Inf")) {
      out += minus ? "\"\\u0000-Infinity\"" : "\"\\u0000Infinity\"";
      length = StartsWith(text, at, "Infinity") ? 8 : 3;
    }
    if (length > 0) {
      i = at + length - 1;
    } else {
      out += c;
    }
  }
  return out;
}

// A leaf value as an error message shows it (leaves only: dumping a deep list
// would recurse).
std::string Shown(const json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == kNaN) return "NaN";
    if (text == kInfinity) return "Infinity";
    if (text == kMinusInfinity) return "-Infinity";
  }
  if (value.is_array()) return "a list";
  if (value.is_object()) return IsBase64Object(value) ? "{\"b64\": ...}" : "an object";
  std::string shown = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return shown.size() > 60 ? shown.substr(0, 57) + "..." : shown;
}

[[noreturn]] void Refuse(const TensorInfo& info, const json& value, const std::string& why) {
  throw InputError("input \"" + info.name + "\": JSON value " + Shown(value) + " " + why);
}

double FloatValue(const json& value, const TensorInfo& info) {
  if (value.is_number()) {
    const double number = value.get<double>();
    if (info.dtype != DType::kFloat64 && std::isfinite(number) &&
        std::abs(number) > std::numeric_limits<float>::max()) {
      Refuse(info, value, "does not fit in " + DTypeName(info.dtype));
    }
    return number;
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == kNaN) return std::numeric_limits<double>::quiet_NaN();
    if (text == kInfinity) return std::numeric_limits<double>::infinity();
    if (text == kMinusInfinity) return -std::numeric_limits<double>::infinity();
  }
  Refuse(info, value, "is not a number; expected " + DTypeName(info.dtype));
}

template <typename T>
T IntegerValue(const json& value, const TensorInfo& info) {
  if (!value.is_number_integer()) {
    Refuse(info, value, "is not an integer; expected " + DTypeName(info.dtype));
  }
  using Limits = std::numeric_limits<T>;
  if (value.is_number_unsigned()) {  // nlohmann's type for any integer >= 0
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(Limits::max())) {
      Refuse(info, value, "is out of range for " + DTypeName(info.dtype));
    }
    return static_cast<T>(number);
  }
  const auto number = value.get<std::int64_t>();  // negative
  if (!Limits::is_signed || number < static_cast<std::int64_t>(Limits::min())) {
    Refuse(info, value, "is out of range for " + DTypeName(info.dtype));
  }
  return static_cast<T>(number);
}

std::string StringValue(const json& value, const TensorInfo& info) {
  if (IsBase64Object(value)) {
    try {
      return Base64Decode(value["b64"].get_ref<const std::string&>());
    } catch (const InputError& e) {
      Refuse(info, value, e.what());
    }
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text != kNaN && text != kInfinity && text != kMinusInfinity) return text;
  }
  Refuse(info, value, "is not a string or {\"b64\": ...}");
}

template <typename T, typename Convert>
Tensor Fill(const TensorInfo& info, Shape shape, const std::vector<const json*>& leaves,
            Convert convert) {
  Tensor tensor(info.dtype, std::move(shape));
  T* data = static_cast<T*>(tensor.raw_data());
  for (std::size_t i = 0; i < leaves.size(); ++i) data[i] = convert(*leaves[i]);
  return tensor;
}

template <typename T>
Tensor FillIntegers(const TensorInfo& info, Shape shape, const std::vector<const json*>& leaves) {
  return Fill<T>(info, std::move(shape), leaves,
                 [&](const json& v) { return IntegerValue<T>(v, info); });
}

Tensor FromLeaves(const TensorInfo& info, Shape shape, const std::vector<const json*>& leaves) {
  const auto as_double = [&](const json& v) { return FloatValue(v, info); };
  const auto as_float = [&](const json& v) { return static_cast<float>(FloatValue(v, info)); };
  switch (info.dtype) {
    case DType::kFloat32: return Fill<float>(info, std::move(shape), leaves, as_float);
    case DType::kFloat64: return Fill<double>(info, std::move(shape), leaves, as_double);
    case DType::kFloat16:
      return Fill<Float16>(info, std::move(shape), leaves,
                           [&](const json& v) { return Float16::FromFloat(as_float(v)); });
    case DType::kBFloat16:
      return Fill<BFloat16>(info, std::move(shape), leaves,
                            [&](const json& v) { return BFloat16::FromFloat(as_float(v)); });
    case DType::kInt8: return FillIntegers<std::int8_t>(info, std::move(shape), leaves);
    case DType::kInt16: return FillIntegers<std::int16_t>(info, std::move(shape), leaves);
    case DType::kInt32: return FillIntegers<std::int32_t>(info, std::move(shape), leaves);
    case DType::kInt64: return FillIntegers<std::int64_t>(info, std::move(shape), leaves);
    case DType::kUInt8: return FillIntegers<std::uint8_t>(info, std::move(shape), leaves);
    case DType::kUInt16: return FillIntegers<std::uint16_t>(info, std::move(shape), leaves);
    case DType::kUInt32: return FillIntegers<std::uint32_t>(info, std::move(shape), leaves);
    case DType::kUInt64: return FillIntegers<std::uint64_t>(info, std::move(shape), leaves);
    case DType::kBool:
      return Fill<bool>(info, std::move(shape), leaves, [&](const json& v) {
        if (!v.is_boolean()) Refuse(info, v, "is not true or false");
        return v.get<bool>();
      });
    case DType::kString: {
      std::vector<std::string> strings;
      strings.reserve(leaves.size());
      for (const json* leaf : leaves) strings.push_back(StringValue(*leaf, info));
      return Tensor::FromStrings(std::move(shape), strings);
    }
  }
  throw InputError("input \"" + info.name + "\": dtype " + DTypeName(info.dtype) +
                   " cannot be given as JSON");
}

// The shape nested lists describe, read along their first elements.
Shape ShapeOf(const json& value, const TensorInfo& info) {
  Shape shape;
  for (const json* at = &value; at->is_array(); at = &(*at)[0]) {
    if (shape.size() == kMaxRank) {
      throw InputError("input \"" + info.name + "\": lists nested deeper than " +
                       std::to_string(kMaxRank) + " levels");
    }
    shape.push_back(static_cast<std::int64_t>(at->size()));
    if (at->empty()) break;
  }
  return shape;
}

// Appends the leaves of `value` in row-major order, checking that the lists
// are as long as `shape` says at every level (no ragged lists).
void Collect(const json& value, const Shape& shape, std::size_t level,
             std::vector<const json*>& leaves, const TensorInfo& info) {
  if (!value.is_array()) {
    if (level != shape.size()) {
      Refuse(info, value, "found at depth " + std::to_string(level) + " of the nested lists; " +
                              "values belong at depth " + std::to_string(shape.size()));
    }
    leaves.push_back(&value);
    return;
  }
  if (level >= shape.size() || static_cast<std::int64_t>(value.size()) != shape[level]) {
    throw InputError("input \"" + info.name + "\": a list of " + std::to_string(value.size()) +
                     " at depth " + std::to_string(level) + " where " +
                     (level >= shape.size() ? "a value" : std::to_string(shape[level]) + " items") +
                     " belong");
  }
  for (const json& item : value) Collect(item, shape, level + 1, leaves, info);
}

void AppendFloat(std::string& out, double value, bool single) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Infinity" : "Infinity";
  } else {
    char buffer[40];
    // Shortest text that reads back as the same float (or double): a float32
    // 0.1 is written 0.1, not 0.10000000149011612.
    const auto end = single ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(value)).ptr
                            : std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    const std::string_view text(buffer, end - buffer);
    out += text;
    // TF Serving writes whole floats as 1.0 so clients see a float.
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
  }
}

template <typename T>
void AppendInteger(std::string& out, T value) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

// Writes elements [first, first + count of `dims`) as nested lists.
template <typename Write>
void AppendNested(std::string& out, const Shape& dims, std::size_t level, std::int64_t& index,
                  const Write& write) {
  if (level == dims.size()) {
    write(index++);
    return;
  }
  out += '[';
  for (std::int64_t i = 0; i < dims[level]; ++i) {
    if (i > 0) out += ',';
    AppendNested(out, dims, level + 1, index, write);
  }
  out += ']';
}

}  // namespace

nlohmann::json ParseJson(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InputError("JSON Parse error: the request body is empty");
  }
  try {
    const bool plain = text.find_first_of("NI") == std::string_view::npos;
    return plain ? json::parse(text) : json::parse(QuoteNonFiniteTokens(text));
  } catch (const json::parse_error& e) {
    std::string message = e.what();
    const auto bracket = message.find("] ");
    if (bracket != std::string::npos) message = message.substr(bracket + 2);
    throw InputError("JSON Parse error: " + message);
  }
}

bool IsBase64Object(const nlohmann::json& value) {
  return value.is_object() && value.size() == 1 && value.contains("b64") &&
         value["b64"].is_string();
}

Tensor TensorFromJson(const nlohmann::json& value, const TensorInfo& info) {
  const Shape shape = ShapeOf(value, info);
  std::vector<const json*> leaves;
  try {
    Collect(value, shape, 0, leaves, info);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (nested lists must be rectangular)");
  }
  return FromLeaves(info, shape, leaves);
}

Tensor StackInstances(const std::vector<const nlohmann::json*>& instances,
                      const TensorInfo& info) {
  Shape shape = ShapeOf(*instances.at(0), info);
  std::vector<const json*> leaves;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    try {
      Collect(*instances[i], shape, 0, leaves, info);
    } catch (const InputError& e) {
      throw InputError("instance " + std::to_string(i) + ": " + e.what() +
                       " (every instance must have the shape of the first, " +
                       ShapeToString(shape) + ")");
    }
  }
  shape.insert(shape.begin(), static_cast<std::int64_t>(instances.size()));
  return FromLeaves(info, shape, leaves);
}

void AppendJson(std::string& out, const Tensor& tensor, bool as_bytes, std::int64_t row) {
  Shape dims = tensor.shape();
  std::int64_t index = 0;
  if (row >= 0) {
    dims.erase(dims.begin());
    index = row * NumElements(dims);
  }
  const void* data = tensor.raw_data();
  const auto typed = [&](auto* type_tag) {
    using T = std::remove_pointer_t<decltype(type_tag)>;
    return static_cast<const T*>(data);
  };
  switch (tensor.dtype()) {
    case DType::kFloat32: {
      const float* v = typed((float*)nullptr);
      return AppendNested(out, dims, 0, index, [&](std::int64_t i) { AppendFloat(out, v[i], true); });
    }
    case DType::kFloat64: {
      const double* v = typed((double*)nullptr);
      return AppendNested(out, dims, 0, index, [&](std::int64_t i) { AppendFloat(out, v[i], false); });
    }
    case DType::kFloat16: {
      const Float16* v = typed((Float16*)nullptr);
      return AppendNested(out, dims, 0, index,
                          [&](std::int64_t i) { AppendFloat(out, v[i].ToFloat(), true); });
    }
    case DType::kBFloat16: {
      const BFloat16* v = typed((BFloat16*)nullptr);
      return AppendNested(out, dims, 0, index,
                          [&](std::int64_t i) { AppendFloat(out, v[i].ToFloat(), true); });
    }
    case DType::kBool: {
      const bool* v = typed((bool*)nullptr);
      return AppendNested(out, dims, 0, index,
                          [&](std::int64_t i) { out += v[i] ? "true" : "false"; });
    }
    case DType::kString: {
      const std::vector<std::string> strings = tensor.ToStrings();
      return AppendNested(out, dims, 0, index, [&](std::int64_t i) {
        if (!as_bytes) return AppendJsonString(out, strings[i]);
        out += "{\"b64\":\"" + Base64Encode(strings[i]) + "\"}";
      });
    }
    default: break;
  }
  const auto integers = [&](auto* type_tag) {
    const auto* v = typed(type_tag);
    AppendNested(out, dims, 0, index, [&](std::int64_t i) { AppendInteger(out, v[i]); });
  };
  switch (tensor.dtype()) {
    case DType::kInt8: return integers((std::int8_t*)nullptr);
    case DType::kInt16: return integers((std::int16_t*)nullptr);
    case DType::kInt32: return integers((std::int32_t*)nullptr);
    case DType::kInt64: return integers((std::int64_t*)nullptr);
    case DType::kUInt8: return integers((std::uint8_t*)nullptr);
    case DType::kUInt16: return integers((std::uint16_t*)nullptr);
    case DType::kUInt32: return integers((std::uint32_t*)nullptr);
    case DType::kUInt64: return integers((std::uint64_t*)nullptr);
    default: throw Error(Code::kUnimplemented, "cannot write " + DTypeName(tensor.dtype()) + " as JSON");
  }
}

void AppendJsonString(std::string& out, const std::string& text) {
  out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 63] : '=';
    }
  }
  return out;
}

std::string Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t group = 0;
  int bits = 0;
  for (const char c : text) {
    const char* found = std::char_traits<char>::find(kAlphabet, 64, c);
    if (found == nullptr) throw InputError("is not valid base64 (standard alphabet A-Z a-z 0-9 + /)");
    group = (group << 6) | static_cast<std::uint32_t>(found - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  if (text.size() % 4 == 1) throw InputError("is not valid base64 (truncated)");
  return out;
}

}  // namespace tfreeze::serve
