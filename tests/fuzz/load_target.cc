// Fuzz target: Model::FromBytes on arbitrary bytes, then Run with no feeds
// when the signature has no required input, else with zero-filled feeds of
// the signature's shapes (open dimensions as 1). Unsafe ops stay refused, as
// for any untrusted file.
#include <algorithm>
#include <string_view>

#include "fuzz_target.h"
#include "graph_builder.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze::fuzz {
namespace {

// Feeds above this many elements are skipped: the target looks for crashes,
// not for how long TensorFlow takes on a large zero tensor.
constexpr std::int64_t kMaxFeedElements = 1 << 16;

bool ZeroFeeds(const Model& model, std::vector<Tensor>& storage) {
  for (const TensorInfo& input : model.inputs()) {
    if (input.optional) continue;
    Shape shape = input.shape;
    std::int64_t elements = 1;
    for (std::int64_t& dim : shape) {
      if (dim < 0) dim = 1;
      if (dim > kMaxFeedElements) return false;
      elements *= dim;
      if (elements > kMaxFeedElements) return false;
    }
    storage.emplace_back(input.dtype, shape);
  }
  return true;
}

}  // namespace

Outcome FuzzOne(const std::uint8_t* data, std::size_t size) {
  try {
    Options options;
    options.intra_op_threads = 1;
    options.inter_op_threads = 1;
    Model model = Model::FromBytes(
        std::string_view(reinterpret_cast<const char*>(data), size), options);
    std::vector<Tensor> storage;
    if (!ZeroFeeds(model, storage)) return Outcome::kTypedError;
    std::vector<Feed> feeds;
    std::size_t next = 0;
    for (const TensorInfo& input : model.inputs()) {
      if (!input.optional) feeds.emplace_back(input.name, storage[next++]);
    }
    model.Run(feeds);
    return Outcome::kRan;
  } catch (const Error&) {
    return Outcome::kTypedError;
  }
}

std::vector<std::string> BuiltinSeeds() {
  using namespace tfreeze::testing;
  return {AffineGraphDef(),        StringGraphDef(), OptionalInputGraphDef(),
          TableGraphDef(),         SwitchGraphDef(), FillGraphDef({2, 3}),
          AffineGraphDefWithTestVectors(0)};
}

}  // namespace tfreeze::fuzz
