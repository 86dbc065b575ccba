#include "signature.h"

#include <set>

#include <nlohmann/json.hpp>
#include <tensorflow/c/tf_tstring.h>

#include "status.h"
#include "tf_handles.h"
#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

using nlohmann::json;

std::string SignatureText(TF_Operation* op, const std::string& origin) {
  StatusPtr status = NewStatus();
  TF_Tensor* raw = nullptr;
  TF_OperationGetAttrTensor(op, "value", &raw, status.get());
  TensorPtr value(raw);
  ThrowIfError<LoadError>(status.get(), origin + ": unreadable tfreeze signature");
  if (TF_TensorType(value.get()) != TF_STRING || TF_TensorElementCount(value.get()) != 1) {
    throw LoadError(Code::kDataLoss,
                    origin + ": node \"" + kSignatureNode + "\" is not a string scalar");
  }
  const auto* text = static_cast<const TF_TString*>(TF_TensorData(value.get()));
  return std::string(TF_StringGetDataPointer(text), TF_StringGetSize(text));
}

[[noreturn]] void Fail(const std::string& origin, const std::string& problem) {
  throw LoadError(Code::kDataLoss, origin + ": invalid signature: " + problem);
}

BoundTensor ParseEntry(const json& entry, TF_Graph* graph, const std::string& origin) {
  BoundTensor bound;
  bound.info.name = entry.at("name").get<std::string>();
  bound.info.dtype = DTypeFromName(entry.at("dtype").get<std::string>());
  bound.info.shape = entry.at("shape").get<Shape>();
  bound.info.optional = entry.value("optional", false);
  bound.port = BindPort(graph, entry.at("tensor").get<std::string>(), origin);
  const auto graph_type = static_cast<int>(TF_OperationOutputType(bound.port));
  if (graph_type != static_cast<int>(bound.info.dtype)) {
    Fail(origin, "\"" + bound.info.name + "\" is declared " +
                     DTypeName(bound.info.dtype) + " but the graph tensor has type " +
                     DTypeName(static_cast<DType>(graph_type)));
  }
  return bound;
}

// An optional input must have a default; an output has nothing to default.
void CheckOptional(const Signature& signature, const std::string& origin) {
  for (const BoundTensor& input : signature.inputs) {
    if (input.info.optional && std::string(TF_OperationOpType(input.port.oper)) == "Placeholder") {
      Fail(origin, "input \"" + input.info.name +
                       "\" is marked optional but its tensor is a Placeholder, which has no "
                       "default (use PlaceholderWithDefault)");
    }
  }
  for (const BoundTensor& output : signature.outputs) {
    if (output.info.optional) {
      Fail(origin, "output \"" + output.info.name + "\" is marked optional");
    }
  }
}

// The "init" names, bound to graph operations now so a typo fails at load.
std::vector<TF_Operation*> ParseInit(const json& document, TF_Graph* graph,
                                     const std::string& origin) {
  std::vector<TF_Operation*> ops;
  if (!document.contains("init")) return ops;
  for (const json& name : document.at("init")) {
    const std::string node = name.get<std::string>();
    TF_Operation* op = TF_GraphOperationByName(graph, node.c_str());
    if (op == nullptr) Fail(origin, "the graph has no init node \"" + node + "\"");
    ops.push_back(op);
  }
  return ops;
}

VerifySpec ParseVerify(const json& document) {
  VerifySpec spec;
  if (!document.contains("verify")) return spec;
  const json& verify = document.at("verify");
  spec.cases = verify.at("cases").get<int>();
  spec.rtol = verify.at("rtol").get<double>();
  spec.atol = verify.at("atol").get<double>();
  return spec;
}

std::vector<BoundTensor> ParseList(const json& document, const char* key,
                                   TF_Graph* graph, const std::string& origin) {
  std::vector<BoundTensor> list;
  std::set<std::string> seen;
  for (const json& entry : document.at(key)) {
    list.push_back(ParseEntry(entry, graph, origin));
    if (!seen.insert(list.back().info.name).second) {
      Fail(origin, std::string(key) + " name \"" + list.back().info.name + "\" repeats");
    }
  }
  return list;
}

}  // namespace

Signature ParseSignature(const std::string& json_text, TF_Graph* graph,
                         const std::string& origin) {
  try {
    const json document = json::parse(json_text);
    const int version = document.at("version").get<int>();
    if (version > kSignatureVersion) {
      throw LoadError(Code::kUnimplemented,
                      origin + ": signature version " + std::to_string(version) +
                          " is newer than this tfreeze reads (" +
                          std::to_string(kSignatureVersion) + "); upgrade tfreeze");
    }
    Signature signature;
    signature.inputs = ParseList(document, "inputs", graph, origin);
    signature.outputs = ParseList(document, "outputs", graph, origin);
    if (signature.outputs.empty()) Fail(origin, "it lists no outputs");
    CheckOptional(signature, origin);
    signature.verify = ParseVerify(document);
    signature.init_ops = ParseInit(document, graph, origin);
    return signature;
  } catch (const json::exception& e) {
    Fail(origin, e.what());
  } catch (const DTypeError& e) {
    Fail(origin, e.what());
  }
}

std::string VerifyNode(int test_case, const char* kind, int index) {
  return "tfreeze/verify/" + std::to_string(test_case) + "/" + kind + "/" + std::to_string(index);
}

TF_Output BindPort(TF_Graph* graph, const std::string& tensor_name,
                   const std::string& origin) {
  const std::size_t colon = tensor_name.rfind(':');
  if (colon == std::string::npos || colon + 1 == tensor_name.size()) {
    Fail(origin, "tensor \"" + tensor_name + "\" is not of the form node:index");
  }
  const std::string node = tensor_name.substr(0, colon);
  int index = 0;
  try {
    index = std::stoi(tensor_name.substr(colon + 1));
  } catch (const std::exception&) {
    Fail(origin, "tensor \"" + tensor_name + "\" has no numeric output index");
  }
  TF_Operation* op = TF_GraphOperationByName(graph, node.c_str());
  if (op == nullptr) Fail(origin, "the graph has no node \"" + node + "\"");
  if (index < 0 || index >= TF_OperationNumOutputs(op)) {
    Fail(origin, "node \"" + node + "\" has no output " + std::to_string(index));
  }
  return TF_Output{op, index};
}

Signature ReadSignature(TF_Graph* graph, const std::string& origin) {
  TF_Operation* op = TF_GraphOperationByName(graph, kSignatureNode);
  if (op == nullptr) {
    throw LoadError(Code::kNotFound,
                    origin + " is a TensorFlow graph without a tfreeze signature "
                             "(no node \"" + std::string(kSignatureNode) +
                             "\"); produce it with `tfreeze freeze`");
  }
  return ParseSignature(SignatureText(op, origin), graph, origin);
}

}  // namespace tfreeze::internal
