#include "tfreeze/benchmark.h"

#include <gtest/gtest.h>

#include "graph_builder.h"
#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

TEST(SummarizeLatenciesTest, NearestRankPercentilesMeanAndSpread) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);  // unsorted on purpose
  LatencyStats stats = SummarizeLatencies(samples);
  EXPECT_EQ(stats.iterations, 100);
  EXPECT_DOUBLE_EQ(stats.p50_us, 50);
  EXPECT_DOUBLE_EQ(stats.p90_us, 90);
  EXPECT_DOUBLE_EQ(stats.p99_us, 99);
  EXPECT_DOUBLE_EQ(stats.min_us, 1);
  EXPECT_DOUBLE_EQ(stats.max_us, 100);
  EXPECT_DOUBLE_EQ(stats.mean_us, 50.5);
  EXPECT_NEAR(stats.stddev_us, 28.866, 1e-3);
  EXPECT_EQ(stats.samples_us, samples);  // kept in run order
}

TEST(SummarizeLatenciesTest, EmptyGivesZeros) {
  EXPECT_EQ(SummarizeLatencies({}).iterations, 0);
}

TEST(BenchmarkTest, TimesTheRequestedRuns) {
  Model model = Model::FromBytes(testing::AffineGraphDef());
  Tensor x(DType::kFloat32, {4, 3});
  BenchmarkOptions options;
  options.warmup = 2;
  options.iterations = 25;
  LatencyStats stats = Benchmark(model, {{"x", x}}, options);
  EXPECT_EQ(stats.iterations, 25);
  EXPECT_GT(stats.min_us, 0);
  EXPECT_LE(stats.p50_us, stats.p99_us);
}

TEST(BenchmarkTest, ValidatesFeedsAndOptions) {
  Model model = Model::FromBytes(testing::AffineGraphDef());
  Tensor wrong(DType::kFloat32, {4, 2});
  EXPECT_THROW(Benchmark(model, {{"x", wrong}}), ShapeError);
  Tensor x(DType::kFloat32, {1, 3});
  BenchmarkOptions options;
  options.iterations = 0;
  EXPECT_THROW(Benchmark(model, {{"x", x}}, options), Error);
}

}  // namespace
}  // namespace tfreeze

#include "tfreeze/version.h"

namespace tfreeze {
namespace {

TEST(VersionTest, ReportsTheTensorFlowItRunsOn) {
  EXPECT_EQ(std::string(TensorFlowVersion()).rfind("2.", 0), 0u) << TensorFlowVersion();
  EXPECT_STREQ(TFREEZE_VERSION, "0.1.0");
}

TEST(ErrorsTest, CodesHaveTensorFlowsNamesAndErrorsCarryThem) {
  EXPECT_STREQ(CodeName(Code::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_STREQ(CodeName(Code::kFailedPrecondition), "FAILED_PRECONDITION");
  const ShapeError error("bad shape");
  EXPECT_EQ(error.code(), Code::kInvalidArgument);
  EXPECT_STREQ(error.what(), "bad shape");
  const InputError& as_input = error;  // the hierarchy users catch by
  EXPECT_STREQ(as_input.what(), "bad shape");
}

}  // namespace
}  // namespace tfreeze
