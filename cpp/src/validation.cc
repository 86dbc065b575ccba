#include "validation.h"

#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

std::string JoinNames(const std::vector<BoundTensor>& tensors) {
  std::string names;
  for (const auto& tensor : tensors) {
    if (!names.empty()) names += ", ";
    names += tensor.info.name;
  }
  return names.empty() ? "(none)" : names;
}

// Names of the inputs whose optional flag equals `optional`, "" when none.
std::string InputNames(const std::vector<BoundTensor>& inputs, bool optional) {
  std::string names;
  for (const auto& input : inputs) {
    if (input.info.optional != optional) continue;
    if (!names.empty()) names += ", ";
    names += input.info.name;
  }
  return names;
}

// `missing input "x"; required inputs are: x, y; optional inputs are: z`, the
// optional part only when the model has some: they are the ones a caller may skip.
std::string Missing(const TensorInfo& info, const std::vector<BoundTensor>& inputs) {
  std::string message =
      "missing input \"" + info.name + "\"; required inputs are: " + InputNames(inputs, false);
  const std::string optional = InputNames(inputs, true);
  if (!optional.empty()) message += "; optional inputs are: " + optional;
  return message;
}

bool ShapeFits(const Shape& declared, const Shape& actual) {
  if (declared.size() != actual.size()) return false;
  for (std::size_t i = 0; i < declared.size(); ++i) {
    if (declared[i] >= 0 && declared[i] != actual[i]) return false;
  }
  return true;
}

// `input "image": expected float32 [?,28,28,1], got int32 [28,28]; inputs are: ...`
std::string Mismatch(const TensorInfo& info, const Tensor& tensor,
                     const std::vector<BoundTensor>& inputs) {
  return "input \"" + info.name + "\": expected " + DTypeName(info.dtype) + " " +
         ShapeToString(info.shape) + ", got " + DTypeName(tensor.dtype()) + " " +
         ShapeToString(tensor.shape()) + "; inputs are: " + JoinNames(inputs);
}

}  // namespace

NameIndex IndexNames(const std::vector<BoundTensor>& tensors) {
  NameIndex index;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    index.emplace(tensors[i].info.name, static_cast<int>(i));
  }
  return index;
}

std::vector<int> CheckFeeds(const std::vector<Feed>& feeds,
                            const std::vector<BoundTensor>& inputs,
                            const NameIndex& index) {
  std::vector<int> indices;
  std::vector<bool> fed(inputs.size(), false);
  for (const Feed& feed : feeds) {
    auto found = index.find(feed.name);
    if (found == index.end()) {
      throw UnknownNameError("unknown input \"" + feed.name +
                             "\"; inputs are: " + JoinNames(inputs));
    }
    const TensorInfo& info = inputs[found->second].info;
    if (feed.tensor == nullptr) {
      throw InputError("input \"" + info.name + "\" is fed a null tensor");
    }
    if (fed[found->second]) {
      throw InputError("input \"" + info.name + "\" is fed more than once");
    }
    if (feed.tensor->dtype() != info.dtype) {
      throw DTypeError(Mismatch(info, *feed.tensor, inputs));
    }
    if (!ShapeFits(info.shape, feed.tensor->shape())) {
      throw ShapeError(Mismatch(info, *feed.tensor, inputs));
    }
    fed[found->second] = true;
    indices.push_back(found->second);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!fed[i] && !inputs[i].info.optional) throw InputError(Missing(inputs[i].info, inputs));
  }
  return indices;
}

std::vector<int> ResolveFetches(const std::vector<std::string>& fetches,
                                const std::vector<BoundTensor>& outputs,
                                const NameIndex& index) {
  std::vector<int> indices;
  if (fetches.empty()) {
    for (std::size_t i = 0; i < outputs.size(); ++i) indices.push_back(static_cast<int>(i));
    return indices;
  }
  for (const std::string& name : fetches) {
    auto found = index.find(name);
    if (found == index.end()) {
      throw UnknownNameError("unknown output \"" + name +
                             "\"; outputs are: " + JoinNames(outputs));
    }
    indices.push_back(found->second);
  }
  return indices;
}

}  // namespace tfreeze::internal
