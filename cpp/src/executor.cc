#include "executor.h"

#include <cstring>

#include "session_config.h"
#include "tfreeze/errors.h"

namespace tfreeze {

std::string ExecutorName(Executor executor) {
  switch (executor) {
    case Executor::kDefault: return "default";
    case Executor::kSingleThreaded: return "single_threaded";
    case Executor::kAuto: return "auto";
  }
  return "default";
}

Executor ParseExecutor(const std::string& name) {
  for (Executor executor : {Executor::kDefault, Executor::kSingleThreaded, Executor::kAuto}) {
    if (name == ExecutorName(executor)) return executor;
  }
  throw Error(Code::kInvalidArgument,
              "executor \"" + name + "\" is not one of: default, single_threaded, auto");
}

namespace internal {
namespace {

// TF1 control flow: frames and dead tensors, which only TensorFlow's default
// executor tracks (core/common_runtime/single_threaded_executor.h).
bool IsTf1ControlFlow(const char* op) {
  for (const char* name : {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond",
                           "RefSwitch", "RefMerge", "RefEnter", "RefExit", "RefNextIteration",
                           "RefSelect", "_SwitchN"}) {
    if (std::strcmp(op, name) == 0) return true;
  }
  return false;
}

// Reference tensors come from TF1 variables; the executor cannot hold them.
bool HasReferenceOutput(TF_Operation* op) {
  for (int i = 0; i < TF_OperationNumOutputs(op); ++i) {
    if (TF_OperationOutputType(TF_Output{op, i}) >= 100) return true;  // DT_*_REF
  }
  return false;
}

}  // namespace

std::string SingleThreadedObstacle(TF_Graph* graph, const std::string& device) {
  if (device.find("GPU") != std::string::npos) {
    return "it runs on the CPU only, and the model was asked to run on " + device;
  }
  std::size_t position = 0;
  while (TF_Operation* op = TF_GraphNextOperation(graph, &position)) {
    const char* type = TF_OperationOpType(op);
    if (IsTf1ControlFlow(type)) {
      return "it cannot run TF1 control flow, and node \"" + std::string(TF_OperationName(op)) +
             "\" is a " + type + " op (a TF2/Keras model frozen with --keep-control-flow "
             "keeps loops and conditions as While/If, which it can run)";
    }
    if (HasReferenceOutput(op)) {
      return "it cannot hold reference tensors, and node \"" + std::string(TF_OperationName(op)) +
             "\" (" + type + ") makes one";
    }
  }
  return "";
}

namespace {

// Where XLA's JIT forms clusters (whether it does depends on the graph and on
// oneDNN), it guards each with a Switch op that the single-threaded executor
// rejects at the first Run: refuse the pair at load, where it is predictable.
std::string Obstacle(const Options& options, TF_Graph* graph) {
  if (options.xla_jit) {
    return "it cannot run the Switch ops XLA's JIT puts around its clusters, and xla_jit is on";
  }
  return SingleThreadedObstacle(graph, DeviceName(options.device));
}

}  // namespace

Options ResolveExecutor(Options options, TF_Graph* graph, const std::string& origin,
                        std::size_t constant_bytes) {
  if (options.executor == Executor::kDefault) return options;
  if (options.executor == Executor::kAuto && constant_bytes > kSmallGraphBytes) {
    options.executor = Executor::kDefault;
    return options;
  }
  const std::string obstacle = Obstacle(options, graph);
  if (obstacle.empty()) {
    options.executor = Executor::kSingleThreaded;
  } else if (options.executor == Executor::kAuto) {
    options.executor = Executor::kDefault;
  } else {
    throw LoadError(Code::kInvalidArgument,
                    "the single-threaded executor cannot run " + origin + ": " + obstacle +
                        "; use executor \"default\", or \"auto\" to choose per graph");
  }
  return options;
}

}  // namespace internal
}  // namespace tfreeze
