// Checks of a serialized graph before TensorFlow imports it or runs anything:
// ops that reach outside the model, and constants TensorFlow would abort the
// whole process on (a CHECK failure is not an error it can return).
#ifndef TFREEZE_SRC_GRAPH_CHECKS_H_
#define TFREEZE_SRC_GRAPH_CHECKS_H_

#include <string>
#include <string_view>

#include <tensorflow/c/c_api.h>

#include "saved_model_checks.h"
#include "tfreeze/options.h"

namespace tfreeze::internal {

// Throws UnsafeOpError naming every node whose op is denied and not allowed by
// `options`, and LoadError for a Const whose value's dtype is not its dtype
// attribute or a Const shape argument whose element count overflows int64.
// LoadError too for a NodeDef or FunctionDef that gives a field twice
// (TensorFlow would read the last copy, these checks one), and
// ConstantTooLargeError for constants whose filled-in size passes
// Options::max_constant_bytes (constant_sizes.h). `roots`: a
// SavedModel's, whose restore may run the checkpoint ops it needs
// (saved_model_checks.h). Returns "" when the bytes were checked, else why they
// could not be read (the caller decides: TensorFlow may reject them too).
std::string CheckGraphDef(std::string_view graph_def, const Options& options,
                          const std::string& origin, const LoaderRoots* roots = nullptr);

// Throws LoadError naming the first node whose output shape, as TensorFlow
// inferred it while importing (constants followed through any op), holds more
// elements than int64 counts: Grappler's constant folding would abort on it.
void CheckInferredShapes(TF_Graph* graph, const std::string& origin);

// The same checks on each MetaGraph of `directory`/saved_model.pb, before
// TensorFlow loads it (loading runs restore and init ops). Throws LoadError
// when the file cannot be read or checked.
void CheckSavedModel(const std::string& directory, const Options& options,
                     const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_GRAPH_CHECKS_H_
