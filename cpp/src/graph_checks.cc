#include "graph_checks.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "graph_scan.h"
#include "proto_reader.h"
#include "tfreeze/errors.h"
#include "tfreeze/safety.h"
#include "unsafe_ops.h"

namespace tfreeze::internal {
namespace {

constexpr int kSavedModelMetaGraphsField = 2;  // SavedModel.meta_graphs
constexpr int kMetaGraphGraphDefField = 2;     // MetaGraphDef.graph_def

// Ops whose shape argument (input index) sets how many elements they allocate:
// TensorFlow CHECK-fails, killing the process, when that count overflows int64.
const std::map<std::string_view, int>& ShapeArguments() {
  static const std::map<std::string_view, int> arguments = {
      {"Fill", 0}, {"Empty", 0}, {"BroadcastTo", 1}, {"RandomUniform", 0},
      {"RandomUniformInt", 0}, {"RandomStandardNormal", 0}, {"TruncatedNormal", 0},
      {"StatelessRandomUniform", 0}, {"StatelessRandomNormal", 0},
      {"StatelessTruncatedNormal", 0}, {"StatelessRandomUniformV2", 0},
      {"StatelessRandomNormalV2", 0}, {"StatelessTruncatedNormalV2", 0},
      {"StatelessRandomUniformInt", 0}, {"StatelessRandomUniformIntV2", 0}};
  return arguments;
}

std::string Where(const ScannedNode& node) {
  std::string where = "node \"" + std::string(node.name) + "\"";
  if (!node.function.empty()) where += " in function \"" + std::string(node.function) + "\"";
  return where;
}

bool IsAllowed(std::string_view op, const Options& options, bool restores_variables) {
  if (options.allow_unsafe_ops) return true;
  if (restores_variables) {
    for (std::string_view saver_op : {"RestoreV2", "SaveV2", "MergeV2Checkpoints", "Restore",
                                      "RestoreSlice", "Save", "SaveSlices"}) {
      if (op == saver_op) return true;
    }
  }
  const auto& allowed = options.allowed_unsafe_ops;
  return std::find(allowed.begin(), allowed.end(), op) != allowed.end();
}

[[noreturn]] void RefuseUnsafe(const std::vector<UnsafeOp>& found, const std::string& origin) {
  std::string nodes, ops;
  for (const UnsafeOp& unsafe : found) {
    nodes += (nodes.empty() ? "" : "; ") + std::string("node \"") + unsafe.node + "\"" +
             (unsafe.function.empty() ? "" : " in function \"" + unsafe.function + "\"") + " (" +
             unsafe.op + ": " + unsafe.reason + ")";
    if (ops.find(unsafe.op) == std::string::npos) ops += (ops.empty() ? "" : ",") + unsafe.op;
  }
  throw UnsafeOpError(Code::kPermissionDenied,
                      origin + " contains ops that reach outside the model: " + nodes +
                          ". Load it only if you trust it, allowing these ops: "
                          "Options::allowed_unsafe_ops (Python allow_unsafe_ops=[...], command "
                          "line --allow-unsafe-ops " + ops + "), or all of them with "
                          "Options::allow_unsafe_ops");
}

// A Const whose value holds another dtype than its "dtype" attribute loads,
// then aborts TensorFlow when it runs.
void CheckConst(const ScannedNode& node, const std::string& origin) {
  const int declared = AttrType(Attr(node.node_def, "dtype"));
  const std::string_view value = AttrTensor(Attr(node.node_def, "value"));
  const int held = value.empty() ? declared : TensorDtype(value);
  if (declared != held) {
    throw LoadError(Code::kInvalidArgument,
                    origin + ": Const " + Where(node) + " declares dtype " +
                        std::to_string(declared) + " but its value holds dtype " +
                        std::to_string(held) + " (a corrupt or crafted file)");
  }
}

bool ProductOverflows(const std::vector<std::int64_t>& dims) {
  std::int64_t count = 1;
  for (std::int64_t dim : dims) {
    if (dim < 0) return false;  // TensorFlow rejects negative sizes itself
    if (dim != 0 && count > std::numeric_limits<std::int64_t>::max() / dim) return true;
    count *= dim;
  }
  return false;
}

std::string_view NodeOf(std::string_view input) {
  return input.substr(input.front() == '^' ? 1 : 0, input.find(':'));
}

void CheckShapeArguments(const std::vector<ScannedNode>& nodes, const std::string& origin) {
  std::map<std::pair<std::string_view, std::string_view>, const ScannedNode*> consts;
  for (const ScannedNode& node : nodes) {
    if (node.op == "Const") consts[{node.function, node.name}] = &node;
  }
  std::vector<std::int64_t> dims;
  for (const ScannedNode& node : nodes) {
    const auto argument = ShapeArguments().find(node.op);
    if (argument == ShapeArguments().end() ||
        static_cast<int>(node.inputs.size()) <= argument->second) {
      continue;
    }
    const auto source = consts.find({node.function, NodeOf(node.inputs[argument->second])});
    if (source == consts.end()) continue;
    const std::string_view value = AttrTensor(Attr(source->second->node_def, "value"));
    if (TensorIntegers(value, &dims) && ProductOverflows(dims)) {
      std::ostringstream shape;
      for (std::size_t i = 0; i < dims.size(); ++i) shape << (i ? ", " : "[") << dims[i];
      throw LoadError(Code::kInvalidArgument,
                      origin + ": " + std::string(node.op) + " " + Where(node) +
                          " makes a tensor of shape " + shape.str() +
                          "], more elements than a 64-bit count holds (TensorFlow would abort "
                          "the process)");
    }
  }
}

}  // namespace

std::string CheckGraphDef(std::string_view graph_def, const Options& options,
                          const std::string& origin, bool restores_variables) {
  // Attribute reads below parse more of each node than the scan did, so
  // malformed bytes can surface there too (a fuzzing finding): every reader
  // failure is "cannot read", never an untyped exception.
  try {
    std::vector<ScannedNode> nodes;
    ForEachNode(graph_def, [&](const ScannedNode& node) { nodes.push_back(node); });
    std::vector<UnsafeOp> refused;
    for (const ScannedNode& node : nodes) {
      const char* reason = UnsafeReason(node);
      if (reason != nullptr && !IsAllowed(node.op, options, restores_variables)) {
        refused.push_back({std::string(node.name), std::string(node.op),
                           std::string(node.function), reason});
      }
    }
    if (!refused.empty()) RefuseUnsafe(refused, origin);
    for (const ScannedNode& node : nodes) {
      if (node.op == "Const") CheckConst(node, origin);
    }
    CheckShapeArguments(nodes, origin);
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

void CheckSavedModel(const std::string& directory, const Options& options,
                     const std::string& origin) {
  std::ifstream file(directory + "/saved_model.pb", std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  const std::string saved_model = bytes.str();
  std::string problem = file ? "" : "saved_model.pb cannot be read";
  try {
    for (ProtoReader reader(saved_model); problem.empty() && reader.Next();) {
      if (reader.field() != kSavedModelMetaGraphsField) continue;
      for (ProtoReader meta(reader.Bytes()); problem.empty() && meta.Next();) {
        if (meta.field() != kMetaGraphGraphDefField) continue;
        problem = CheckGraphDef(meta.Bytes(), options, origin, /*restores_variables=*/true);
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    throw LoadError(Code::kInvalidArgument, origin + ": tfreeze cannot read its graph to check "
                                                     "the ops in it (" + problem + ")");
  }
}

}  // namespace tfreeze::internal
