// Tensors to and from JSON as TF Serving's REST API writes them: nested lists
// in row-major order, {"b64": "..."} for binary strings, and the tokens NaN,
// Infinity and -Infinity for non-finite floats (which strict JSON lacks).
//
//   nlohmann::json body = tfreeze::serve::ParseJson(R"({"inputs": [[1, NaN]]})");
//   tfreeze::Tensor t = tfreeze::serve::TensorFromJson(body["inputs"], info);
//   std::string text;
//   tfreeze::serve::AppendJson(text, t, /*as_bytes=*/false);  // [[1.0,NaN]]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tfreeze/model.h"

namespace tfreeze::serve {

// Parses a request body. Also accepts what TF Serving accepts beyond strict
// JSON: NaN, Infinity, Inf, -Infinity and -Inf as bare number tokens (they
// come back as marker strings that only TensorFromJson reads). Throws
// InputError "JSON Parse error: ..." on malformed text.
nlohmann::json ParseJson(std::string_view text);

// {"b64": "..."}: TF Serving's form of a binary string value.
bool IsBase64Object(const nlohmann::json& value);

// One input's value (a scalar or nested lists) as a tensor of `info`'s dtype.
// Throws InputError naming the input and the offending value.
Tensor TensorFromJson(const nlohmann::json& value, const TensorInfo& info);

// Row format: one value per instance, stacked along a new first dimension.
// Every instance must have the same shape.
Tensor StackInstances(const std::vector<const nlohmann::json*>& instances,
                      const TensorInfo& info);

// Appends `tensor` as JSON (nested lists; a bare value for a scalar). Strings
// are written as {"b64": ...} when `as_bytes` (TF Serving: outputs whose name
// ends in "_bytes"). With `row` >= 0, writes only that slice of the first
// dimension.
void AppendJson(std::string& out, const Tensor& tensor, bool as_bytes, std::int64_t row = -1);

// Appends `text` as a JSON string (quoted and escaped; invalid UTF-8 replaced).
void AppendJsonString(std::string& out, const std::string& text);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet, padding optional; InputError on anything else.
std::string Base64Decode(std::string_view text);

}  // namespace tfreeze::serve
