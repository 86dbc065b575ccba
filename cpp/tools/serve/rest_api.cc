#include "rest_api.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_tensors.h"
#include "predict_request.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

// TensorFlow's DataType enum names, as TF Serving's metadata spells them.
std::string TfDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "DT_FLOAT";
    case DType::kFloat64: return "DT_DOUBLE";
    case DType::kFloat16: return "DT_HALF";
    case DType::kBFloat16: return "DT_BFLOAT16";
    case DType::kString: return "DT_STRING";
    case DType::kBool: return "DT_BOOL";
    default: break;
  }
  std::string name = DTypeName(dtype);  // int32, uint8, ...
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  return "DT_" + name;
}

json TensorInfoJson(const TensorInfo& info) {
  json dims = json::array();
  // int64 fields are strings in protobuf's JSON mapping.
  for (const auto size : info.shape) dims.push_back({{"size", std::to_string(size)}, {"name", ""}});
  return {{"dtype", TfDTypeName(info.dtype)},
          {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}},
          {"name", info.name}};
}

// Below this a prediction's outputs are written as one string: the piecewise
// writing is for replies of megabytes.
constexpr std::size_t kStreamAboveBytes = std::size_t{1} << 20;

// A streamed reply's outputs and memory, together.
struct Prediction {
  std::shared_ptr<RequestMemory> memory;  // first: given back last, after the outputs are freed
  std::vector<Tensor> outputs;
  bool row_format;
};

std::size_t Bytes(const std::vector<Tensor>& tensors) {
  std::size_t bytes = 0;
  for (const auto& tensor : tensors) bytes += tensor.byte_size();
  return bytes;
}

}  // namespace

int HttpStatus(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kCancelled: return 499;
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kOutOfRange: return 400;
    case Code::kDeadlineExceeded: return 504;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kAborted: return 409;
    case Code::kPermissionDenied: return 403;
    case Code::kResourceExhausted: return 429;
    case Code::kUnimplemented: return 501;
    case Code::kUnavailable: return 503;
    case Code::kUnauthenticated: return 401;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string ErrorBody(const std::string& message) {
  std::string out = "{\"error\":";
  AppendJsonString(out, message);
  return out + "}";
}

RestApi::RestApi(const Model& model, std::string name, std::int64_t version)
    : model_(model),
      name_(std::move(name)),
      version_(version),
      predict_path_(R"(/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?:(\w+))",
                    std::regex::icase),
      status_path_(R"(/v1/models(?:/([^/:]+))?(?:/versions/(\d+)|/labels/([^/:]+))?(/metadata)?)",
                   std::regex::icase) {}

Reply RestApi::Handle(const std::string& method, const std::string& path, std::string body) const {
  const auto memory = std::make_shared<RequestMemory>(UnlimitedBudget());
  return Respond(method, path, std::move(body), memory, /*may_stream=*/false);
}

Reply RestApi::Handle(const std::string& method, const std::string& path, std::string body,
                      std::shared_ptr<RequestMemory> memory) const {
  return Respond(method, path, std::move(body), memory, /*may_stream=*/true);
}

Reply RestApi::Respond(const std::string& method, const std::string& path, std::string body,
                       const std::shared_ptr<RequestMemory>& memory, bool may_stream) const {
  try {
    return Dispatch(method, path, std::move(body), memory, may_stream);
  } catch (const MemoryRefusal& e) {
    return {e.http_status(), ErrorBody(e.what())};
  } catch (const Error& e) {
    return {HttpStatus(e.code()), ErrorBody(e.what())};
  } catch (const std::exception& e) {  // e.g. std::bad_alloc
    return {500, ErrorBody(e.what())};
  }
}

Reply RestApi::Dispatch(const std::string& method, const std::string& path, std::string body,
                        const std::shared_ptr<RequestMemory>& memory, bool may_stream) const {
  if (path == "/healthz") {
    if (method != "GET") throw Error(Code::kInvalidArgument, "use GET /healthz");
    return {200, "{\"status\":\"ok\"}"};
  }
  std::smatch match;
  if (method == "POST" && std::regex_match(path, match, predict_path_)) {
    FindServable(match[1], match[2], match[3]);
    if (match[4] == "predict") return Predict(std::move(body), memory, may_stream);
    throw InputError("\":" + match[4].str() + "\" is not served: a frozen graph has one " +
                     "signature, for :predict (TF Serving's :classify and :regress need " +
                     "classification and regression signatures)");
  }
  if (method == "GET" && std::regex_match(path, match, status_path_)) {
    if (match[1].length() == 0) throw InputError("Missing model name in request.");
    FindServable(match[1], match[2], match[3]);
    return {200, match[4].matched ? Metadata() : Status()};
  }
  if (path.size() >= 4 && std::equal(path.begin(), path.begin() + 4, "/v1/", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    throw InputError("Malformed request: " + method + " " + path);
  }
  throw Error(Code::kNotFound, "no endpoint " + method + " " + path + "; try GET /v1/models/" +
                                   name_ + ", GET /v1/models/" + name_ + "/metadata or POST " +
                                   "/v1/models/" + name_ + ":predict");
}

void RestApi::FindServable(const std::string& name, const std::string& version,
                           const std::string& label) const {
  const std::string served = "; this server serves model \"" + name_ + "\" version " +
                             std::to_string(version_);
  if (name != name_) {
    throw Error(Code::kNotFound, "Servable not found for request: Latest(" + name + ")" + served);
  }
  if (!label.empty()) {
    throw Error(Code::kNotFound, "no version label \"" + label + "\"" + served + ", no labels");
  }
  if (!version.empty() && version != std::to_string(version_)) {
    throw Error(Code::kNotFound,
                "Servable not found for request: Specific(" + name + ", " + version + ")" + served);
  }
}

std::string RestApi::Status() const {
  const json status = {
      {"model_version_status",
       {{{"version", std::to_string(version_)},
         {"state", "AVAILABLE"},
         {"status", {{"error_code", "OK"}, {"error_message", ""}}}}}}};
  return status.dump(1);
}

std::string RestApi::Metadata() const {
  json inputs = json::object();
  for (const auto& input : model_.inputs()) inputs[input.name] = TensorInfoJson(input);
  json outputs = json::object();
  for (const auto& output : model_.outputs()) outputs[output.name] = TensorInfoJson(output);
  json signature = {{"inputs", inputs},
                    {"outputs", outputs},
                    {"method_name", "tensorflow/serving/predict"}};
  json metadata;
  metadata["model_spec"] = {
      {"name", name_}, {"signature_name", ""}, {"version", std::to_string(version_)}};
  metadata["metadata"]["signature_def"]["signature_def"]["serving_default"] = signature;
  return metadata.dump(1);
}

Reply RestApi::Predict(std::string body, const std::shared_ptr<RequestMemory>& memory,
                       bool may_stream) const {
  PredictRequest request = ReadPredictRequest(body, model_, *memory);
  // The body is as large as its values: freed before the model runs.
  memory->Give(body.size());
  std::string().swap(body);
  auto prediction = std::make_shared<Prediction>(
      Prediction{memory, model_.Run(request.Feeds()), request.row_format});
  memory->Give(request.bytes);
  request = PredictRequest();
  const std::vector<Tensor>& outputs = prediction->outputs;
  memory->Count(Bytes(outputs));
  if (prediction->row_format) CheckRowOutputs(model_.outputs(), outputs);
  const std::vector<TensorInfo>* infos = &model_.outputs();
  Reply reply;
  if (!may_stream || Bytes(outputs) < kStreamAboveBytes) {
    WritePredictReply(prediction->row_format, *infos, outputs, [&reply](std::string_view piece) {
      reply.body += piece;
      return true;
    });
    return reply;
  }
  reply.stream = [prediction, infos](const ReplySink& sink) {
    return WritePredictReply(prediction->row_format, *infos, prediction->outputs, sink);
  };
  return reply;
}

}  // namespace tfreeze::serve
