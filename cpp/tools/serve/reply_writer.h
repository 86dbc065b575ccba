// The JSON of a :predict reply, written in pieces: TF Serving's
// {"predictions": [...]} (row format: per instance the output's row, or an
// object of output name -> row when there are several) or {"outputs": ...}
// (columnar). A reply of millions of rows is never whole in memory: as one
// string it was ~2x the request's body, and a copy of it another 2x.
//
//   CheckRowOutputs(model.outputs(), outputs);  // InputError before a byte is sent
//   WritePredictReply(true, model.outputs(), outputs,
//                     [&](std::string_view piece) { return Send(piece); });
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "tfreeze/model.h"

namespace tfreeze::serve {

// Takes the next piece of a reply; false when it cannot (the client is gone).
using ReplySink = std::function<bool(std::string_view piece)>;

// The row format needs every output to have a first dimension, the same for
// all; InputError (naming the output, suggesting the columnar form) if not.
void CheckRowOutputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs);

// Writes the reply through `sink` in pieces of about 64 KiB; false as soon
// as `sink` returns false. Row format: CheckRowOutputs first.
bool WritePredictReply(bool row_format, const std::vector<TensorInfo>& infos,
                       const std::vector<Tensor>& outputs, const ReplySink& sink);

}  // namespace tfreeze::serve
