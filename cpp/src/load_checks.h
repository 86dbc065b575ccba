// The checks Model::Load makes of a file before it creates a session, for
// every other reader of the file too: tfreeze.freeze, export, parity and
// graph hand files to Python TensorFlow, which must not see what the loader
// refuses (ops that reach outside the model, graphs crafted to abort it).
// ImportCheckedGraph and CheckModelFile are defined in model.cc, beside the
// loader's own file reading and import, which they share with it.
//
//   tfreeze::internal::CheckModelFile("model.pb", options);  // throws what Load would
#ifndef TFREEZE_SRC_LOAD_CHECKS_H_
#define TFREEZE_SRC_LOAD_CHECKS_H_

#include <string>
#include <string_view>

#include "saved_model_checks.h"
#include "tf_handles.h"
#include "tfreeze/options.h"

namespace tfreeze::internal {

// A serialized GraphDef checked (CheckGraphDef), imported as Model::Build
// imports it (on `device`; "" for TensorFlow's choice), and its inferred
// shapes checked (CheckInferredShapes). Imports run nothing. `roots`: a
// MetaGraph's, whose restore may run the checkpoint ops it needs. Throws
// UnsafeOpError or LoadError as Load does.
GraphPtr ImportCheckedGraph(std::string_view graph_def, const Options& options,
                            const std::string& origin, const std::string& device,
                            const LoaderRoots* roots = nullptr);

// Everything Model::Load checks of `path` (a frozen .pb or a SavedModel
// directory) before it creates a session or runs anything.
void CheckModelFile(const std::string& path, const Options& options);

// The same for a GraphDef's bytes (Model::FromBytes's checks), and for a
// TF1 MetaGraphDef's (a .meta file): its graph, with the saver's restore and
// the init ops as a SavedModel's MetaGraph has them (saved_model_checks.h).
void CheckGraphDefBytes(std::string_view graph_def, const Options& options,
                        const std::string& origin);
void CheckMetaGraphBytes(std::string_view meta_graph_def, const Options& options,
                         const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_LOAD_CHECKS_H_
