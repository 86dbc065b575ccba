// The memory a graph's constants claim. A TensorProto may give fewer values
// than its shape holds: TensorFlow repeats the last (or fills zeros) when it
// builds the tensor, so a 1 KB file can ask for any number of gigabytes
// (docs/reliability.md, "Constants that claim more than the file holds").
#ifndef TFREEZE_SRC_CONSTANT_SIZES_H_
#define TFREEZE_SRC_CONSTANT_SIZES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph_scan.h"
#include "tfreeze/model.h"
#include "tfreeze/options.h"

namespace tfreeze::internal {

// The bytes TensorFlow allocates for a TensorProto (saturating at
// UINT64_MAX), and whether the proto holds all of them itself. False when
// TensorFlow would refuse the proto (an unknown or negative dimension).
struct ClaimedSize {
  int dtype = 0;  // tensorflow.DataType
  std::vector<std::int64_t> shape;
  std::uint64_t bytes = 0;
  bool filled = false;  // TensorFlow makes up elements the proto does not give
};
bool TensorClaimedSize(std::string_view tensor_proto, ClaimedSize* claimed);

// Every tensor attribute (a Const's "value", and any other) of `nodes` that
// TensorFlow fills out to at least `at_least` bytes, largest first.
std::vector<ExpandedConstant> FilledConstants(const std::vector<ScannedNode>& nodes,
                                              std::uint64_t at_least);

// FilledConstants of at least kListedConstantBytes in a serialized graph, for
// Model::Inspect; empty when the bytes cannot be read (Load refuses those).
inline constexpr std::uint64_t kListedConstantBytes = std::uint64_t{1} << 20;
std::vector<ExpandedConstant> ListExpandedConstants(std::string_view graph_def);

// How many bytes all filled constants of a graph of `graph_bytes` may take:
// Options::max_constant_bytes, or by default kDefaultConstantBytes or four
// times the graph's size, whichever is more.
std::uint64_t ConstantLimit(const Options& options, std::size_t graph_bytes);

// Throws ConstantTooLargeError when the filled constants of `nodes` take more
// than ConstantLimit, naming the largest, before TensorFlow builds any.
void CheckConstantSizes(const std::vector<ScannedNode>& nodes, const Options& options,
                        std::size_t graph_bytes, const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_CONSTANT_SIZES_H_
