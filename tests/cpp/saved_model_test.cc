// The MetaGraphDef reading behind SavedModel loading, on hand-built protobuf
// bytes (field numbers from meta_graph.proto), bound to the affine test graph.
#include <gtest/gtest.h>

#include "graph_builder.h"
#include "proto_reader.h"
#include "saved_model.h"
#include "status.h"
#include "tf_handles.h"
#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

std::string Varint(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  return out + static_cast<char>(value);
}

std::string Field(int number, const std::string& bytes) {  // length-delimited
  return Varint(static_cast<std::uint64_t>(number) << 3 | 2) + Varint(bytes.size()) + bytes;
}

std::string IntField(int number, std::int64_t value) {
  return Varint(static_cast<std::uint64_t>(number) << 3) + Varint(static_cast<std::uint64_t>(value));
}

std::string TensorInfo(const std::string& tensor, int dtype) {
  const std::string shape = Field(2, IntField(1, -1)) + Field(2, IntField(1, 3));
  return Field(1, tensor) + IntField(2, dtype) + Field(3, shape);
}

std::string MetaGraph(int dtype) {
  const std::string inputs = Field(1, Field(1, "features") + Field(2, TensorInfo("x:0", dtype)));
  const std::string outputs = Field(2, Field(1, "scores") + Field(2, TensorInfo("y:0", dtype))) +
                              Field(2, Field(1, "twice") + Field(2, TensorInfo("doubled:0", dtype)));
  const std::string signature = inputs + outputs + Field(3, "tensorflow/serving/predict");
  return Field(5, Field(1, "__saved_model_init_op") + Field(2, "")) +
         Field(5, Field(1, "serving_default") + Field(2, signature));
}

class SavedModelSignatureTest : public ::testing::Test {
 protected:
  SavedModelSignatureTest() : graph_(TF_NewGraph()) {
    const std::string graph_def = testing::AffineGraphDef();
    internal::BufferPtr buffer(TF_NewBufferFromString(graph_def.data(), graph_def.size()));
    internal::ImportOptionsPtr options(TF_NewImportGraphDefOptions());
    auto status = internal::NewStatus();
    TF_GraphImportGraphDef(graph_.get(), buffer.get(), options.get(), status.get());
    internal::ThrowIfError(status.get(), "import");
  }
  internal::GraphPtr graph_;
};

TEST_F(SavedModelSignatureTest, ReadsInputsAndOutputsInKeyOrder) {
  const internal::Signature signature = internal::ParseSavedModelSignature(
      MetaGraph(1), "serving_default", graph_.get(), "test");
  ASSERT_EQ(signature.inputs.size(), 1u);
  EXPECT_EQ(signature.inputs[0].info.name, "features");
  EXPECT_EQ(signature.inputs[0].info.shape, (Shape{-1, 3}));
  EXPECT_EQ(signature.inputs[0].info.dtype, DType::kFloat32);
  ASSERT_EQ(signature.outputs.size(), 2u);
  EXPECT_EQ(signature.outputs[0].info.name, "scores");
  EXPECT_EQ(signature.outputs[1].info.name, "twice");
}

TEST_F(SavedModelSignatureTest, MissingSignatureListsTheUserFacingOnes) {
  try {
    internal::ParseSavedModelSignature(MetaGraph(1), "predict", graph_.get(), "test");
    FAIL() << "expected LoadError";
  } catch (const LoadError& e) {
    EXPECT_STREQ(e.what(), "test has no signature \"predict\"; its signatures are: serving_default");
  }
}

TEST_F(SavedModelSignatureTest, UnsupportedDtypeAndTruncatedBytesAreLoadErrors) {
  EXPECT_THROW(internal::ParseSavedModelSignature(MetaGraph(20), "serving_default", graph_.get(),
                                                  "test"),
               LoadError);  // 20: DT_RESOURCE
  const std::string bytes = MetaGraph(1);
  EXPECT_THROW(internal::ParseSavedModelSignature(bytes.substr(0, bytes.size() - 5),
                                                  "serving_default", graph_.get(), "test"),
               LoadError);
}

TEST(ProtoReaderTest, WalksVarintAndNestedFieldsAndSkipsTheRest) {
  const std::string message = IntField(1, 300) + Field(2, "abc") + IntField(3, 7);
  internal::ProtoReader reader(message);
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.field(), 1);
  EXPECT_EQ(reader.Varint(), 300u);
  ASSERT_TRUE(reader.Next());  // field 2 left unread: skipped
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.field(), 3);
  EXPECT_EQ(reader.Varint(), 7u);
  EXPECT_FALSE(reader.Next());
}

}  // namespace
}  // namespace tfreeze
