// A :predict request body, read in one pass without a DOM: values go straight
// into each input's TensorBuilder, checked against the model's inputs as
// they come. A 63 MB body of 3.5M rows took ~15x its size as a DOM; read
// this way it takes its decoded values. TF Serving's two forms:
//
//   {"instances": [VALUE, ...]}  or  {"instances": [{"NAME": VALUE, ...}, ...]}
//   {"inputs": VALUE}            or  {"inputs": {"NAME": VALUE, ...}}
//
// with an optional "signature_name" ("" or "serving_default").
//
//   PredictRequest request = ReadPredictRequest(body, model, memory);
//   std::vector<Tensor> outputs = model.Run(request.Feeds());
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "memory_budget.h"
#include "tfreeze/model.h"

namespace tfreeze::serve {

struct PredictRequest {
  bool row_format = false;  // "instances": answered with "predictions"
  std::vector<std::string> names;
  std::vector<Tensor> tensors;
  std::size_t bytes = 0;  // what the tensors count for in the request's memory

  std::vector<Feed> Feeds() const;
};

// Throws InputError with the message a TF Serving client sees. When a body
// has several faults, which one is told: malformed JSON first ("JSON Parse
// error: ..."), then the request's form (not an object, "signature_name",
// "instances" and "inputs" both or neither), then the first bad value in the
// order of the text. MemoryRefusal when the values do not fit `memory`.
PredictRequest ReadPredictRequest(std::string_view body, const Model& model, RequestMemory& memory);

}  // namespace tfreeze::serve
