// Model's private state, shared by the files that implement Model.
#ifndef TFREEZE_SRC_MODEL_IMPL_H_
#define TFREEZE_SRC_MODEL_IMPL_H_

#include <atomic>
#include <vector>

#include "signature.h"
#include "tf_handles.h"
#include "tfreeze/model.h"
#include "validation.h"

namespace tfreeze {

struct Model::Impl {
  internal::GraphPtr graph;
  internal::SessionPtr session;
  internal::Signature signature;
  internal::NameIndex input_index;
  internal::NameIndex output_index;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  Executor executor = Executor::kDefault;
  std::atomic<bool> ran_once{false};  // see ReturnFreedMemory in model.cc
};

}  // namespace tfreeze

#endif  // TFREEZE_SRC_MODEL_IMPL_H_
