// What a SavedModel's loader runs, and so which of its checkpoint ops may run.
// TensorFlow's loader runs the saver's restore op (fed the path of the
// SavedModel's own variables), then its init op; a signature's outputs run
// when the model does. A SavedModel also carries the ops that save it again:
// those never run unless one of these reaches them.
#ifndef TFREEZE_SRC_SAVED_MODEL_CHECKS_H_
#define TFREEZE_SRC_SAVED_MODEL_CHECKS_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "graph_scan.h"

namespace tfreeze::internal {

struct LoaderRoots {
  std::string restore_op;       // SaverDef.restore_op_name; "" without variables
  std::string filename_tensor;  // SaverDef.filename_tensor_name: fed DIR/variables/variables
  std::vector<std::string> runs;  // init ops and every signature's tensors
};

// The roots of a serialized MetaGraphDef. Throws std::runtime_error on
// malformed bytes.
LoaderRoots ReadLoaderRoots(std::string_view meta_graph_def);

// Decides, for each checkpoint op of a MetaGraph's graph, whether loading or
// running the SavedModel may run it.
class CheckpointAllowance {
 public:
  CheckpointAllowance(const std::vector<ScannedNode>& nodes, const LoaderRoots& roots);

  // nullptr when nothing runs `node` or the loader's restore needs it (a
  // restore reading the path the loader feeds); else why it is refused.
  const char* Refusal(const ScannedNode& node) const;

 private:
  std::set<const ScannedNode*> restored_;  // reached from the restore op
  std::set<const ScannedNode*> run_;       // reached from init ops and signatures
  std::string filename_node_;
  std::map<std::pair<std::string_view, std::string_view>, const ScannedNode*> nodes_;
};

// RestoreV2, SaveV2, MergeV2Checkpoints and the other ops a Saver uses.
bool IsCheckpointOp(std::string_view op);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SAVED_MODEL_CHECKS_H_
