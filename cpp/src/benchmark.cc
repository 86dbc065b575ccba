#include "tfreeze/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

// Nearest-rank percentile of sorted samples.
double Percentile(const std::vector<double>& sorted, double fraction) {
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * sorted.size()));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

void CheckOptions(const BenchmarkOptions& options) {
  if (options.warmup < 0 || options.iterations < 1 || options.max_seconds < 0) {
    throw Error(Code::kInvalidArgument,
                "benchmark needs warmup >= 0, iterations >= 1 and max_seconds >= 0; got "
                "warmup " + std::to_string(options.warmup) + ", iterations " +
                    std::to_string(options.iterations) + ", max_seconds " +
                    std::to_string(options.max_seconds));
  }
}

}  // namespace

LatencyStats SummarizeLatencies(std::vector<double> samples_us) {
  LatencyStats stats;
  if (samples_us.empty()) return stats;
  std::vector<double> sorted = samples_us;
  std::sort(sorted.begin(), sorted.end());
  const double count = static_cast<double>(sorted.size());
  stats.iterations = static_cast<std::int64_t>(sorted.size());
  stats.p50_us = Percentile(sorted, 0.50);
  stats.p90_us = Percentile(sorted, 0.90);
  stats.p99_us = Percentile(sorted, 0.99);
  stats.min_us = sorted.front();
  stats.max_us = sorted.back();
  stats.mean_us = std::accumulate(sorted.begin(), sorted.end(), 0.0) / count;
  double squares = 0;
  for (double sample : sorted) squares += (sample - stats.mean_us) * (sample - stats.mean_us);
  stats.stddev_us = std::sqrt(squares / count);
  stats.samples_us = std::move(samples_us);
  return stats;
}

LatencyStats Benchmark(const Model& model, const std::vector<Feed>& feeds,
                       const BenchmarkOptions& options) {
  CheckOptions(options);
  using Clock = std::chrono::steady_clock;
  const Model::Prepared prepared = model.Prepare(feeds, options.fetches);
  auto run = [&] {
    model.RunPrepared(prepared.input_indices, prepared.values, prepared.output_indices);
  };
  for (int i = 0; i < options.warmup; ++i) run();

  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(options.iterations));
  const auto start = Clock::now();
  for (int i = 0; i < options.iterations; ++i) {
    const auto before = Clock::now();
    run();
    const auto after = Clock::now();
    samples.push_back(std::chrono::duration<double, std::micro>(after - before).count());
    if (options.max_seconds > 0 &&
        std::chrono::duration<double>(after - start).count() >= options.max_seconds) {
      break;
    }
  }
  return SummarizeLatencies(std::move(samples));
}

}  // namespace tfreeze
