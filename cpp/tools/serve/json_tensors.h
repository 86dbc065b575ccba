// Tensors to and from JSON as TF Serving's REST API writes them: nested lists
// in row-major order, {"b64": "..."} for binary strings, and the tokens NaN,
// Infinity and -Infinity for non-finite floats (which strict JSON lacks).
//
//   nlohmann::json body = tfreeze::serve::ParseJson(R"({"inputs": [[1, NaN]]})");
//   tfreeze::Tensor t = tfreeze::serve::TensorFromJson(body["inputs"], info);
//   std::string text;
//   tfreeze::serve::AppendJson(text, t, /*as_bytes=*/false);  // [[1.0,NaN]]
//
// The server itself reads request bodies without a DOM (predict_request.h):
// ParseJsonEvents and TensorBuilder (tensor_builder.h) are what both share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tfreeze/model.h"

namespace tfreeze::serve {

// Reads `text` as the characters nlohmann's parser is given: the bare tokens
// NaN, Infinity, Inf, -Infinity and -Inf outside strings come out as quoted
// marker strings (which NonFiniteMarker recognizes), everything else as it
// is. An input iterator, so a large body is never copied to rewrite it.
class NonFiniteQuoting {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = char;

  NonFiniteQuoting(std::string_view text, std::size_t at);
  char operator*() const { return pending_.empty() ? text_[at_] : pending_.front(); }
  NonFiniteQuoting& operator++();
  bool operator==(const NonFiniteQuoting& other) const {
    return at_ == other.at_ && pending_.size() == other.pending_.size();
  }
  bool operator!=(const NonFiniteQuoting& other) const { return !(*this == other); }

 private:
  void ReplaceTokenHere();

  std::string_view text_;
  std::size_t at_;
  std::string_view pending_;  // the rest of a marker being read out
  bool in_string_ = false;
  bool escaped_ = false;
};

// The value of a marker NonFiniteQuoting put in place of a bare token.
std::optional<double> NonFiniteMarker(const std::string& text);

// "JSON Parse error: ..." from nlohmann's exception text.
std::string ParseErrorMessage(const std::string& what);

// Runs nlohmann's SAX parser over `text`, with the non-finite tokens as
// marker strings. False once it has called handler->parse_error.
template <typename Sax>
bool ParseJsonEvents(std::string_view text, Sax* handler) {
  if (text.find_first_of("NI") == std::string_view::npos) {  // no token to rewrite
    return nlohmann::json::sax_parse(text.begin(), text.end(), handler);
  }
  return nlohmann::json::sax_parse(NonFiniteQuoting(text, 0), NonFiniteQuoting(text, text.size()),
                                   handler);
}

// Parses a request body into a DOM, reading it as ParseJsonEvents does:
// beyond strict JSON, the bare tokens TF Serving accepts. Throws InputError
// "JSON Parse error: ..." on malformed text.
nlohmann::json ParseJson(std::string_view text);

// One input's value (a scalar or nested lists) as a tensor of `info`'s dtype.
// Throws InputError naming the input and the offending value.
Tensor TensorFromJson(const nlohmann::json& value, const TensorInfo& info);

// One tensor as JSON text, whole or a slice of its first dimension at a
// time (a large reply is written row by row; strings are read out once).
class TensorJson {
 public:
  // Strings are written as {"b64": ...} when `as_bytes` (TF Serving: outputs
  // whose name ends in "_bytes").
  TensorJson(const Tensor& tensor, bool as_bytes);
  // Appends nested lists (a bare value for a scalar); with `row` >= 0 only
  // that slice of the first dimension.
  void Append(std::string& out, std::int64_t row = -1) const;

 private:
  const Tensor& tensor_;
  bool as_bytes_;
  Shape dims_;      // of the whole tensor
  Shape row_dims_;  // of one slice of the first dimension
  std::int64_t row_size_ = 0;
  std::vector<std::string> strings_;  // kString only
};

// TensorJson(tensor, as_bytes).Append(out, row).
void AppendJson(std::string& out, const Tensor& tensor, bool as_bytes, std::int64_t row = -1);

// Appends `text` as a JSON string (quoted and escaped; invalid UTF-8 replaced).
void AppendJsonString(std::string& out, const std::string& text);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet, padding optional; InputError on anything else.
std::string Base64Decode(std::string_view text);

}  // namespace tfreeze::serve
