// classify_digits MODEL.pb IMAGES.npy
//
// Prints the predicted digit of each 8x8 image in IMAGES.npy (float32,
// shape [N, 8, 8, 1], as `tfreeze demo` trains on), using the frozen digits
// model that `tfreeze demo` writes to build/demo/digits.pb (it writes a batch
// of test digits to build/demo/images.npy too).
#include <tfreeze/tfreeze.h>

#include <algorithm>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " MODEL.pb IMAGES.npy\n";
    return 2;
  }
  try {
    const tfreeze::Model model = tfreeze::Model::Load(argv[1]);
    const tfreeze::Tensor images = tfreeze::ReadNpy(argv[2]);
    const std::string input = model.inputs().at(0).name;    // "image"
    const std::string output = model.outputs().at(0).name;  // "probs"

    const tfreeze::Tensor probs = std::move(model.Run({{input, images}}, {output})[0]);
    const std::int64_t classes = probs.shape()[1];
    const float* row = probs.data<float>();
    for (std::int64_t i = 0; i < probs.shape()[0]; ++i, row += classes) {
      std::cout << std::max_element(row, row + classes) - row << "\n";
    }
  } catch (const tfreeze::Error& e) {  // every tfreeze failure, with TensorFlow's message
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
