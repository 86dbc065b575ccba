// The executor options: the single-threaded executor and caller-thread runs give
// the default executor's results; graphs it cannot run are refused at load with
// the reason, or, with "auto", run on the default executor.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "session_config.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

std::vector<float> RunAffine(const Model& model) {
  Tensor x = Tensor::FromVector<float>({2, 3}, {1, 1, 1, 0.5f, -2, 3});
  return model.Run({{"x", x}}, {"y"})[0].ToVector<float>();
}

Options WithExecutor(Executor executor, bool caller_thread = false) {
  Options options;
  options.intra_op_threads = 1;
  options.executor = executor;
  options.caller_thread = caller_thread;
  return options;
}

TEST(ExecutorTest, EveryExecutorGivesTheDefaultExecutorsResults) {
  const std::vector<float> expected =
      RunAffine(Model::FromBytes(testing::AffineGraphDef(), WithExecutor(Executor::kDefault)));
  EXPECT_EQ(expected, (std::vector<float>{19, 32, 19.5f, 31}));
  for (Executor executor : {Executor::kSingleThreaded, Executor::kAuto}) {
    for (bool caller_thread : {false, true}) {
      Model model =
          Model::FromBytes(testing::AffineGraphDef(), WithExecutor(executor, caller_thread));
      EXPECT_EQ(model.executor(), Executor::kSingleThreaded);
      EXPECT_EQ(RunAffine(model), expected) << ExecutorName(executor) << " " << caller_thread;
    }
  }
}

// "auto" is the default, and weighs the graph's constants: single-threaded up
// to kSmallGraphBytes, TensorFlow's executor past it.
TEST(ExecutorTest, AutoIsTheDefaultAndChoosesByTheWeightOfTheGraphsConstants) {
  EXPECT_EQ(Options{}.executor, Executor::kAuto);
  EXPECT_EQ(Model::FromBytes(testing::AffineGraphDef()).executor(), Executor::kSingleThreaded);
  constexpr std::size_t kFloats = kSmallGraphBytes / sizeof(float);
  const Model under = Model::FromBytes(testing::AffineGraphDefWithWeights(kFloats - 1024));
  EXPECT_EQ(under.executor(), Executor::kSingleThreaded);
  const Model over = Model::FromBytes(testing::AffineGraphDefWithWeights(kFloats + 1024));
  EXPECT_EQ(over.executor(), Executor::kDefault);
  Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  EXPECT_EQ(over.Run({{"x", x}}, {"y"})[0].ToVector<float>(), (std::vector<float>{19, 32}));
  // An explicit choice is not weighed.
  EXPECT_EQ(Model::FromBytes(testing::AffineGraphDefWithWeights(kFloats + 1024),
                             WithExecutor(Executor::kSingleThreaded))
                .executor(),
            Executor::kSingleThreaded);
}

TEST(ExecutorTest, OptionsReachTensorFlowsConfigProto) {
  Options options = WithExecutor(Executor::kSingleThreaded, /*caller_thread=*/true);
  const std::string config = internal::SerializeConfig(options);
  EXPECT_NE(config.find("SINGLE_THREADED_EXECUTOR"), std::string::npos);
  // inter_op_parallelism_threads (field 5) = -1: a ten-byte varint.
  EXPECT_NE(config.find(std::string("\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11)),
            std::string::npos);
  EXPECT_EQ(internal::SerializeConfig(WithExecutor(Executor::kDefault))
                .find("SINGLE_THREADED_EXECUTOR"),
            std::string::npos);
}

TEST(ExecutorTest, SingleThreadedRefusesTf1ControlFlowNamingTheNode) {
  try {
    Model::FromBytes(testing::SwitchGraphDef(), WithExecutor(Executor::kSingleThreaded));
    FAIL() << "loaded";
  } catch (const LoadError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot run TF1 control flow, and node \"switch\" is a Switch op"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("use executor \"default\", or \"auto\""), std::string::npos);
  }
}

TEST(ExecutorTest, AutoRunsTf1ControlFlowOnTheDefaultExecutor) {
  Model model = Model::FromBytes(testing::SwitchGraphDef(), WithExecutor(Executor::kAuto));
  EXPECT_EQ(model.executor(), Executor::kDefault);
  Tensor x = Tensor::FromVector<float>({2}, {1.5f, -2});
  EXPECT_EQ(model.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{1.5f, -2}));
}

// XLA's JIT clusters fail on the single-threaded executor at the first Run;
// tfreeze says so at load, and "auto" keeps the default executor with XLA.
TEST(ExecutorTest, XlaJitRunsOnTheDefaultExecutorAndRefusesSingleThreaded) {
  Options options = WithExecutor(Executor::kAuto);
  options.xla_jit = true;
  Model model = Model::FromBytes(testing::AffineGraphDef(), options);
  EXPECT_EQ(model.executor(), Executor::kDefault);
  EXPECT_EQ(RunAffine(model), (std::vector<float>{19, 32, 19.5f, 31}));
  options.executor = Executor::kSingleThreaded;
  try {
    Model::FromBytes(testing::AffineGraphDef(), options);
    FAIL() << "loaded";
  } catch (const LoadError& e) {
    EXPECT_NE(std::string(e.what()).find("xla_jit is on"), std::string::npos) << e.what();
  }
}

TEST(ExecutorTest, CallerThreadWithInterOpThreadsIsAnError) {
  Options options = WithExecutor(Executor::kDefault, /*caller_thread=*/true);
  options.inter_op_threads = 2;
  try {
    Model::FromBytes(testing::AffineGraphDef(), options);
    FAIL() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be combined with inter_op_threads = 2"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExecutorTest, NamesRoundTripAndUnknownNamesListTheChoices) {
  for (Executor executor : {Executor::kDefault, Executor::kSingleThreaded, Executor::kAuto}) {
    EXPECT_EQ(ParseExecutor(ExecutorName(executor)), executor);
  }
  try {
    ParseExecutor("fastest");
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "executor \"fastest\" is not one of: default, single_threaded, auto");
  }
}

}  // namespace
}  // namespace tfreeze
