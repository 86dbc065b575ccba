#include "load_checks.h"

#include <stdexcept>

#include "saved_model.h"
#include "tfreeze/errors.h"

namespace tfreeze::internal {

void CheckGraphDefBytes(std::string_view graph_def, const Options& options,
                        const std::string& origin) {
  ImportCheckedGraph(graph_def, options, origin, "");
}

// A .meta file is the MetaGraphDef a SavedModel holds, without the
// directory: its saver's restore runs when a checkpoint is restored into it.
void CheckMetaGraphBytes(std::string_view meta_graph_def, const Options& options,
                         const std::string& origin) {
  LoaderRoots roots;
  std::string_view graph_def;
  try {
    roots = ReadLoaderRoots(meta_graph_def);
    graph_def = MetaGraphGraphDef(meta_graph_def);
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const Error*>(&e) != nullptr) throw;
    throw LoadError(Code::kInvalidArgument, origin + ": unreadable MetaGraphDef: " + e.what());
  }
  ImportCheckedGraph(graph_def, options, origin, "", &roots);
}

}  // namespace tfreeze::internal
