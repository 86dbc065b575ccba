// Reading and writing numpy's .npy files (format versions 1.0-3.0) as
// tfreeze::Tensor, so C++ programs can take inputs saved with numpy.save:
//
//   tfreeze::Tensor images = tfreeze::ReadNpy("images.npy");
//   tfreeze::WriteNpy("probs.npy", model.Run({{"image", images}})[0]);
//
// No C++ .npy library is packaged by Debian or PyPI, and the format is small:
// a magic string, a Python-literal header, raw data.
#ifndef TFREEZE_NPY_H_
#define TFREEZE_NPY_H_

#include <string>

#include "tfreeze/tensor.h"

namespace tfreeze {

// Throws tfreeze::Error naming the file and the problem (unsupported dtype,
// Fortran order, big-endian data, truncated file). Unicode ('<U') and byte
// ('|S') strings become a kString tensor (UTF-8).
Tensor ReadNpy(const std::string& path);

// Strings are written as fixed-width bytes ('|S<longest>'); float16 as '<f2';
// bfloat16, which .npy cannot describe, is refused.
void WriteNpy(const std::string& path, const Tensor& tensor);

}  // namespace tfreeze

#endif  // TFREEZE_NPY_H_
