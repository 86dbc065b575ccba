// tfreeze's side of the overhead comparison: the same loop as bare_c_api.cc,
// through tfreeze::Model (validation, signature lookups, typed tensors), in a
// fresh process like the baseline so both run under the same conditions.
//
// usage: tfreeze_loop MODEL.pb THREADS WARMUP ITERATIONS OUTPUT[,...] INPUT=D1xD2x... [...]
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tfreeze/tfreeze.h"

namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

std::string Name(const std::string& tensor) { return tensor.substr(0, tensor.rfind(':')); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s MODEL THREADS WARMUP ITERATIONS OUTPUTS INPUT=DIMS...\n", argv[0]);
    return 2;
  }
  try {
    tfreeze::Options options;
    options.intra_op_threads = options.inter_op_threads = std::stoi(argv[2]);
    tfreeze::Model model = tfreeze::Model::Load(argv[1], options);
    tfreeze::BenchmarkOptions bench;
    bench.warmup = std::stoi(argv[3]);
    bench.iterations = std::stoi(argv[4]);
    for (const auto& output : Split(argv[5], ',')) bench.fetches.push_back(Name(output));
    std::vector<tfreeze::Tensor> tensors;
    std::vector<std::string> names;
    for (int i = 6; i < argc; ++i) {
      const auto parts = Split(argv[i], '=');
      tfreeze::Shape shape;
      for (const auto& dim : Split(parts[1], 'x')) shape.push_back(std::stoll(dim));
      names.push_back(Name(parts[0]));
      tensors.emplace_back(tfreeze::DType::kFloat32, shape);
    }
    std::vector<tfreeze::Feed> feeds;
    for (std::size_t i = 0; i < tensors.size(); ++i) feeds.emplace_back(names[i], tensors[i]);
    const tfreeze::LatencyStats stats = tfreeze::Benchmark(model, feeds, bench);
    std::printf("{\"p50_us\": %.3f, \"mean_us\": %.3f, \"iterations\": %lld}\n", stats.p50_us,
                stats.mean_us, static_cast<long long>(stats.iterations));
  } catch (const tfreeze::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
