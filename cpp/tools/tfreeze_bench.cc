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
#include "tool_options.h"

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

// Zero-filled (or "tfreeze"-filled) inputs of the signature's shapes, batch set.
struct FilledFeeds {
  std::vector<tfreeze::Tensor> tensors;
  std::vector<tfreeze::Feed> feeds;
};

FilledFeeds FillInputs(const tfreeze::Model& model, std::int64_t batch,
                       const std::map<std::string, tfreeze::Shape>& overrides) {
  FilledFeeds filled;
  for (const auto& input : model.inputs()) {
    filled.tensors.push_back(FilledTensor(input, ConcreteShape(input, batch, overrides)));
  }
  for (std::size_t i = 0; i < filled.tensors.size(); ++i) {
    filled.feeds.emplace_back(model.inputs()[i].name, filled.tensors[i]);
  }
  return filled;
}

void PrintText(const std::string& model_path, double init_ms, double first_run_ms,
               const tfreeze::LatencyStats& stats) {
  std::cout << model_path << ": init " << init_ms << " ms, first run " << first_run_ms << " ms\n"
            << stats.iterations << " runs: p50 " << stats.p50_us << " us, p90 " << stats.p90_us
            << " us, p99 " << stats.p99_us << " us, mean " << stats.mean_us << " us (min "
            << stats.min_us << ", max " << stats.max_us << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark a tfreeze .pb in a C++ loop (zero-filled inputs)."};
  tfreeze::tools::ToolOptions tool;
  std::int64_t batch = 1;
  std::vector<std::string> shape_specs;
  tfreeze::BenchmarkOptions bench;
  bench.iterations = 1000;
  bench.max_seconds = 10.0;
  bool xla = false;
  tfreeze::tools::AddToolOptions(app, tool, "model,--graph", "--num_threads");
  app.add_option("--batch", batch, "size of each input's open first dimension")
      ->check(CLI::PositiveNumber);
  app.add_option("--input_layer_shape", shape_specs, "NAME=D1,D2,...: a full shape override");
  app.add_option("--warmup_runs", bench.warmup, "untimed runs first")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max_runs", bench.iterations, "timed runs at most")
      ->check(CLI::PositiveNumber);
  app.add_option("--max_time", bench.max_seconds, "seconds of timed runs at most (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--xla", xla, "compile the graph with XLA's JIT");
  if (const int code = tfreeze::tools::ParseArguments(app, tool, argc, argv); code >= 0) {
    return code;
  }
  tfreeze::tools::EnsureConfigEnvironment(tool, "tfreeze-bench", argv);

  return tfreeze::tools::RunReportingErrors("tfreeze-bench", [&] {
    tfreeze::Options options = tool.ToOptions();
    options.xla_jit = xla;
    const auto load_start = Clock::now();
    const tfreeze::Model model = tfreeze::Model::Load(tool.model_path, options);
    const double init_ms = MillisecondsSince(load_start);

    const FilledFeeds inputs = FillInputs(model, batch, ParseShapes(shape_specs));
    const auto first_start = Clock::now();
    model.Run(inputs.feeds);
    const double first_run_ms = MillisecondsSince(first_start);

    const tfreeze::LatencyStats stats = tfreeze::Benchmark(model, inputs.feeds, bench);
    const nlohmann::json report = {
        {"model", tool.model_path},  {"batch", batch},          {"threads", tool.threads},
        {"device", tool.device},      {"xla", xla},
        {"executor", tfreeze::ExecutorName(model.executor())},
        {"init_ms", init_ms},        {"first_run_ms", first_run_ms},
        {"p50_us", stats.p50_us},    {"p90_us", stats.p90_us},  {"p99_us", stats.p99_us},
        {"mean_us", stats.mean_us},  {"min_us", stats.min_us},  {"max_us", stats.max_us},
        {"stddev_us", stats.stddev_us}, {"iterations", stats.iterations}};
    if (tool.json) {
      std::cout << report.dump(2) << "\n";
    } else {
      PrintText(tool.model_path, init_ms, first_run_ms, stats);
    }
    return 0;
  });
}
