// consumer MODEL.pb: prints the tfreeze and TensorFlow versions, then each
// output's name and shape after running zero-filled inputs at batch 2.
#include <tfreeze/tfreeze.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::cout << "tfreeze " << TFREEZE_VERSION << " on TensorFlow " << tfreeze::TensorFlowVersion()
            << "\n";
  const tfreeze::Model model = tfreeze::Model::Load(argv[1]);
  std::vector<tfreeze::Tensor> tensors;
  for (const auto& input : model.inputs()) {
    tfreeze::Shape shape = input.shape;
    for (auto& dim : shape) dim = dim < 0 ? 2 : dim;
    tensors.emplace_back(input.dtype, shape);
  }
  std::vector<tfreeze::Feed> feeds;
  for (std::size_t i = 0; i < tensors.size(); ++i) feeds.emplace_back(model.inputs()[i].name, tensors[i]);
  const std::vector<tfreeze::Tensor> outputs = model.Run(feeds);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    std::cout << model.outputs()[i].name << " " << tfreeze::ShapeToString(outputs[i].shape()) << "\n";
  }
  return 0;
}
