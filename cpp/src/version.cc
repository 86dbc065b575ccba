#include "tfreeze/version.h"

#include <tensorflow/c/c_api.h>

namespace tfreeze {

const char* TensorFlowVersion() { return TF_Version(); }

}  // namespace tfreeze
