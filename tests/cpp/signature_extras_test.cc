// Optional inputs and init ops: the signature keys beyond inputs and outputs.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

TEST(OptionalInputTest, TheSignatureMarksTheInputOptional) {
  Model model = Model::FromBytes(testing::OptionalInputGraphDef());
  ASSERT_EQ(model.inputs().size(), 2u);
  EXPECT_FALSE(model.inputs()[0].optional);
  EXPECT_TRUE(model.inputs()[1].optional);
  EXPECT_FALSE(model.outputs()[0].optional);
}

TEST(OptionalInputTest, LeftUnfedItTakesItsDefault) {
  Model model = Model::FromBytes(testing::OptionalInputGraphDef());
  Tensor x = Tensor::FromVector<float>({3}, {1, 2, 3});
  EXPECT_EQ(model.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{2, 4, 6}));
}

TEST(OptionalInputTest, FeedingItOverridesTheDefault) {
  Model model = Model::FromBytes(testing::OptionalInputGraphDef());
  Tensor x = Tensor::FromVector<float>({3}, {1, 2, 3});
  Tensor scale = Tensor::FromVector<float>({}, {10});
  EXPECT_EQ(model.Run({{"x", x}, {"scale", scale}})[0].ToVector<float>(),
            (std::vector<float>{10, 20, 30}));
}

TEST(OptionalInputTest, AMissingRequiredInputNamesBothKinds) {
  Model model = Model::FromBytes(testing::OptionalInputGraphDef());
  Tensor scale = Tensor::FromVector<float>({}, {10});
  try {
    model.Run({{"scale", scale}});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "missing input \"x\"; required inputs are: x; optional inputs are: scale");
  }
}

std::string LoadErrorOf(const std::string& signature) {
  try {
    Model::FromBytes(testing::AffineGraphDefWithSignature(signature));
  } catch (const LoadError& e) {
    return e.what();
  }
  return "no error";
}

std::string MarkOptional(std::string signature, const std::string& tensor) {
  const std::string entry_end = "\"tensor\":\"" + tensor + "\"";
  signature.insert(signature.find(entry_end) + entry_end.size(), ",\"optional\":true");
  return signature;
}

TEST(OptionalInputTest, APlaceholderHasNoDefaultSoCannotBeOptional) {
  const std::string message = LoadErrorOf(MarkOptional(testing::AffineSignature(), "x:0"));
  EXPECT_NE(message.find("input \"x\" is marked optional but its tensor is a Placeholder"),
            std::string::npos)
      << message;
}

TEST(OptionalInputTest, AnOutputCannotBeOptional) {
  const std::string message = LoadErrorOf(MarkOptional(testing::AffineSignature(), "y:0"));
  EXPECT_NE(message.find("output \"y\" is marked optional"), std::string::npos) << message;
}

TEST(InitOpTest, LookupsSeeTheImportedTable) {
  Model model = Model::FromBytes(testing::TableGraphDef());
  Tensor keys = Tensor::FromVector<int64_t>({4}, {3, 1, 7, 2});
  EXPECT_EQ(model.Run({{"key", keys}})[0].ToVector<float>(), (std::vector<float>{30, 10, -1, 20}));
}

TEST(InitOpTest, WithoutTheInitListTheTableIsEmptyAndRunFails) {
  Model model = Model::FromBytes(testing::TableGraphDef(""));
  Tensor keys = Tensor::FromVector<int64_t>({1}, {1});
  EXPECT_THROW(model.Run({{"key", keys}}), RunError);
}

TEST(InitOpTest, AnInitNodeMissingFromTheGraphIsALoadErrorNamingIt) {
  try {
    Model::FromBytes(testing::TableGraphDef("nowhere"));
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_NE(
        std::string(e.what()).find("invalid signature: the graph has no init node \"nowhere\""),
        std::string::npos)
        << e.what();
  }
}

TEST(InitOpTest, AnInitOpThatFailsIsALoadErrorWithTensorFlowsMessage) {
  // A placeholder cannot run unfed, so as an init op it fails at load.
  try {
    Model::FromBytes(testing::TableGraphDef("key"));
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("could not run the model's initializer ops (key): "), std::string::npos)
        << message;
    EXPECT_NE(message.find("placeholder"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tfreeze
