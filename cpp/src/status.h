// Turning a TF_Status into a typed exception.
#ifndef TFREEZE_SRC_STATUS_H_
#define TFREEZE_SRC_STATUS_H_

#include <string>
#include <string_view>

#include <tensorflow/c/c_api.h>

#include "tfreeze/errors.h"

namespace tfreeze::internal {

// Throws ErrorType(code, context + ": " + TF's message) when `status` is not OK.
// A string_view, so that a literal context costs no allocation on the OK path
// (every Run checks its status).
template <typename ErrorType = Error>
void ThrowIfError(const TF_Status* status, std::string_view context) {
  if (TF_GetCode(status) == TF_OK) return;
  throw ErrorType(static_cast<Code>(TF_GetCode(status)),
                  std::string(context) + ": " + TF_Message(status));
}

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_STATUS_H_
