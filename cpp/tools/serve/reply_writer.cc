#include "reply_writer.h"

#include <string>

#include "json_tensors.h"
#include "tfreeze/errors.h"

namespace tfreeze::serve {
namespace {

constexpr std::size_t kPieceBytes = std::size_t{64} << 10;

// Collects text and hands it to the sink a piece at a time.
class Pieces {
 public:
  explicit Pieces(const ReplySink& sink) : sink_(sink) { text_.reserve(2 * kPieceBytes); }
  std::string& text() { return text_; }
  // Hands over the text so far once it makes a piece (or at the `last`).
  bool Flush(bool last = false) {
    if (!last && text_.size() < kPieceBytes) return true;
    const bool sent = text_.empty() || sink_(text_);
    text_.clear();
    return sent;
  }

 private:
  const ReplySink& sink_;
  std::string text_;
};

bool AsBytes(const TensorInfo& output) {
  const std::string suffix = "_bytes";
  return output.dtype == DType::kString && output.name.size() >= suffix.size() &&
         output.name.compare(output.name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<TensorJson> JsonOf(const std::vector<TensorInfo>& infos,
                               const std::vector<Tensor>& outputs) {
  std::vector<TensorJson> values;
  values.reserve(outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i)
    values.emplace_back(outputs[i], AsBytes(infos[i]));
  return values;
}

// "name": for each output, quoted once.
std::vector<std::string> Keys(const std::vector<TensorInfo>& infos) {
  std::vector<std::string> keys;
  for (const auto& info : infos) {
    std::string key;
    AppendJsonString(key, info.name);
    keys.push_back(key + ':');
  }
  return keys;
}

bool WriteRows(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs,
               Pieces& out) {
  const std::vector<TensorJson> values = JsonOf(infos, outputs);
  const std::vector<std::string> keys = Keys(infos);
  const bool objects = outputs.size() > 1;
  const std::int64_t batch = outputs.empty() ? 0 : outputs[0].shape()[0];
  std::string& text = out.text();
  text += "{\"predictions\":[";
  for (std::int64_t row = 0; row < batch; ++row) {
    if (row > 0) text += ',';
    if (objects) text += '{';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (objects) text += (i > 0 ? "," : "") + keys[i];
      values[i].Append(text, row);
    }
    if (objects) text += '}';
    if (!out.Flush()) return false;
  }
  text += "]}";
  return out.Flush(/*last=*/true);
}

// {"outputs": VALUE} for one output, {"outputs": {"name": VALUE, ...}} for
// several; each VALUE written a slice of its first dimension at a time.
bool WriteColumns(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs,
                  Pieces& out) {
  const std::vector<TensorJson> values = JsonOf(infos, outputs);
  const std::vector<std::string> keys = Keys(infos);
  const bool objects = outputs.size() > 1;
  std::string& text = out.text();
  text += objects ? "{\"outputs\":{" : "{\"outputs\":";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (objects) text += (i > 0 ? "," : "") + keys[i];
    if (outputs[i].shape().empty()) {
      values[i].Append(text);
      continue;
    }
    text += '[';
    for (std::int64_t row = 0; row < outputs[i].shape()[0]; ++row) {
      if (row > 0) text += ',';
      values[i].Append(text, row);
      if (!out.Flush()) return false;
    }
    text += ']';
  }
  text += objects ? "}}" : "}";
  return out.Flush(/*last=*/true);
}

}  // namespace

void CheckRowOutputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs) {
  std::int64_t batch = -1;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].shape().empty()) {
      throw InputError("output \"" + infos[i].name + "\" is a scalar, which has no rows; " +
                       "send the request in columnar form ('inputs')");
    }
    if (batch >= 0 && outputs[i].shape()[0] != batch) {
      throw InputError("outputs differ in their first dimension (\"" + infos[i].name +
                       "\": " + std::to_string(outputs[i].shape()[0]) + ", expected " +
                       std::to_string(batch) + "); send the request in columnar form ('inputs')");
    }
    batch = outputs[i].shape()[0];
  }
}

bool WritePredictReply(bool row_format, const std::vector<TensorInfo>& infos,
                       const std::vector<Tensor>& outputs, const ReplySink& sink) {
  Pieces out(sink);
  return row_format ? WriteRows(infos, outputs, out) : WriteColumns(infos, outputs, out);
}

}  // namespace tfreeze::serve
