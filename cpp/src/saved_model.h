// Loading a SavedModel: TF_LoadSessionFromSavedModel, then the signature read
// from the MetaGraphDef it returns.
#ifndef TFREEZE_SRC_SAVED_MODEL_H_
#define TFREEZE_SRC_SAVED_MODEL_H_

#include <string>
#include <string_view>

#include "signature.h"

namespace tfreeze::internal {

// True when `path` is a directory holding saved_model.pb.
bool IsSavedModelDir(const std::string& path);

// The SignatureDef `key` of a serialized MetaGraphDef, bound to `graph`.
// Inputs and outputs are in key order (a SavedModel records no other). Throws
// LoadError listing the signatures there are when `key` is missing.
Signature ParseSavedModelSignature(std::string_view meta_graph_def, const std::string& key,
                                   TF_Graph* graph, const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SAVED_MODEL_H_
