// `make soak`: long runs that a unit test cannot afford.
//
//   1. 100,000 runs of one model: resident memory sampled every 10,000 runs
//      must stay within 2% of its value after the first 10,000 (warm-up).
//   2. 8 threads x 10,000 runs on one shared Model, each run with its own
//      input, must give bit-identical outputs to the same inputs run serially.
//
//   tfreeze_soak [--model PATH.pb] [--runs N] [--threads T] [--per-thread M]
//
// Without --model it uses the affine test graph. Feeds are filled from a seeded
// generator (open dimensions as 1); exit 1 when a check fails.
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "graph_builder.h"
#include "rss.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace {

using tfreeze::Model;
using tfreeze::Tensor;

// One set of feeds: tensors in signature order, filled from `seed`.
std::vector<Tensor> MakeFeeds(const Model& model, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> tensors;
  for (const tfreeze::TensorInfo& input : model.inputs()) {
    tfreeze::Shape shape = input.shape;
    for (auto& dim : shape) dim = dim < 0 ? 1 : dim;
    if (input.dtype == tfreeze::DType::kString) {
      std::vector<std::string> values(tfreeze::NumElements(shape));
      for (auto& value : values) value = std::to_string(rng() % 1000);
      tensors.push_back(Tensor::FromStrings(shape, values));
      continue;
    }
    Tensor tensor(input.dtype, shape);
    auto* bytes = static_cast<unsigned char*>(tensor.raw_data());
    // Small non-negative values valid for every numeric dtype (as indices too).
    std::size_t width = tfreeze::DTypeSize(input.dtype);
    for (std::size_t i = 0; i < tensor.byte_size(); ++i) bytes[i] = 0;
    for (std::size_t i = 0; width && i < tensor.byte_size(); i += width) {
      if (input.dtype == tfreeze::DType::kFloat32) {
        float v = static_cast<float>(rng() % 1000) / 1000.0f;
        std::memcpy(bytes + i, &v, sizeof v);
      } else if (input.dtype == tfreeze::DType::kFloat64) {
        double v = static_cast<double>(rng() % 1000) / 1000.0;
        std::memcpy(bytes + i, &v, sizeof v);
      } else {
        bytes[i] = static_cast<unsigned char>(rng() % 2);
      }
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

// The outputs' bytes, concatenated: equal strings mean bit-identical outputs.
std::string RunToBytes(const Model& model, const std::vector<Tensor>& tensors) {
  std::vector<tfreeze::Feed> feeds;
  for (std::size_t i = 0; i < tensors.size(); ++i)
    feeds.emplace_back(model.inputs()[i].name, tensors[i]);
  std::string bytes;
  for (const Tensor& out : model.Run(feeds)) {
    if (out.dtype() == tfreeze::DType::kString) {
      for (const std::string& s : out.ToStrings()) bytes += s + '\0';
    } else {
      bytes.append(static_cast<const char*>(out.raw_data()), out.byte_size());
    }
  }
  return bytes;
}

bool SoakMemory(const Model& model, long runs) {
  std::vector<Tensor> feeds = MakeFeeds(model, 1);
  const long step = runs / 10;
  std::int64_t baseline = 0, peak = 0;
  for (long i = 1; i <= runs; ++i) {
    RunToBytes(model, feeds);
    if (i % step != 0) continue;
    std::int64_t rss = tfreeze::testing::ResidentBytes();
    if (i == step) baseline = rss;
    peak = std::max(peak, rss);
    std::cout << "  run " << i << ": RSS " << rss / 1024 << " KiB\n";
  }
  double growth = 100.0 * (peak - baseline) / baseline;
  bool ok = growth <= 2.0;
  std::cout << "memory: " << runs << " runs, RSS after warm-up " << baseline / 1024
            << " KiB, peak " << peak / 1024 << " KiB (+" << growth << "%): "
            << (ok ? "flat" : "GREW MORE THAN 2%") << "\n";
  return ok;
}

bool SoakThreads(const Model& model, int threads, int per_thread) {
  std::vector<std::vector<std::string>> parallel(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        parallel[t].push_back(RunToBytes(model, MakeFeeds(model, 1000 + t * per_thread + i)));
    });
  }
  for (auto& thread : pool) thread.join();
  long mismatches = 0;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i)
      if (RunToBytes(model, MakeFeeds(model, 1000 + t * per_thread + i)) != parallel[t][i])
        ++mismatches;
  std::cout << "threads: " << threads << " x " << per_thread << " runs, " << mismatches
            << " differ from serial\n";
  return mismatches == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path;
  long runs = 100000;
  int threads = 8, per_thread = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--model") model_path = argv[i + 1];
    else if (flag == "--runs") runs = std::stol(argv[i + 1]);
    else if (flag == "--threads") threads = std::stoi(argv[i + 1]);
    else if (flag == "--per-thread") per_thread = std::stoi(argv[i + 1]);
    else {
      std::cerr << "tfreeze_soak: error: unknown option " << flag << "\n";
      return 2;
    }
  }
  try {
    Model model = model_path.empty() ? Model::FromBytes(tfreeze::testing::AffineGraphDef())
                                     : Model::Load(model_path);
    std::cout << "model: " << (model_path.empty() ? "affine test graph" : model_path) << "\n";
    bool ok = SoakMemory(model, runs);
    ok = SoakThreads(model, threads, per_thread) && ok;
    return ok ? 0 : 1;
  } catch (const tfreeze::Error& e) {
    std::cerr << "tfreeze_soak: error: " << e.what() << "\n";
    return 2;
  }
}
