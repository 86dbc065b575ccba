#include "graph_checks.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "constant_sizes.h"
#include "graph_scan.h"
#include "proto_reader.h"
#include "saved_model.h"
#include "saved_model_checks.h"
#include "tf_handles.h"
#include "tfreeze/errors.h"
#include "tfreeze/safety.h"
#include "unsafe_ops.h"

namespace tfreeze::internal {
namespace {

constexpr int kSavedModelMetaGraphsField = 2;  // SavedModel.meta_graphs

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

bool IsAllowed(std::string_view op, const Options& options) {
  if (options.allow_unsafe_ops) return true;
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

[[noreturn]] void RefuseOverflow(const ScannedNode& node, const std::vector<std::int64_t>& dims,
                                  const std::string& origin) {
  std::ostringstream shape;
  for (std::size_t i = 0; i < dims.size(); ++i) shape << (i ? ", " : "[") << dims[i];
  throw LoadError(Code::kInvalidArgument,
                  origin + ": " + std::string(node.op) + " " + Where(node) +
                      " makes a tensor of shape " + shape.str() +
                      "], more elements than a 64-bit count holds (TensorFlow would abort the "
                      "process)");
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

// The known dimensions alone (-1 is unknown) hold more than int64 counts.
bool KnownDimsOverflow(const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> known;
  for (std::int64_t dim : dims) {
    if (dim >= 0) known.push_back(dim);
  }
  return ProductOverflows(known);
}

std::string_view NodeOf(std::string_view input) {
  if (!input.empty() && input.front() == '^') input.remove_prefix(1);
  return input.substr(0, input.find(':'));
}

using NodeIndex = std::map<std::pair<std::string_view, std::string_view>, const ScannedNode*>;

// The data inputs of a node: control inputs ("^name") come last and carry no value.
std::vector<std::string_view> DataInputs(const ScannedNode& node) {
  std::vector<std::string_view> inputs;
  for (std::string_view input : node.inputs) {
    if (!input.empty() && input.front() != '^') inputs.push_back(input);
  }
  return inputs;
}

// The integer values of tensor `input` when they follow from constants
// through ops that pass values on unchanged or only regroup them: what
// TensorFlow's constant folding sees through too. False when they do not.
bool ConstantIntegers(const NodeIndex& index, std::string_view function, std::string_view input,
                      int depth, std::vector<std::int64_t>* values) {
  const auto found = index.find({function, NodeOf(input)});
  if (found == index.end() || depth > 64) return false;
  const ScannedNode& node = *found->second;
  if (node.op == "Const") return TensorIntegers(AttrTensor(Attr(node.node_def, "value")), values);
  const std::vector<std::string_view> inputs = DataInputs(node);
  if (inputs.empty()) return false;
  static const std::set<std::string_view> pass_through = {
      "Identity", "Snapshot", "StopGradient", "PreventGradient", "EnsureShape", "Cast",
      "Reshape", "ExpandDims", "Squeeze", "CheckNumerics", "DebugIdentity"};
  if (pass_through.count(node.op) != 0) {
    return ConstantIntegers(index, function, inputs.front(), depth + 1, values);
  }
  std::vector<std::string_view> parts;
  if (node.op == "Pack") parts = inputs;
  else if (node.op == "ConcatV2") parts.assign(inputs.begin(), inputs.end() - 1);  // last: axis
  else if (node.op == "Concat") parts.assign(inputs.begin() + 1, inputs.end());    // first: axis
  else return false;
  values->clear();
  std::vector<std::int64_t> part_values;
  for (std::string_view part : parts) {
    if (!ConstantIntegers(index, function, part, depth + 1, &part_values)) return false;
    values->insert(values->end(), part_values.begin(), part_values.end());
  }
  return true;
}

void CheckShapeArguments(const std::vector<ScannedNode>& nodes, const std::string& origin) {
  NodeIndex index;
  for (const ScannedNode& node : nodes) index[{node.function, node.name}] = &node;
  std::vector<std::int64_t> dims;
  for (const ScannedNode& node : nodes) {
    const auto argument = ShapeArguments().find(node.op);
    if (argument == ShapeArguments().end() ||
        static_cast<int>(node.inputs.size()) <= argument->second) {
      continue;
    }
    const std::string_view shape = node.inputs[argument->second];
    if (ConstantIntegers(index, node.function, shape, 0, &dims) && ProductOverflows(dims)) {
      RefuseOverflow(node, dims, origin);
    }
  }
}

// `roots`: a SavedModel's, whose own restore may run its checkpoint ops.
void RefuseUnsafeNodes(const std::vector<ScannedNode>& nodes, const Options& options,
                       const std::string& origin, const LoaderRoots* roots) {
  std::optional<CheckpointAllowance> checkpoints;
  if (roots != nullptr) checkpoints.emplace(nodes, *roots);
  std::vector<UnsafeOp> refused;
  for (const ScannedNode& node : nodes) {
    const char* reason = UnsafeReason(node);
    if (reason == nullptr || IsAllowed(node.op, options)) continue;
    if (checkpoints && IsCheckpointOp(node.op)) reason = checkpoints->Refusal(node);
    if (reason != nullptr) {
      refused.push_back({std::string(node.name), std::string(node.op), std::string(node.function),
                         reason});
    }
  }
  if (!refused.empty()) RefuseUnsafe(refused, origin);
}

}  // namespace

std::string CheckGraphDef(std::string_view graph_def, const Options& options,
                          const std::string& origin, const LoaderRoots* roots) {
  std::vector<ScannedNode> nodes;
  try {
    ForEachNode(graph_def, [&](const ScannedNode& node) { nodes.push_back(node); });
    RefuseUnsafeNodes(nodes, options, origin, roots);
    for (const ScannedNode& node : nodes) {
      if (node.op == "Const") CheckConst(node, origin);
    }
    CheckShapeArguments(nodes, origin);
    CheckConstantSizes(nodes, options, graph_def.size(), origin);
  } catch (const Error&) {
    throw;
  } catch (const DuplicateFieldError& e) {
    throw LoadError(Code::kInvalidArgument, origin + ": " + e.what() + "; refusing a crafted file");
  } catch (const std::runtime_error& e) {
    return e.what();  // malformed bytes anywhere, also inside a Const's tensor
  }
  return "";
}

void CheckInferredShapes(TF_Graph* graph, const std::string& origin) {
  StatusPtr status = NewStatus();
  std::vector<std::int64_t> dims;
  std::size_t position = 0;
  while (TF_Operation* operation = TF_GraphNextOperation(graph, &position)) {
    for (int i = 0; i < TF_OperationNumOutputs(operation); ++i) {
      const TF_Output output{operation, i};
      const int rank = TF_GraphGetTensorNumDims(graph, output, status.get());
      if (TF_GetCode(status.get()) != TF_OK || rank <= 0) continue;
      dims.resize(rank);
      TF_GraphGetTensorShape(graph, output, dims.data(), rank, status.get());
      if (TF_GetCode(status.get()) != TF_OK || !KnownDimsOverflow(dims)) continue;
      ScannedNode node;
      node.name = TF_OperationName(operation);
      node.op = TF_OperationOpType(operation);
      RefuseOverflow(node, dims, origin);
    }
  }
}

// A SavedModel's graph is imported by its loader, which then runs its restore
// and init ops: its shapes are checked in an import of its own first.
void CheckInferredShapes(std::string_view graph_def, const std::string& origin) {
  GraphPtr graph(TF_NewGraph());
  BufferPtr buffer(TF_NewBuffer());
  buffer->data = graph_def.data();
  buffer->length = graph_def.size();
  buffer->data_deallocator = nullptr;
  ImportOptionsPtr import_options(TF_NewImportGraphDefOptions());
  StatusPtr status = NewStatus();
  TF_GraphImportGraphDef(graph.get(), buffer.get(), import_options.get(), status.get());
  // A graph TensorFlow cannot import fails in its loader, with its message.
  if (TF_GetCode(status.get()) == TF_OK) CheckInferredShapes(graph.get(), origin);
}

void CheckSavedModel(const std::string& directory, const Options& options,
                     const std::string& origin) {
  const std::string saved_model = ReadSavedModelFile(directory, origin);
  std::string problem;
  try {
    for (ProtoReader reader(saved_model); problem.empty() && reader.Next();) {
      if (reader.field() != kSavedModelMetaGraphsField) continue;
      const std::string_view meta_graph = reader.Bytes();
      const LoaderRoots roots = ReadLoaderRoots(meta_graph);
      const std::string_view graph_def = MetaGraphGraphDef(meta_graph);
      problem = CheckGraphDef(graph_def, options, origin, &roots);
      if (problem.empty()) CheckInferredShapes(graph_def, origin);
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
