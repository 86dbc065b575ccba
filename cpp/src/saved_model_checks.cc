#include "saved_model_checks.h"

#include <map>

#include "proto_reader.h"

namespace tfreeze::internal {
namespace {

// Field numbers from tensorflow/core/protobuf/{meta_graph,saver}.proto.
constexpr int kMetaGraphSaverDefField = 3;
constexpr int kMetaGraphCollectionDefField = 4;
constexpr int kMetaGraphSignatureDefField = 5;
constexpr int kSaverFilenameTensorField = 1;
constexpr int kSaverRestoreOpField = 3;
constexpr int kCollectionNodeListField = 1;
constexpr int kNodeListValueField = 1;
constexpr int kSignatureInputsField = 1;
constexpr int kSignatureOutputsField = 2;
constexpr int kTensorInfoNameField = 1;
constexpr int kTensorInfoCooSparseField = 4;
constexpr int kTensorInfoCompositeField = 5;
constexpr int kCompositeComponentsField = 2;
constexpr int kMapKeyField = 1;
constexpr int kMapValueField = 2;

const std::set<std::string_view> kRestoreOps = {"RestoreV2", "Restore", "RestoreSlice"};
const std::set<std::string_view> kSaveOps = {"SaveV2", "MergeV2Checkpoints", "Save",
                                              "SaveSlices"};

// The collections whose ops TensorFlow's loader runs after the restore.
bool IsInitCollection(std::string_view key) {
  return key == "saved_model_main_op" || key == "legacy_init_op";
}

std::string_view NodeName(std::string_view tensor) {
  if (!tensor.empty() && tensor.front() == '^') tensor.remove_prefix(1);
  return tensor.substr(0, tensor.find(':'));
}

std::pair<std::string_view, std::string_view> MapEntry(std::string_view bytes) {
  std::pair<std::string_view, std::string_view> entry;
  for (ProtoReader reader(bytes); reader.Next();) {
    if (reader.field() == kMapKeyField) entry.first = reader.Bytes();
    else if (reader.field() == kMapValueField) entry.second = reader.Bytes();
  }
  return entry;
}

// Every tensor name in a TensorInfo: its name, a sparse tensor's three, a
// composite tensor's components'.
void TensorNames(std::string_view tensor_info, int depth, std::vector<std::string>* names) {
  for (ProtoReader reader(tensor_info); reader.Next();) {
    if (reader.field() == kTensorInfoNameField) {
      names->emplace_back(reader.Bytes());
    } else if (reader.field() == kTensorInfoCooSparseField) {
      for (ProtoReader sparse(reader.Bytes()); sparse.Next();) {
        if (sparse.wire_type() == 2) names->emplace_back(sparse.Bytes());
      }
    } else if (reader.field() == kTensorInfoCompositeField && depth < 8) {
      for (ProtoReader composite(reader.Bytes()); composite.Next();) {
        if (composite.field() == kCompositeComponentsField) {
          TensorNames(composite.Bytes(), depth + 1, names);
        }
      }
    }
  }
}

void SignatureTensors(std::string_view signature_def, std::vector<std::string>* names) {
  for (ProtoReader reader(signature_def); reader.Next();) {
    if (reader.field() != kSignatureInputsField && reader.field() != kSignatureOutputsField) {
      continue;
    }
    TensorNames(MapEntry(reader.Bytes()).second, 0, names);
  }
}

void CollectionNodes(std::string_view collection_def, std::vector<std::string>* names) {
  for (ProtoReader reader(collection_def); reader.Next();) {
    if (reader.field() != kCollectionNodeListField) continue;
    for (ProtoReader list(reader.Bytes()); list.Next();) {
      if (list.field() == kNodeListValueField) names->emplace_back(list.Bytes());
    }
  }
}

// The nodes that run when `roots` do: their inputs, transitively, and the
// whole body of every function a reached node calls.
class Reach {
 public:
  explicit Reach(const std::vector<ScannedNode>& nodes) {
    for (const ScannedNode& node : nodes) {
      if (node.function.empty()) graph_[node.name] = &node;
      else functions_[node.function].push_back(&node);
    }
  }

  std::set<const ScannedNode*> From(const std::vector<std::string_view>& roots) {
    reached_.clear();
    called_.clear();
    std::vector<std::string_view> pending(roots);
    while (!pending.empty()) {
      const auto found = graph_.find(NodeName(pending.back()));
      pending.pop_back();
      if (found == graph_.end() || !reached_.insert(found->second).second) continue;
      for (std::string_view input : found->second->inputs) pending.push_back(input);
      Calls(*found->second);
    }
    return reached_;
  }

 private:
  void Calls(const ScannedNode& node) {
    std::vector<std::string_view> callees = CalledFunctions(node.node_def);
    callees.push_back(node.op);  // a function called as an op
    for (std::string_view callee : callees) {
      const auto body = functions_.find(callee);
      if (body == functions_.end() || !called_.insert(callee).second) continue;
      for (const ScannedNode* inner : body->second) {
        reached_.insert(inner);
        Calls(*inner);
      }
    }
  }

  std::map<std::string_view, const ScannedNode*> graph_;
  std::map<std::string_view, std::vector<const ScannedNode*>> functions_;
  std::set<const ScannedNode*> reached_;
  std::set<std::string_view> called_;
};

}  // namespace

bool IsCheckpointOp(std::string_view op) {
  return kRestoreOps.count(op) != 0 || kSaveOps.count(op) != 0;
}

LoaderRoots ReadLoaderRoots(std::string_view meta_graph_def) {
  LoaderRoots roots;
  for (ProtoReader meta(meta_graph_def); meta.Next();) {
    if (meta.field() == kMetaGraphSaverDefField) {
      for (ProtoReader saver(meta.Bytes()); saver.Next();) {
        if (saver.field() == kSaverFilenameTensorField) roots.filename_tensor = saver.Bytes();
        else if (saver.field() == kSaverRestoreOpField) roots.restore_op = saver.Bytes();
      }
    } else if (meta.field() == kMetaGraphCollectionDefField) {
      const auto [key, collection] = MapEntry(meta.Bytes());
      if (IsInitCollection(key)) CollectionNodes(collection, &roots.runs);
    } else if (meta.field() == kMetaGraphSignatureDefField) {
      // "__saved_model_init_op" is the TF2 init op; the others run with the model.
      SignatureTensors(MapEntry(meta.Bytes()).second, &roots.runs);
    }
  }
  return roots;
}

CheckpointAllowance::CheckpointAllowance(const std::vector<ScannedNode>& nodes,
                                         const LoaderRoots& roots)
    : filename_node_(NodeName(roots.filename_tensor)) {
  Reach reach(nodes);
  if (!roots.restore_op.empty()) restored_ = reach.From({roots.restore_op});
  run_ = reach.From(std::vector<std::string_view>(roots.runs.begin(), roots.runs.end()));
  for (const ScannedNode& node : nodes) nodes_[{node.function, node.name}] = &node;
}

const char* CheckpointAllowance::Refusal(const ScannedNode& node) const {
  const bool restores = restored_.count(&node) != 0;
  const bool runs = run_.count(&node) != 0;
  if (!restores && !runs) return nullptr;  // the SavedModel's own save path: never run
  if (kSaveOps.count(node.op) != 0) {
    return "writes or deletes files when the SavedModel loads or runs; only its restore may "
           "touch checkpoints";
  }
  if (runs) return "reads a checkpoint outside the SavedModel's restore";
  // In the graph, the prefix must be the tensor the loader feeds; in a
  // function, one of its arguments (the restore function is fed that tensor).
  std::string_view prefix = node.inputs.empty() ? "" : NodeName(node.inputs.front());
  for (int hops = 0; hops < 16; ++hops) {
    const auto source = nodes_.find({node.function, prefix});
    if (source == nodes_.end()) {
      if (!node.function.empty() && !prefix.empty()) return nullptr;  // an argument
      break;
    }
    if (node.function.empty() && prefix == filename_node_) return nullptr;
    if (source->second->op != "Identity" || source->second->inputs.empty()) break;
    prefix = NodeName(source->second->inputs.front());
  }
  return "reads a checkpoint from another path than the SavedModel's variables";
}

}  // namespace tfreeze::internal
