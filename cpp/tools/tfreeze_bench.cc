// tfreeze-bench: time a frozen model in a C++ loop, with the flags users know
// from TensorFlow's benchmark_model.
//
//   tfreeze-bench model.pb --batch 8 --num_threads 1 --max_runs 500 --json
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "tfreeze/tfreeze.h"

namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// NAME=D1,D2,... from --input_layer_shape.
std::map<std::string, tfreeze::Shape> ParseShapes(const std::vector<std::string>& specs) {
  std::map<std::string, tfreeze::Shape> shapes;
  for (const auto& spec : specs) {
    const auto equals = spec.find('=');
    if (equals == std::string::npos) {
      throw tfreeze::InputError("--input_layer_shape " + spec + " is not NAME=D1,D2,...");
    }
    tfreeze::Shape shape;
    std::stringstream dims(spec.substr(equals + 1));
    for (std::string dim; std::getline(dims, dim, ',');) shape.push_back(std::stoll(dim));
    shapes[spec.substr(0, equals)] = shape;
  }
  return shapes;
}

// The signature's shape with the batch (first open dim) set, or the override.
tfreeze::Shape ConcreteShape(const tfreeze::TensorInfo& input, std::int64_t batch,
                             const std::map<std::string, tfreeze::Shape>& overrides) {
  if (auto found = overrides.find(input.name); found != overrides.end()) return found->second;
  tfreeze::Shape shape = input.shape;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] >= 0) continue;
    if (i != 0) {
      throw tfreeze::ShapeError("input \"" + input.name + "\" has open dimension " +
                                std::to_string(i) + " in " + tfreeze::ShapeToString(input.shape) +
                                "; give its size with --input_layer_shape " + input.name +
                                "=D1,D2,...");
    }
    shape[i] = batch;
  }
  return shape;
}

tfreeze::Tensor FilledTensor(const tfreeze::TensorInfo& input, const tfreeze::Shape& shape) {
  if (input.dtype == tfreeze::DType::kString) {
    return tfreeze::Tensor::FromStrings(
        shape, std::vector<std::string>(tfreeze::NumElements(shape), "tfreeze"));
  }
  return tfreeze::Tensor(input.dtype, shape);  // zeros
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark a tfreeze .pb in a C++ loop (zero-filled inputs)."};
  std::string model_path;
  std::int64_t batch = 1;
  std::vector<std::string> shape_specs;
  int threads = 0;
  int warmup = 10;
  int max_runs = 1000;
  double max_time = 10.0;
  std::string device;
  std::string config;
  bool xla = false;
  bool json = false;
  app.add_option("model,--graph", model_path, "frozen .pb written by `tfreeze freeze`")
      ->required();
  app.add_option("--batch", batch, "size of each input's open first dimension")
      ->check(CLI::PositiveNumber);
  app.add_option("--input_layer_shape", shape_specs, "NAME=D1,D2,...: a full shape override");
  app.add_option("--num_threads", threads, "intra- and inter-op threads (0: TensorFlow decides)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--warmup_runs", warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--max_runs", max_runs, "timed runs at most")->check(CLI::PositiveNumber);
  app.add_option("--max_time", max_time, "seconds of timed runs at most (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", device, "cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)");
  app.add_option("--config", config, "a config file written by `tfreeze tune`");
  app.add_flag("--xla", xla, "compile the graph with XLA's JIT");
  app.add_flag("--json", json, "print JSON");
  CLI11_PARSE(app, argc, argv);

  try {
    tfreeze::Options options;
    options.intra_op_threads = options.inter_op_threads = threads;
    options.device = device;
    if (!config.empty()) options = tfreeze::LoadOptionsFile(config, options);
    options.xla_jit = xla;
    const auto load_start = Clock::now();
    const tfreeze::Model model = tfreeze::Model::Load(model_path, options);
    const double init_ms = MillisecondsSince(load_start);

    const auto overrides = ParseShapes(shape_specs);
    std::vector<tfreeze::Tensor> tensors;
    for (const auto& input : model.inputs()) {
      tensors.push_back(FilledTensor(input, ConcreteShape(input, batch, overrides)));
    }
    std::vector<tfreeze::Feed> feeds;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      feeds.emplace_back(model.inputs()[i].name, tensors[i]);
    }
    const auto first_start = Clock::now();
    model.Run(feeds);
    const double first_run_ms = MillisecondsSince(first_start);

    tfreeze::BenchmarkOptions bench;
    bench.warmup = warmup;
    bench.iterations = max_runs;
    bench.max_seconds = max_time;
    const tfreeze::LatencyStats stats = tfreeze::Benchmark(model, feeds, bench);
    const nlohmann::json report = {
        {"model", model_path},       {"batch", batch},          {"threads", threads},
        {"device", device},           {"xla", xla},
        {"init_ms", init_ms},        {"first_run_ms", first_run_ms},
        {"p50_us", stats.p50_us},    {"p90_us", stats.p90_us},  {"p99_us", stats.p99_us},
        {"mean_us", stats.mean_us},  {"min_us", stats.min_us},  {"max_us", stats.max_us},
        {"stddev_us", stats.stddev_us}, {"iterations", stats.iterations}};
    if (json) {
      std::cout << report.dump(2) << "\n";
    } else {
      std::cout << model_path << ": init " << init_ms << " ms, first run " << first_run_ms
                << " ms\n"
                << stats.iterations << " runs: p50 " << stats.p50_us << " us, p90 "
                << stats.p90_us << " us, p99 " << stats.p99_us << " us, mean " << stats.mean_us
                << " us (min " << stats.min_us << ", max " << stats.max_us << ")\n";
    }
  } catch (const tfreeze::Error& e) {
    std::cerr << "tfreeze-bench: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
