#include "json_tensors.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

#include "memory_budget.h"
#include "tensor_builder.h"
#include "tfreeze/errors.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

// What the bare tokens are read as: strings no client sends by accident
// (they start with a NUL character), quoted as JSON.
constexpr std::string_view kQuotedNaN = "\"\\u0000NaN\"";
constexpr std::string_view kQuotedInfinity = "\"\\u0000Infinity\"";
constexpr std::string_view kQuotedMinusInfinity = "\"\\u0000-Infinity\"";

bool StartsWith(std::string_view text, std::string_view word) {
  return text.substr(0, word.size()) == word;
}

// Feeds a DOM value to `builder` in document order, as the parser would; a
// list the builder refuses is given its items but not their contents.
void Walk(const json& value, TensorBuilder& builder) {
  if (!value.is_array()) return builder.Leaf(value);
  builder.StartList();
  for (const json& item : value) {
    if (builder.skipping() && item.is_array()) {
      builder.StartList();
      builder.EndList();
    } else {
      Walk(item, builder);
    }
  }
  builder.EndList();
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

// Writes elements [index, index + the product of `dims`) as nested lists.
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

NonFiniteQuoting::NonFiniteQuoting(std::string_view text, std::size_t at) : text_(text), at_(at) {
  ReplaceTokenHere();
}

NonFiniteQuoting& NonFiniteQuoting::operator++() {
  if (!pending_.empty()) {
    pending_.remove_prefix(1);
    if (pending_.empty()) ReplaceTokenHere();
    return *this;
  }
  const char c = text_[at_++];
  if (!in_string_) {
    in_string_ = c == '"';
  } else if (escaped_) {
    escaped_ = false;
  } else if (c == '\\') {
    escaped_ = true;
  } else if (c == '"') {
    in_string_ = false;
  }
  ReplaceTokenHere();
  return *this;
}

void NonFiniteQuoting::ReplaceTokenHere() {
  if (in_string_ || at_ >= text_.size()) return;
  const std::string_view rest = text_.substr(at_);
  const bool minus = StartsWith(rest, "-Inf");
  const std::string_view word = rest.substr(minus ? 1 : 0);
  if (!minus && StartsWith(word, "NaN")) {
    pending_ = kQuotedNaN;
    at_ += 3;
  } else if (StartsWith(word, "Inf")) {
    pending_ = minus ? kQuotedMinusInfinity : kQuotedInfinity;
    at_ += (minus ? 1 : 0) + (StartsWith(word, "Infinity") ? 8 : 3);
  }
}

std::optional<double> NonFiniteMarker(const std::string& text) {
  if (text.empty() || text[0] != '\0') return std::nullopt;
  const std::string_view word = std::string_view(text).substr(1);
  if (word == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (word == "Infinity") return std::numeric_limits<double>::infinity();
  if (word == "-Infinity") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

std::string ParseErrorMessage(const std::string& what) {
  const auto bracket = what.find("] ");  // "[json.exception.parse_error.101] parse error at ..."
  return "JSON Parse error: " + (bracket == std::string::npos ? what : what.substr(bracket + 2));
}

nlohmann::json ParseJson(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InputError("JSON Parse error: the request body is empty");
  }
  try {
    if (text.find_first_of("NI") == std::string_view::npos) return json::parse(text);
    return json::parse(NonFiniteQuoting(text, 0), NonFiniteQuoting(text, text.size()));
  } catch (const json::parse_error& e) {
    throw InputError(ParseErrorMessage(e.what()));
  }
}

Tensor TensorFromJson(const nlohmann::json& value, const TensorInfo& info) {
  RequestMemory memory(UnlimitedBudget());
  TensorBuilder builder(info, memory, /*stacked=*/false);
  Walk(value, builder);
  return builder.Finish();
}

TensorJson::TensorJson(const Tensor& tensor, bool as_bytes)
    : tensor_(tensor), as_bytes_(as_bytes), dims_(tensor.shape()) {
  if (!dims_.empty()) {
    row_dims_.assign(dims_.begin() + 1, dims_.end());
    row_size_ = NumElements(row_dims_);
  }
  if (tensor.dtype() == DType::kString) strings_ = tensor.ToStrings();
}

void TensorJson::Append(std::string& out, std::int64_t row) const {
  const Shape& dims = row >= 0 ? row_dims_ : dims_;
  std::int64_t index = row >= 0 ? row * row_size_ : 0;
  const void* data = tensor_.raw_data();
  const auto nested = [&](auto* type_tag, const auto& write) {
    using T = std::remove_pointer_t<decltype(type_tag)>;
    const T* values = static_cast<const T*>(data);
    AppendNested(out, dims, 0, index, [&](std::int64_t i) { write(values[i]); });
  };
  const auto floats = [&](auto v) { AppendFloat(out, v, true); };
  const auto integers = [&](auto v) { AppendInteger(out, v); };
  switch (tensor_.dtype()) {
    case DType::kFloat32:
      return nested((float*)nullptr, floats);
    case DType::kFloat64:
      return nested((double*)nullptr, [&](double v) { AppendFloat(out, v, false); });
    case DType::kFloat16:
      return nested((Float16*)nullptr, [&](Float16 v) { AppendFloat(out, v.ToFloat(), true); });
    case DType::kBFloat16:
      return nested((BFloat16*)nullptr, [&](BFloat16 v) { AppendFloat(out, v.ToFloat(), true); });
    case DType::kBool:
      return nested((bool*)nullptr, [&](bool v) { out += v ? "true" : "false"; });
    case DType::kInt8:
      return nested((std::int8_t*)nullptr, integers);
    case DType::kInt16:
      return nested((std::int16_t*)nullptr, integers);
    case DType::kInt32:
      return nested((std::int32_t*)nullptr, integers);
    case DType::kInt64:
      return nested((std::int64_t*)nullptr, integers);
    case DType::kUInt8:
      return nested((std::uint8_t*)nullptr, integers);
    case DType::kUInt16:
      return nested((std::uint16_t*)nullptr, integers);
    case DType::kUInt32:
      return nested((std::uint32_t*)nullptr, integers);
    case DType::kUInt64:
      return nested((std::uint64_t*)nullptr, integers);
    case DType::kString:
      return AppendNested(out, dims, 0, index, [&](std::int64_t i) {
        if (!as_bytes_) return AppendJsonString(out, strings_[i]);
        out += "{\"b64\":\"" + Base64Encode(strings_[i]) + "\"}";
      });
  }
  throw Error(Code::kUnimplemented, "cannot write " + DTypeName(tensor_.dtype()) + " as JSON");
}

void AppendJson(std::string& out, const Tensor& tensor, bool as_bytes, std::int64_t row) {
  TensorJson(tensor, as_bytes).Append(out, row);
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
