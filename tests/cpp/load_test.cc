// Model loading and every way it can fail.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "graph_builder.h"
#include "temp_file.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"
#include "tfreeze/tensor.h"

namespace tfreeze {
namespace {

using testing::AffineGraphDef;
using testing::AffineGraphDefWithSignature;
using testing::AffineSignature;

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

std::string MessageOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(LoadTest, SignatureGivesNamesDtypesShapesInOrder) {
  Model model = Model::FromBytes(AffineGraphDef());
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.inputs()[0].name, "x");
  EXPECT_EQ(model.inputs()[0].dtype, DType::kFloat32);
  EXPECT_EQ(model.inputs()[0].shape, (Shape{-1, 3}));
  ASSERT_EQ(model.outputs().size(), 2u);
  EXPECT_EQ(model.outputs()[0].name, "y");
  EXPECT_EQ(model.outputs()[1].name, "doubled");
}

TEST(LoadTest, LoadsFromAFile) {
  const testing::TempFile file("affine.pb");
  std::ofstream(file.path(), std::ios::binary) << AffineGraphDef();
  Model model = Model::Load(file.path());
  EXPECT_EQ(model.outputs()[1].name, "doubled");
}

TEST(LoadTest, MissingFileIsFileNotFoundError) {
  EXPECT_THROW(Model::Load("/no/such/model.pb"), FileNotFoundError);
  EXPECT_NE(MessageOf([] { Model::Load("/no/such/model.pb"); }).find("/no/such/model.pb"),
            std::string::npos);
}

TEST(LoadTest, DirectoryIsALoadErrorThatSaysFreezeFirst) {
  const std::string message = MessageOf([] { Model::Load(::testing::TempDir()); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
}

TEST(LoadTest, CorruptBytesAreALoadErrorWithTensorFlowsMessage) {
  std::string corrupt = AffineGraphDef();
  corrupt.resize(corrupt.size() / 2);
  try {
    Model::FromBytes(corrupt);
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("not a valid TensorFlow GraphDef"), std::string::npos);
  }
}

TEST(LoadTest, GraphWithoutSignatureIsALoadError) {
  const std::string message = MessageOf([] { Model::FromBytes(AffineGraphDefWithSignature("")); });
  EXPECT_NE(message.find("without a tfreeze signature"), std::string::npos) << message;
}

TEST(LoadTest, EmptyFileIsALoadError) {
  EXPECT_THROW(Model::FromBytes(""), LoadError);
}

TEST(LoadTest, SignatureNamingAMissingNodeIsALoadError) {
  const std::string broken = Replace(AffineSignature(), "\"y:0\"", "\"nowhere:0\"");
  const std::string message =
      MessageOf([&] { Model::FromBytes(AffineGraphDefWithSignature(broken)); });
  EXPECT_NE(message.find("no node \"nowhere\""), std::string::npos) << message;
}

TEST(LoadTest, SignatureWithWrongDtypeIsALoadError) {
  const std::string broken =
      Replace(AffineSignature(), "\"dtype\":\"float32\",\"shape\":[-1,3]",
              "\"dtype\":\"int32\",\"shape\":[-1,3]");
  const std::string message =
      MessageOf([&] { Model::FromBytes(AffineGraphDefWithSignature(broken)); });
  EXPECT_NE(message.find("declared int32 but the graph tensor has type float32"),
            std::string::npos)
      << message;
}

TEST(LoadTest, NewerSignatureVersionAsksForUpgrade) {
  const std::string newer = Replace(AffineSignature(), "\"version\":1", "\"version\":99");
  const std::string message =
      MessageOf([&] { Model::FromBytes(AffineGraphDefWithSignature(newer)); });
  EXPECT_NE(message.find("upgrade tfreeze"), std::string::npos) << message;
}

TEST(LoadTest, MalformedSignatureJsonIsALoadError) {
  EXPECT_THROW(Model::FromBytes(AffineGraphDefWithSignature("{not json")), LoadError);
  EXPECT_THROW(Model::FromBytes(AffineGraphDefWithSignature(R"({"version":1})")), LoadError);
}

TEST(LoadTest, NegativeThreadCountIsRejected) {
  Options options;
  options.intra_op_threads = -2;
  EXPECT_THROW(Model::FromBytes(AffineGraphDef(), options), Error);
}

TEST(LoadTest, JunkConfigProtoCarriesTensorFlowsMessage) {
  Options options;
  options.config_proto = "\xff\xff\xff";
  const std::string message = MessageOf([&] { Model::FromBytes(AffineGraphDef(), options); });
  EXPECT_NE(message.find("ConfigProto"), std::string::npos) << message;
}

}  // namespace
// The catalog's C++ side (docs/reliability.md): corrupted bytes end as a tfreeze
// error or a model that runs, never another exception or a crash.
TEST(LoadTest, BitFlippedGraphsLoadAndRunOrAreTfreezeErrors) {
  const std::string graph = AffineGraphDef();
  std::mt19937 random(7);
  int loaded = 0;
  for (int copy = 0; copy < 200; ++copy) {
    std::string flipped = graph;
    for (int flip = 0; flip < 4; ++flip) {
      flipped[random() % flipped.size()] ^= static_cast<char>(1 << (random() % 8));
    }
    try {
      Model model = Model::FromBytes(flipped);
      model.Run({{"x", Tensor::FromVector<float>({1, 3}, {1, 2, 3})}});
      ++loaded;
    } catch (const Error&) {
      // typed, with a message: what the catalog asks for
    }
  }
  EXPECT_LT(loaded, 200) << "no flip was noticed: the test is not corrupting anything";
}

TEST(LoadTest, ATensorWhoseElementCountOverflowsIsAShapeError) {
  const Shape huge{int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_THROW(Tensor(DType::kFloat32, huge), ShapeError);
}

}  // namespace tfreeze
