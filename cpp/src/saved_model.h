// Loading a SavedModel: TF_LoadSessionFromSavedModel, then the signature read
// from the MetaGraphDef it returns.
#ifndef TFREEZE_SRC_SAVED_MODEL_H_
#define TFREEZE_SRC_SAVED_MODEL_H_

#include <string>
#include <string_view>
#include <vector>

#include "signature.h"

namespace tfreeze::internal {

// True when `path` is a directory holding saved_model.pb.
bool IsSavedModelDir(const std::string& path);

// saved_model.pb's bytes. Throws LoadError when it cannot be read.
std::string ReadSavedModelFile(const std::string& directory, const std::string& origin);

// The serialized MetaGraphDef whose tags are exactly `tags`, as TensorFlow's
// loader picks it, read without loading anything. Throws LoadError listing
// the tag sets there are when none matches.
std::string ReadMetaGraph(const std::string& directory, const std::vector<std::string>& tags,
                          const std::string& origin);

// A MetaGraphDef's GraphDef, as bytes.
std::string_view MetaGraphGraphDef(std::string_view meta_graph_def);

// The SignatureDef `key` of a serialized MetaGraphDef, bound to `graph`.
// Inputs and outputs are in key order (a SavedModel records no other). Throws
// LoadError listing the signatures there are when `key` is missing.
Signature ParseSavedModelSignature(std::string_view meta_graph_def, const std::string& key,
                                   TF_Graph* graph, const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SAVED_MODEL_H_
