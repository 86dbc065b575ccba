// Choosing the executor for a graph: the single-threaded executor cannot run
// every graph, and TensorFlow says so only when a step runs (or not at all).
#ifndef TFREEZE_SRC_EXECUTOR_H_
#define TFREEZE_SRC_EXECUTOR_H_

#include <cstddef>
#include <string>

#include <tensorflow/c/c_api.h>

#include "tfreeze/options.h"

namespace tfreeze::internal {

// Why the single-threaded executor cannot run `graph` on `device` (a name from
// DeviceName, "" for TensorFlow's choice), naming the first offending node;
// "" when it can.
std::string SingleThreadedObstacle(TF_Graph* graph, const std::string& device);

// `options` with kAuto resolved for `graph`, whose constants take
// `constant_bytes`; kSingleThreaded on a graph it cannot run is a LoadError
// naming the reason and what to do.
Options ResolveExecutor(Options options, TF_Graph* graph, const std::string& origin,
                        std::size_t constant_bytes);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_EXECUTOR_H_
