#include "rest_api.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_tensors.h"

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

std::string JoinNames(const std::vector<TensorInfo>& infos) {
  std::string names;
  for (const auto& info : infos) names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

const TensorInfo& InputNamed(const Model& model, const std::string& name) {
  for (const auto& input : model.inputs()) {
    if (input.name == name) return input;
  }
  throw InputError("unknown input \"" + name + "\"; this model's inputs are: " +
                   JoinNames(model.inputs()));
}

void RequireAll(const Model& model, const std::set<std::string>& given, const char* where) {
  for (const auto& input : model.inputs()) {
    if (!input.optional && given.count(input.name) == 0) {
      throw InputError("missing input \"" + input.name + "\" in " + where +
                       "; this model's inputs are: " + JoinNames(model.inputs()));
    }
  }
}

bool IsNamedObject(const json& value) { return value.is_object() && !IsBase64Object(value); }

const TensorInfo& OnlyInput(const Model& model, const char* key) {
  if (model.inputs().size() != 1) {
    throw InputError(std::string(key) + " holds plain values, but this model has several inputs (" +
                     JoinNames(model.inputs()) + "): name them in " +
                     (std::string(key) == "instances" ? "one object per instance" : "an object"));
  }
  return model.inputs()[0];
}

// The feeds of a request; the tensors own the values the feeds point to.
struct Feeds {
  std::vector<std::string> names;
  std::vector<Tensor> tensors;

  void Add(std::string name, Tensor tensor) {
    names.push_back(std::move(name));
    tensors.push_back(std::move(tensor));
  }
  std::vector<Feed> List() const {
    std::vector<Feed> feeds;
    for (std::size_t i = 0; i < names.size(); ++i) feeds.emplace_back(names[i], tensors[i]);
    return feeds;
  }
};

// Row format: a list of instances, each a value (one input) or an object
// naming every input; stacked along a new first dimension.
Feeds FromInstances(const Model& model, const json& instances) {
  if (!instances.is_array() || instances.empty()) {
    throw InputError("'instances' must be a non-empty list (one item per instance)");
  }
  Feeds feeds;
  std::vector<const json*> items;
  if (!IsNamedObject(instances[0])) {
    const TensorInfo& input = OnlyInput(model, "instances");
    for (std::size_t i = 0; i < instances.size(); ++i) {
      if (IsNamedObject(instances[i])) {
        throw InputError("instance " + std::to_string(i) + " is an object, instance 0 is not");
      }
      items.push_back(&instances[i]);
    }
    feeds.Add(input.name, StackInstances(items, input));
    return feeds;
  }
  std::set<std::string> keys;
  for (const auto& [key, value] : instances[0].items()) keys.insert(key);
  RequireAll(model, keys, "instance 0");
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::set<std::string> these;
    if (IsNamedObject(instances[i])) {
      for (const auto& [key, value] : instances[i].items()) these.insert(key);
    }
    if (these != keys) {
      throw InputError("instance " + std::to_string(i) +
                       " does not name the same inputs as instance 0 (every instance must)");
    }
  }
  for (const auto& key : keys) {
    const TensorInfo& input = InputNamed(model, key);
    items.clear();
    for (const auto& instance : instances) items.push_back(&instance[key]);
    feeds.Add(key, StackInstances(items, input));
  }
  return feeds;
}

// Columnar format: one value (one input) or an object of input name -> value.
Feeds FromInputs(const Model& model, const json& inputs) {
  Feeds feeds;
  if (!IsNamedObject(inputs)) {
    const TensorInfo& input = OnlyInput(model, "inputs");
    feeds.Add(input.name, TensorFromJson(inputs, input));
    return feeds;
  }
  std::set<std::string> keys;
  for (const auto& [key, value] : inputs.items()) {
    feeds.Add(key, TensorFromJson(value, InputNamed(model, key)));
    keys.insert(key);
  }
  RequireAll(model, keys, "'inputs'");
  return feeds;
}

bool AsBytes(const TensorInfo& output) {
  const std::string suffix = "_bytes";
  return output.dtype == DType::kString && output.name.size() >= suffix.size() &&
         output.name.compare(output.name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// {"predictions": [...]}: per instance, the output's row (one output) or an
// object of output name -> row.
std::string RowReply(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs) {
  std::int64_t batch = -1;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].shape().empty()) {
      throw InputError("output \"" + infos[i].name + "\" is a scalar, which has no rows; " +
                       "send the request in columnar form ('inputs')");
    }
    if (batch >= 0 && outputs[i].shape()[0] != batch) {
      throw InputError("outputs differ in their first dimension (\"" + infos[i].name + "\": " +
                       std::to_string(outputs[i].shape()[0]) + ", expected " +
                       std::to_string(batch) + "); send the request in columnar form ('inputs')");
    }
    batch = outputs[i].shape()[0];
  }
  const bool objects = outputs.size() > 1;
  std::string out = "{\"predictions\":[";
  for (std::int64_t row = 0; row < batch; ++row) {
    if (row > 0) out += ',';
    if (objects) out += '{';
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (objects) {
        if (i > 0) out += ',';
        AppendJsonString(out, infos[i].name);
        out += ':';
      }
      AppendJson(out, outputs[i], AsBytes(infos[i]), row);
    }
    if (objects) out += '}';
  }
  return out + "]}";
}

// {"outputs": VALUE} for one output, {"outputs": {"name": VALUE, ...}} for several.
std::string ColumnarReply(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& outputs) {
  const bool objects = outputs.size() > 1;
  std::string out = objects ? "{\"outputs\":{" : "{\"outputs\":";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (objects) {
      if (i > 0) out += ',';
      AppendJsonString(out, infos[i].name);
      out += ':';
    }
    AppendJson(out, outputs[i], AsBytes(infos[i]));
  }
  return out + (objects ? "}}" : "}");
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

Reply RestApi::Handle(const std::string& method, const std::string& path,
                      std::string_view body) const {
  try {
    return {200, Dispatch(method, path, body)};
  } catch (const Error& e) {
    return {HttpStatus(e.code()), ErrorBody(e.what())};
  } catch (const std::exception& e) {  // e.g. std::bad_alloc
    return {500, ErrorBody(e.what())};
  }
}

std::string RestApi::Dispatch(const std::string& method, const std::string& path,
                              std::string_view body) const {
  if (path == "/healthz") {
    if (method != "GET") throw Error(Code::kInvalidArgument, "use GET /healthz");
    return "{\"status\":\"ok\"}";
  }
  std::smatch match;
  if (method == "POST" && std::regex_match(path, match, predict_path_)) {
    FindServable(match[1], match[2], match[3]);
    if (match[4] == "predict") return Predict(body);
    throw InputError("\":" + match[4].str() + "\" is not served: a frozen graph has one " +
                     "signature, for :predict (TF Serving's :classify and :regress need " +
                     "classification and regression signatures)");
  }
  if (method == "GET" && std::regex_match(path, match, status_path_)) {
    if (match[1].length() == 0) throw InputError("Missing model name in request.");
    FindServable(match[1], match[2], match[3]);
    return match[4].matched ? Metadata() : Status();
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

std::string RestApi::Predict(std::string_view body) const {
  const json request = ParseJson(body);
  if (!request.is_object()) throw InputError("the request body must be a JSON object");
  if (request.contains("signature_name")) {
    const json& signature = request["signature_name"];
    if (!signature.is_string()) throw InputError("'signature_name' must be a string");
    const auto& name = signature.get_ref<const std::string&>();
    if (!name.empty() && name != "serving_default") {
      throw InputError("Serving signature name: \"" + name +
                       "\" not found in signature def; this model has one: serving_default");
    }
  }
  const bool row = request.contains("instances");
  if (row == request.contains("inputs")) {
    throw InputError(row ? "give either 'instances' or 'inputs', not both"
                         : "Missing 'inputs' or 'instances' key");
  }
  const Feeds feeds = row ? FromInstances(model_, request["instances"])
                          : FromInputs(model_, request["inputs"]);
  const std::vector<Tensor> outputs = model_.Run(feeds.List());
  return row ? RowReply(model_.outputs(), outputs) : ColumnarReply(model_.outputs(), outputs);
}

}  // namespace tfreeze::serve
