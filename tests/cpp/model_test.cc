// Running a model: values, fetch selection, feed validation, threads.
#include "tfreeze/model.h"

#include <gtest/gtest.h>

#include <thread>

#include "graph_builder.h"
#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

class AffineModelTest : public ::testing::Test {
 protected:
  AffineModelTest() : model_(Model::FromBytes(testing::AffineGraphDef())) {}

  std::string ErrorOf(const std::vector<Feed>& feeds,
                      const std::vector<std::string>& fetches = {}) {
    try {
      model_.Run(feeds, fetches);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }

  Model model_;
  Tensor x_ = Tensor::FromVector<float>({2, 3}, {1, 0, 0, 1, 1, 1});
};

TEST_F(AffineModelTest, RunComputesEveryOutputInSignatureOrder) {
  std::vector<Tensor> outputs = model_.Run({{"x", x_}});
  ASSERT_EQ(outputs.size(), 2u);
  // Row [1,0,0] picks W's first row; [1,1,1] sums the rows. Plus b = [10, 20].
  EXPECT_EQ(outputs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(outputs[0].ToVector<float>(), (std::vector<float>{11, 22, 19, 32}));
  EXPECT_EQ(outputs[1].ToVector<float>(), (std::vector<float>{22, 44, 38, 64}));
}

TEST_F(AffineModelTest, FetchesSelectAndOrderOutputs) {
  std::vector<Tensor> outputs = model_.Run({{"x", x_}}, {"doubled", "y"});
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].ToVector<float>()[0], 22);
  EXPECT_EQ(outputs[1].ToVector<float>()[0], 11);
}

TEST_F(AffineModelTest, OpenBatchDimensionTakesAnySize) {
  Tensor big(DType::kFloat32, {17, 3});
  EXPECT_EQ(model_.Run({{"x", big}})[0].shape(), (Shape{17, 2}));
}

TEST_F(AffineModelTest, ZeroCopyFeedRuns) {
  alignas(64) float data[3] = {0, 1, 0};
  Tensor wrapped = Tensor::Wrap(DType::kFloat32, {1, 3}, data, sizeof(data), nullptr);
  EXPECT_EQ(model_.Run({{"x", wrapped}})[0].ToVector<float>(), (std::vector<float>{13, 24}));
}

TEST_F(AffineModelTest, UnknownInputListsTheValidOnes) {
  EXPECT_EQ(ErrorOf({{"image", x_}}), "unknown input \"image\"; inputs are: x");
  EXPECT_THROW(model_.Run({{"image", x_}}), UnknownNameError);
}

TEST_F(AffineModelTest, UnknownFetchListsTheValidOnes) {
  EXPECT_EQ(ErrorOf({{"x", x_}}, {"z"}), "unknown output \"z\"; outputs are: y, doubled");
}

TEST_F(AffineModelTest, WrongDtypeNamesExpectedAndGot) {
  Tensor ints(DType::kInt32, {2, 3});
  EXPECT_EQ(ErrorOf({{"x", ints}}),
            "input \"x\": expected float32 [?,3], got int32 [2,3]; inputs are: x");
  EXPECT_THROW(model_.Run({{"x", ints}}), DTypeError);
}

TEST_F(AffineModelTest, WrongRankIsAShapeError) {
  Tensor flat(DType::kFloat32, {3});
  EXPECT_EQ(ErrorOf({{"x", flat}}),
            "input \"x\": expected float32 [?,3], got float32 [3]; inputs are: x");
  EXPECT_THROW(model_.Run({{"x", flat}}), ShapeError);
}

TEST_F(AffineModelTest, WrongKnownDimIsAShapeError) {
  Tensor wide(DType::kFloat32, {2, 4});
  EXPECT_THROW(model_.Run({{"x", wide}}), ShapeError);
}

TEST_F(AffineModelTest, MissingAndRepeatedFeedsAreInputErrors) {
  EXPECT_EQ(ErrorOf({}), "missing input \"x\"; required inputs are: x");
  EXPECT_EQ(ErrorOf({{"x", x_}, {"x", x_}}), "input \"x\" is fed more than once");
}

TEST_F(AffineModelTest, ConcurrentRunsMatchTheSerialResultBitForBit) {
  const std::vector<float> expected = model_.Run({{"x", x_}})[1].ToVector<float>();
  constexpr int kThreads = 8;
  constexpr int kRuns = 300;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Tensor input = Tensor::FromVector<float>({2, 3}, {1, 0, 0, 1, 1, 1});
      for (int i = 0; i < kRuns; ++i) {
        if (model_.Run({{"x", input}}, {"doubled"})[0].ToVector<float>() != expected) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

TEST(StringModelTest, StringsGoInAndComeOut) {
  Model model = Model::FromBytes(testing::StringGraphDef());
  Tensor text = Tensor::FromStrings({3}, {"", "four", std::string(40, 'z')});
  std::vector<Tensor> outputs = model.Run({{"text", text}});
  EXPECT_EQ(outputs[0].ToVector<int32_t>(), (std::vector<int32_t>{0, 4, 40}));
  EXPECT_EQ(outputs[1].ToStrings(), text.ToStrings());
}

}  // namespace
}  // namespace tfreeze

namespace tfreeze {
namespace {

TEST(PreparedRunTest, PrepareValidatesOnceAndRunPreparedMatchesRun) {
  Model model = Model::FromBytes(testing::AffineGraphDef());
  Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  const Model::Prepared prepared = model.Prepare({{"x", x}}, {"doubled"});
  EXPECT_EQ(prepared.input_indices, std::vector<int>{0});
  EXPECT_EQ(prepared.output_indices, std::vector<int>{1});
  const auto outputs =
      model.RunPrepared(prepared.input_indices, prepared.values, prepared.output_indices);
  EXPECT_EQ(outputs[0].ToVector<float>(), (std::vector<float>{38, 64}));
  EXPECT_THROW(model.Prepare({{"x", x}}, {"nope"}), UnknownNameError);
}

// Twelve tensors each way: more than a run keeps on the stack (call_array.h),
// named out of the signature's order, so every lookup takes the hash path.
TEST(ManyTensorsTest, FeedsAndFetchesInAnyOrderPastTheStackArrays) {
  constexpr int kCount = 12;
  Model model = Model::FromBytes(testing::ManyInputsGraphDef(kCount));
  std::vector<Tensor> values;
  for (int i = 0; i < kCount; ++i) {
    values.push_back(Tensor::FromVector<float>({2}, {10.0f * i, -1.0f}));
  }
  std::vector<Feed> feeds;
  std::vector<std::string> fetches;
  for (int i = kCount - 1; i >= 0; --i) {
    feeds.emplace_back("x" + std::to_string(i), values[i]);
    fetches.push_back("y" + std::to_string((i * 5) % kCount));  // a permutation
  }
  const auto outputs = model.Run(feeds, fetches);
  ASSERT_EQ(outputs.size(), static_cast<std::size_t>(kCount));
  for (int j = 0; j < kCount; ++j) {
    const int i = ((kCount - 1 - j) * 5) % kCount;
    EXPECT_EQ(outputs[j].ToVector<float>(),
              (std::vector<float>{10.0f * i + i, -1.0f + i}))
        << fetches[j];
  }
  const auto every_output = model.Run(feeds);
  ASSERT_EQ(every_output.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(every_output[11].ToVector<float>(), (std::vector<float>{121, 10}));
  feeds.pop_back();  // x0
  EXPECT_THROW(model.Run(feeds), InputError);
}

TEST(ModelMoveTest, AMovedModelKeepsWorking) {
  Model first = Model::FromBytes(testing::AffineGraphDef());
  Model second = std::move(first);
  Tensor x(DType::kFloat32, {1, 3});
  EXPECT_EQ(second.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{10, 20}));
}

}  // namespace
}  // namespace tfreeze
