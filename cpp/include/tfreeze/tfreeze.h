// Umbrella header: everything a C++ application needs to run a frozen model.
#ifndef TFREEZE_TFREEZE_H_
#define TFREEZE_TFREEZE_H_

#include "tfreeze/benchmark.h"
#include "tfreeze/dtype.h"
#include "tfreeze/errors.h"
#include "tfreeze/isolated_model.h"
#include "tfreeze/model.h"
#include "tfreeze/npy.h"
#include "tfreeze/options.h"
#include "tfreeze/safety.h"
#include "tfreeze/tensor.h"
#include "tfreeze/verify.h"
#include "tfreeze/version.h"

#endif  // TFREEZE_TFREEZE_H_
