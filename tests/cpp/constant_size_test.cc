// Constants whose shape claims more memory than the file holds (TensorFlow
// fills in the values a TensorProto leaves out): refused at load before
// anything is allocated, listed by Inspect, and the limit is an option.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "constant_sizes.h"
#include "graph_builder.h"
#include "rss.h"
#include "temp_file.h"
#include "tfreeze/errors.h"
#include "tfreeze/isolated_model.h"
#include "tfreeze/model.h"
#include "worker_protocol.h"

namespace tfreeze {
namespace {

std::string Varint(std::uint64_t value) {
  std::string out;
  do {
    const auto low = static_cast<char>(value & 0x7F);
    value >>= 7;
    out += static_cast<char>(low | (value ? 0x80 : 0));
  } while (value);
  return out;
}

std::string Field(int number, const std::string& payload) {
  return Varint(static_cast<std::uint64_t>(number) << 3 | 2) + Varint(payload.size()) + payload;
}

// A float32 TensorProto of shape `dims` holding `values` (float_val, packed).
std::string FloatTensor(const std::vector<std::uint64_t>& dims, const std::vector<float>& values) {
  std::string shape, packed(values.size() * 4, '\0');
  for (std::uint64_t dim : dims) shape += Field(2, "\x08" + Varint(dim));
  if (!values.empty()) std::memcpy(packed.data(), values.data(), packed.size());
  return "\x08\x01" + Field(2, shape) + (values.empty() ? "" : Field(5, packed));
}

// A GraphDef node field: Const `name` (float32) holding `tensor`, added to the
// affine graph's bytes as protobuf reads a repeated field, one more node.
std::string ConstNode(const std::string& name, const std::string& tensor) {
  const std::string dtype = Field(1, "dtype") + Field(2, "\x30\x01");  // AttrValue.type = float
  const std::string value = Field(1, "value") + Field(2, Field(8, tensor));
  return Field(1, Field(1, name) + Field(2, "Const") + Field(5, dtype) + Field(5, value));
}

std::string WithConst(const std::vector<std::uint64_t>& dims, const std::vector<float>& values) {
  return testing::AffineGraphDef() + ConstNode("big", FloatTensor(dims, values));
}

std::string RefusalOf(const std::string& graph_def, const Options& options = {}) {
  try {
    Model::FromBytes(graph_def, options);
  } catch (const ConstantTooLargeError& e) {
    return e.what();
  }
  return "loaded";
}

TEST(ConstantSizeTest, OneValueClaimingFourGibIsRefusedBeforeAllocating) {
  const std::int64_t before = testing::ResidentBytes();
  const std::string message = RefusalOf(WithConst({std::uint64_t{1} << 30}, {1.0f}));
  EXPECT_NE(message.find("Const node \"big\" claims float32 [1073741824]"), std::string::npos)
      << message;
  EXPECT_NE(message.find("4294967296 bytes (4.0 GiB)"), std::string::npos) << message;
  EXPECT_NE(message.find("max_constant_bytes"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_LT(testing::ResidentBytes() - before, std::int64_t{200} << 20);
}

TEST(ConstantSizeTest, CountsThatOverflowAreRefusedNotWrapped) {
  EXPECT_NE(RefusalOf(WithConst({std::uint64_t{1} << 62}, {1.0f})).find("[4611686018427387904]"),
            std::string::npos);
  // 2^62 floats are 2^64 bytes, 0 once wrapped; [2^40, 2^40] wraps the count.
  const std::string wrapped = RefusalOf(WithConst({1ULL << 40, 1ULL << 40}, {}));
  EXPECT_NE(wrapped.find("2^64 bytes or more"), std::string::npos) << wrapped;
}

TEST(ConstantSizeTest, ABroadcastZerosConstantUnderTheLimitLoads) {
  // tf.zeros([1000, 1000]) folded into a Const: one value, 4 MB in memory.
  const Model model = Model::FromBytes(WithConst({1000, 1000}, {0.0f}));
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  EXPECT_EQ(model.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{19, 32}));
}

TEST(ConstantSizeTest, ConstantsStoredInFullDoNotCount) {
  Options options;
  options.max_constant_bytes = 1;
  EXPECT_EQ(RefusalOf(testing::AffineGraphDefWithWeights(1 << 20), options), "loaded");
}

TEST(ConstantSizeTest, TheOptionLowersAndRaisesTheLimit) {
  Options options;
  options.max_constant_bytes = 1 << 20;
  const std::string message = RefusalOf(WithConst({1000, 1000}, {0.0f}), options);
  EXPECT_NE(message.find("at most 1048576 bytes (1.0 MiB), Options::max_constant_bytes;"),
            std::string::npos) << message;
  options.max_constant_bytes = kNoConstantLimit;
  EXPECT_EQ(RefusalOf(WithConst({std::uint64_t{1} << 30}, {1.0f}), options), "loaded");
}

TEST(ConstantSizeTest, ManyMediumConstantsCountTogether) {
  std::string graph = testing::AffineGraphDef();
  for (int i = 0; i < 5; ++i) {
    graph += ConstNode("medium" + std::to_string(i), FloatTensor({1 << 24}, {1.0f}));
  }
  const std::string message = RefusalOf(graph);
  EXPECT_NE(message.find("5 constants claim 335544320 bytes (320.0 MiB) in all"),
            std::string::npos) << message;
}

TEST(ConstantSizeTest, ClaimedSizesFollowEachDtypesField) {
  internal::ClaimedSize claimed;
  // int64 [4], int64_val packed 1, 2, 3, 4: all given.
  ASSERT_TRUE(internal::TensorClaimedSize("\x08\x09" + Field(2, Field(2, "\x08\x04")) +
                                              Field(10, "\x01\x02\x03\x04"), &claimed));
  EXPECT_EQ(claimed.bytes, 32u);
  EXPECT_FALSE(claimed.filled);
  // string [1000] repeating one 100-byte string: a tstring each, plus the text.
  ASSERT_TRUE(internal::TensorClaimedSize("\x08\x07" + Field(2, Field(2, "\x08\xe8\x07")) +
                                              Field(8, std::string(100, 'a')), &claimed));
  EXPECT_EQ(claimed.bytes, 1000u * 124);
  EXPECT_TRUE(claimed.filled);
  // float [4] in tensor_content of 16 bytes: stored in full.
  ASSERT_TRUE(internal::TensorClaimedSize(
      "\x08\x01" + Field(2, Field(2, "\x08\x04")) + Field(4, std::string(16, '\0')), &claimed));
  EXPECT_FALSE(claimed.filled);
  EXPECT_FALSE(internal::TensorClaimedSize("\x08\x01" + Field(2, "\x18\x01"), &claimed));
}

TEST(ConstantSizeTest, InspectListsThemWithoutRefusing) {
  const testing::TempFile file("claims.pb");
  std::ofstream(file.path(), std::ios::binary) << WithConst({std::uint64_t{1} << 30}, {1.0f});
  const ModelInfo info = Model::Inspect(file.path());
  ASSERT_EQ(info.expanded_constants.size(), 1u);
  const ExpandedConstant& big = info.expanded_constants[0];
  EXPECT_EQ(big.node, "big");
  EXPECT_EQ(big.dtype, "float32");
  EXPECT_EQ(big.shape, (Shape{1 << 30}));
  EXPECT_EQ(big.bytes, std::uint64_t{1} << 32);
  EXPECT_LT(big.bytes_in_file, 32u);
  EXPECT_EQ(info.constant_limit_bytes, kDefaultConstantBytes);
}

TEST(ConstantSizeTest, TheIsolatedWorkerRefusesWithTheSameClass) {
  const testing::TempFile file("claims.pb");
  std::ofstream(file.path(), std::ios::binary) << WithConst({std::uint64_t{1} << 62}, {1.0f});
  EXPECT_THROW(IsolatedModel::Load(file.path()), ConstantTooLargeError);
  Options options;
  options.max_constant_bytes = kNoConstantLimit;  // sent to the worker with the rest
  EXPECT_NO_THROW(IsolatedModel::Load(file.path(), options));
}

TEST(ConstantSizeTest, OutOfMemoryCrossesTheWorkerProtocolTyped) {
  internal::WireWriter writer;
  writer.WriteError(std::bad_alloc());
  internal::WireReader reader(writer.bytes());
  try {
    reader.ThrowError();
  } catch (const OutOfMemoryError& e) {
    EXPECT_EQ(e.code(), Code::kResourceExhausted);
    EXPECT_STREQ(e.what(), "the worker ran out of memory (std::bad_alloc)");
  }
  internal::WireWriter options_writer;
  Options options;
  options.max_constant_bytes = 12345;
  options_writer.WriteOptions(options);
  EXPECT_EQ(internal::WireReader(options_writer.bytes()).ReadOptions().max_constant_bytes, 12345u);
}

TEST(ConstantSizeTest, ConfigFilesSetTheLimit) {
  const testing::TempFile config("limit.json");
  const auto limit_from = [&](const std::string& value) {
    std::ofstream(config.path())
        << R"({"format": "tfreeze.config", "options": {"max_constant_bytes": )" << value << "}}";
    return LoadOptionsFile(config.path()).max_constant_bytes;
  };
  EXPECT_EQ(limit_from("1048576"), 1u << 20);
  EXPECT_EQ(limit_from(R"("unlimited")"), kNoConstantLimit);
  EXPECT_THROW(limit_from("-1"), Error);
}

}  // namespace
}  // namespace tfreeze
