#include "validation.h"

#include "call_array.h"
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

// Position of `name` in a signature list, -1 when absent. Callers usually name
// tensors in the signature's own order, so that position is tried before the
// hash: comparing one short string is cheaper than hashing it.
int Find(const std::string& name, std::size_t guess, const std::vector<BoundTensor>& tensors,
         const NameIndex& index) {
  if (guess < tensors.size() && tensors[guess].info.name == name) return static_cast<int>(guess);
  const auto found = index.find(name);
  return found == index.end() ? -1 : found->second;
}

}  // namespace

NameIndex IndexNames(const std::vector<BoundTensor>& tensors) {
  NameIndex index;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    index.emplace(tensors[i].info.name, static_cast<int>(i));
  }
  return index;
}

void CheckFeeds(const std::vector<Feed>& feeds, const std::vector<BoundTensor>& inputs,
                const NameIndex& index, int* indices) {
  CallArray<char> fed(inputs.size(), 0);  // not bool: vector<bool> has no data()
  for (std::size_t i = 0; i < feeds.size(); ++i) {
    const Feed& feed = feeds[i];
    const int position = Find(feed.name, i, inputs, index);
    if (position < 0) {
      throw UnknownNameError("unknown input \"" + feed.name +
                             "\"; inputs are: " + JoinNames(inputs));
    }
    const TensorInfo& info = inputs[position].info;
    if (feed.tensor == nullptr) {
      throw InputError("input \"" + info.name + "\" is fed a null tensor");
    }
    if (fed[position]) {
      throw InputError("input \"" + info.name + "\" is fed more than once");
    }
    if (feed.tensor->dtype() != info.dtype) {
      throw DTypeError(Mismatch(info, *feed.tensor, inputs));
    }
    if (!ShapeFits(info.shape, feed.tensor->shape())) {
      throw ShapeError(Mismatch(info, *feed.tensor, inputs));
    }
    fed[position] = 1;
    indices[i] = position;
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!fed[i] && !inputs[i].info.optional) throw InputError(Missing(inputs[i].info, inputs));
  }
}

std::size_t FetchCount(const std::vector<std::string>& fetches,
                       const std::vector<BoundTensor>& outputs) {
  return fetches.empty() ? outputs.size() : fetches.size();
}

void ResolveFetches(const std::vector<std::string>& fetches,
                    const std::vector<BoundTensor>& outputs, const NameIndex& index,
                    int* indices) {
  if (fetches.empty()) {
    for (std::size_t i = 0; i < outputs.size(); ++i) indices[i] = static_cast<int>(i);
    return;
  }
  for (std::size_t i = 0; i < fetches.size(); ++i) {
    const int position = Find(fetches[i], i, outputs, index);
    if (position < 0) {
      throw UnknownNameError("unknown output \"" + fetches[i] +
                             "\"; outputs are: " + JoinNames(outputs));
    }
    indices[i] = position;
  }
}

}  // namespace tfreeze::internal
