// tfreeze-serve's REST logic without sockets: TF Serving's JSON forms of
// tensors (NaN/Infinity tokens, b64, shortest floats) and the predict, status
// and error replies, on the graphs of graph_builder.h.
#include "rest_api.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "graph_builder.h"
#include "json_tensors.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

const TensorInfo kFloats{"x", DType::kFloat32, {-1}};

TEST(JsonTensorsTest, NonFiniteTokensParseOutsideStringsOnly) {
  const json body = ParseJson(R"({"a": [NaN, Infinity, -Infinity, -Inf, 1.5], "s": "NaN Inf"})");
  const Tensor values = TensorFromJson(body["a"], kFloats);
  const std::vector<float> got = values.ToVector<float>();
  EXPECT_TRUE(std::isnan(got[0]));
  EXPECT_EQ(got[1], INFINITY);
  EXPECT_EQ(got[2], -INFINITY);
  EXPECT_EQ(got[3], -INFINITY);
  EXPECT_EQ(got[4], 1.5f);
  EXPECT_EQ(body["s"], "NaN Inf");
  EXPECT_THROW(TensorFromJson(body["s"], kFloats), InputError);  // a string is not a float
  EXPECT_THROW(ParseJson("{\"a\": [Nan]}"), InputError);
}

TEST(JsonTensorsTest, WritesShortestFloatsAndTfServingTokens) {
  const Tensor t = Tensor::FromVector<float>({2, 2}, {0.1f, 1.0f, NAN, -INFINITY});
  std::string out;
  AppendJson(out, t, false);
  EXPECT_EQ(out, "[[0.1,1.0],[NaN,-Infinity]]");
  out.clear();
  AppendJson(out, t, false, /*row=*/1);
  EXPECT_EQ(out, "[NaN,-Infinity]");
}

TEST(JsonTensorsTest, Base64RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t n : {0, 1, 2, 3, 255, 256}) {
    EXPECT_EQ(Base64Decode(Base64Encode(bytes.substr(0, n))), bytes.substr(0, n));
  }
  EXPECT_EQ(Base64Decode("aGk"), "hi");  // padding optional
  EXPECT_THROW(Base64Decode("a*b="), InputError);
}

TEST(JsonTensorsTest, RaggedListsAndWrongTypesAreRefusedByName) {
  try {
    TensorFromJson(json::parse("[[1, 2], [3]]"), kFloats);
    FAIL() << "a ragged list was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("input \"x\""), std::string::npos) << e.what();
  }
  const TensorInfo small{"n", DType::kUInt8, {-1}};
  EXPECT_THROW(TensorFromJson(json::parse("[256]"), small), InputError);
  EXPECT_THROW(TensorFromJson(json::parse("[-1]"), small), InputError);
  EXPECT_THROW(TensorFromJson(json::parse("[1.5]"), small), InputError);
  EXPECT_EQ(TensorFromJson(json::parse("[255]"), small).ToVector<std::uint8_t>()[0], 255);
}

class RestApiTest : public ::testing::Test {
 protected:
  Reply Post(const std::string& path, const std::string& body) const {
    return api_.Handle("POST", path, body);
  }

  Model model_ = Model::FromBytes(testing::AffineGraphDef());
  RestApi api_{model_, "affine", 3};
};

TEST_F(RestApiTest, RowFormatGivesOneObjectPerInstanceForSeveralOutputs) {
  const Reply reply = Post("/v1/models/affine:predict", R"({"instances": [[1, 1, 1], [0, 0, 0]]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(json::parse(reply.body), json::parse(R"({"predictions": [
      {"y": [19.0, 32.0], "doubled": [38.0, 64.0]},
      {"y": [10.0, 20.0], "doubled": [20.0, 40.0]}]})"));
}

TEST_F(RestApiTest, ColumnarFormatGivesAnObjectOfOutputs) {
  const Reply reply =
      Post("/V1/Models/affine/versions/3:predict", R"({"inputs": {"x": [[1, 1, 1]]}})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(json::parse(reply.body)["outputs"]["y"], json::parse("[[19.0, 32.0]]"));
}

TEST_F(RestApiTest, ErrorsAreJsonWithTfServingStatusCodes) {
  const std::vector<std::tuple<std::string, std::string, std::string, int>> cases = {
      {"POST", "/v1/models/other:predict", R"({"inputs": [[1, 1, 1]]})", 404},
      {"POST", "/v1/models/affine/versions/4:predict", R"({"inputs": [[1, 1, 1]]})", 404},
      {"POST", "/v1/models/affine:predict", "{", 400},
      {"POST", "/v1/models/affine:predict", R"({"inputs": [[1, 1]]})", 400},
      {"POST", "/v1/models/affine:predict", R"({"inputs": [[1, 1, 1]], "instances": []})", 400},
      {"POST", "/v1/models/affine:classify", R"({"examples": []})", 400},
      {"GET", "/v1/models/affine:predict", "", 400},  // "Malformed request"
      {"GET", "/v2/models", "", 404},
  };
  for (const auto& [method, path, body, status] : cases) {
    const Reply reply = api_.Handle(method, path, body);
    EXPECT_EQ(reply.status, status) << method << " " << path << " " << body;
    EXPECT_TRUE(json::parse(reply.body).contains("error")) << reply.body;
  }
  EXPECT_EQ(HttpStatus(Code::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatus(Code::kInternal), 500);
}

TEST_F(RestApiTest, StatusAndMetadataNameTheServedVersion) {
  const json status = json::parse(api_.Handle("GET", "/v1/models/affine", "").body);
  EXPECT_EQ(status["model_version_status"][0]["version"], "3");
  const json meta = json::parse(api_.Handle("GET", "/v1/models/affine/metadata", "").body);
  const json& x = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["x"];
  EXPECT_EQ(x["dtype"], "DT_FLOAT");
  EXPECT_EQ(x["tensor_shape"]["dim"][0]["size"], "-1");
}

TEST(RestApiStringsTest, Base64InputsAndPlainStringOutputs) {
  const Model model = Model::FromBytes(testing::StringGraphDef());
  const RestApi api(model, "strings", 1);
  const std::string hi = Base64Encode(std::string("h\0i", 3));
  const Reply reply = api.Handle("POST", "/v1/models/strings:predict",
                                 R"({"instances": [{"b64": ")" + hi + R"("}, "abcd"]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json predictions = json::parse(reply.body)["predictions"];
  EXPECT_EQ(predictions[0]["length"], 3);
  EXPECT_EQ(predictions[1]["length"], 4);
  EXPECT_EQ(predictions[1]["echo"], "abcd");
}

}  // namespace
}  // namespace tfreeze::serve
