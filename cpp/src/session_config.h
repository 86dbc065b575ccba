// Options -> the serialized tensorflow.ConfigProto that TF_SetConfig takes.
#ifndef TFREEZE_SRC_SESSION_CONFIG_H_
#define TFREEZE_SRC_SESSION_CONFIG_H_

#include <string>

#include "tfreeze/options.h"

namespace tfreeze::internal {

// Options.config_proto followed by the thread-count fields. Protobuf merges
// concatenated messages field by field, so the later fields win.
std::string SerializeConfig(const Options& options);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SESSION_CONFIG_H_
