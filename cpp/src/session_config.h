// Options -> what TensorFlow takes: a serialized tensorflow.ConfigProto for
// TF_SetConfig, and a device name for graph import.
#ifndef TFREEZE_SRC_SESSION_CONFIG_H_
#define TFREEZE_SRC_SESSION_CONFIG_H_

#include <string>

#include "tfreeze/options.h"

namespace tfreeze::internal {

// Options.config_proto followed by the fields the other options set. Protobuf
// merges concatenated messages field by field, so the later fields win.
// Throws Error (kInvalidArgument) naming a bad option and the valid values.
std::string SerializeConfig(const Options& options);

// "gpu:1" -> "/device:GPU:1"; "" -> "". Throws Error listing the valid forms.
std::string DeviceName(const std::string& device);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SESSION_CONFIG_H_
