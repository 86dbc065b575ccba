// Latency of a Model measured in a C++ loop.
//
//   tfreeze::BenchmarkOptions options;
//   options.iterations = 1000;
//   tfreeze::LatencyStats stats = tfreeze::Benchmark(model, feeds, options);
//   std::cout << stats.p50_us << " us\n";
#ifndef TFREEZE_BENCHMARK_H_
#define TFREEZE_BENCHMARK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tfreeze/model.h"

namespace tfreeze {

struct BenchmarkOptions {
  int warmup = 10;          // runs before timing: the first run builds kernels
  int iterations = 200;     // timed runs, at most
  double max_seconds = 0;   // stop timing after this long (0: no limit)
  std::vector<std::string> fetches;  // empty: every output
};

// Per-run wall-clock latency in microseconds.
struct LatencyStats {
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double mean_us = 0;
  double stddev_us = 0;
  double min_us = 0;
  double max_us = 0;
  std::int64_t iterations = 0;
  std::vector<double> samples_us;  // every timed run, in order
};

// Feeds are validated once, then run with Model::RunPrepared.
LatencyStats Benchmark(const Model& model, const std::vector<Feed>& feeds,
                       const BenchmarkOptions& options = {});

// Summary statistics of latencies (microseconds); empty input gives zeros.
LatencyStats SummarizeLatencies(std::vector<double> samples_us);

}  // namespace tfreeze

#endif  // TFREEZE_BENCHMARK_H_
