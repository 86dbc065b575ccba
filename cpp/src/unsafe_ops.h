// The deny list's lookup, for the load-time checks.
#ifndef TFREEZE_SRC_UNSAFE_OPS_H_
#define TFREEZE_SRC_UNSAFE_OPS_H_

#include "graph_scan.h"

namespace tfreeze::internal {

// Why `node` reaches outside the model; nullptr when it does not.
const char* UnsafeReason(const ScannedNode& node);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_UNSAFE_OPS_H_
