#include "graph_builder.h"

#include <stdexcept>
#include <vector>

#include "signature.h"
#include "status.h"
#include "tensorflow/c/tf_tstring.h"
#include "tf_handles.h"
#include "tfreeze/tensor.h"

namespace tfreeze::testing {
namespace {

using internal::NewStatus;
using internal::ThrowIfError;

class GraphBuilder {
 public:
  GraphBuilder() : graph_(TF_NewGraph()) {}

  TF_Operation* Placeholder(const char* name, TF_DataType type, std::vector<int64_t> shape) {
    TF_OperationDescription* desc = TF_NewOperation(graph_.get(), "Placeholder", name);
    TF_SetAttrType(desc, "dtype", type);
    TF_SetAttrShape(desc, "shape", shape.data(), static_cast<int>(shape.size()));
    return Finish(desc);
  }

  TF_Operation* Const(const char* name, const Tensor& value) {
    TF_OperationDescription* desc = TF_NewOperation(graph_.get(), "Const", name);
    auto status = NewStatus();
    TF_SetAttrTensor(desc, "value", value.handle(), status.get());
    ThrowIfError(status.get(), "Const value");
    TF_SetAttrType(desc, "dtype", TF_TensorType(value.handle()));
    return Finish(desc);
  }

  TF_Operation* Op(const char* type, const char* name, std::vector<TF_Operation*> inputs) {
    return Finish(Begin(type, name, inputs));
  }

  // An op with attributes TensorFlow cannot infer: set them, then Finish().
  TF_OperationDescription* Begin(const char* type, const char* name,
                                 const std::vector<TF_Operation*>& inputs) {
    TF_OperationDescription* desc = TF_NewOperation(graph_.get(), type, name);
    for (TF_Operation* input : inputs) TF_AddInput(desc, TF_Output{input, 0});
    return desc;
  }

  TF_Operation* Finish(TF_OperationDescription* desc) {
    auto status = NewStatus();
    TF_Operation* op = TF_FinishOperation(desc, status.get());
    ThrowIfError(status.get(), "build test graph");
    return op;
  }

  TF_Operation* Find(const char* name) { return TF_GraphOperationByName(graph_.get(), name); }

  void Sign(const std::string& signature) {
    if (signature.empty()) return;
    Const(internal::kSignatureNode, Tensor::FromStrings({}, {signature}));
  }

  std::string Serialize() {
    internal::BufferPtr buffer(TF_NewBuffer());
    auto status = NewStatus();
    TF_GraphToGraphDef(graph_.get(), buffer.get(), status.get());
    ThrowIfError(status.get(), "serialize");
    return std::string(static_cast<const char*>(buffer->data), buffer->length);
  }

 private:
  internal::GraphPtr graph_;
};

// The affine graph's nodes: x, w, b, two, matmul, add, y, doubled.
void AddAffineNodes(GraphBuilder& graph) {
  TF_Operation* x = graph.Placeholder("x", TF_FLOAT, {-1, 3});
  TF_Operation* w = graph.Const("w", Tensor::FromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  TF_Operation* b = graph.Const("b", Tensor::FromVector<float>({2}, {10, 20}));
  TF_Operation* two = graph.Const("two", Tensor::FromVector<float>({}, {2}));
  TF_Operation* sum = graph.Op("AddV2", "add", {graph.Op("MatMul", "matmul", {x, w}), b});
  graph.Op("Identity", "y", {sum});
  graph.Op("Mul", "doubled", {sum, two});
}

}  // namespace

std::string AffineSignature() {
  return R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"x","tensor":"x:0","dtype":"float32","shape":[-1,3]}],
    "outputs":[{"name":"y","tensor":"y:0","dtype":"float32","shape":[-1,2]},
               {"name":"doubled","tensor":"doubled:0","dtype":"float32","shape":[-1,2]}],
    "producer":{"source":"test"}})";
}

std::string AffineGraphDefWithSignature(const std::string& signature) {
  GraphBuilder graph;
  AddAffineNodes(graph);
  graph.Sign(signature);
  return graph.Serialize();
}

std::string AffineGraphDef() { return AffineGraphDefWithSignature(AffineSignature()); }

std::string AffineGraphDefWithTestVectors(float y_error) {
  std::string signature = AffineSignature();
  signature.insert(signature.rfind('}'), R"(,"verify":{"cases":1,"rtol":1e-5,"atol":1e-6})");
  GraphBuilder graph;
  AddAffineNodes(graph);
  graph.Const("tfreeze/verify/0/input/0", Tensor::FromVector<float>({1, 3}, {1, 1, 1}));
  graph.Const("tfreeze/verify/0/output/0", Tensor::FromVector<float>({1, 2}, {19 + y_error, 32}));
  graph.Const("tfreeze/verify/0/output/1", Tensor::FromVector<float>({1, 2}, {38, 64}));
  graph.Sign(signature);
  return graph.Serialize();
}

std::string AffineGraphDefWithWeights(std::size_t floats) {
  GraphBuilder graph;
  AddAffineNodes(graph);
  graph.Const("weights", Tensor::FromVector<float>({static_cast<int64_t>(floats)},
                                                   std::vector<float>(floats, 0.0f)));
  graph.Sign(AffineSignature());
  return graph.Serialize();
}

std::string StringGraphDef() {
  GraphBuilder graph;
  TF_Operation* text = graph.Placeholder("text", TF_STRING, {-1});
  graph.Op("StringLength", "length", {text});
  graph.Op("Identity", "echo", {text});
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"text","tensor":"text:0","dtype":"string","shape":[-1]}],
    "outputs":[{"name":"length","tensor":"length:0","dtype":"int32","shape":[-1]},
               {"name":"echo","tensor":"echo:0","dtype":"string","shape":[-1]}]})");
  return graph.Serialize();
}

std::string OptionalInputGraphDef() {
  GraphBuilder graph;
  TF_Operation* x = graph.Placeholder("x", TF_FLOAT, {-1});
  TF_OperationDescription* scale = graph.Begin(
      "PlaceholderWithDefault", "scale", {graph.Const("two", Tensor::FromVector<float>({}, {2}))});
  TF_SetAttrShape(scale, "shape", nullptr, 0);
  graph.Op("Mul", "y", {x, graph.Finish(scale)});
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"x","tensor":"x:0","dtype":"float32","shape":[-1]},
              {"name":"scale","tensor":"scale:0","dtype":"float32","shape":[],"optional":true}],
    "outputs":[{"name":"y","tensor":"y:0","dtype":"float32","shape":[-1]}]})");
  return graph.Serialize();
}

std::string TableGraphDef(const std::string& init_node) {
  GraphBuilder graph;
  TF_OperationDescription* table = graph.Begin("HashTableV2", "table", {});
  TF_SetAttrType(table, "key_dtype", TF_INT64);
  TF_SetAttrType(table, "value_dtype", TF_FLOAT);
  TF_Operation* handle = graph.Finish(table);
  graph.Op("LookupTableImportV2", "table_init",
           {handle, graph.Const("keys", Tensor::FromVector<int64_t>({3}, {1, 2, 3})),
            graph.Const("values", Tensor::FromVector<float>({3}, {10, 20, 30}))});
  TF_Operation* key = graph.Placeholder("key", TF_INT64, {-1});
  TF_Operation* missing = graph.Const("missing", Tensor::FromVector<float>({}, {-1}));
  graph.Op("LookupTableFindV2", "value", {handle, key, missing});
  const std::string init = init_node.empty() ? "" : R"(,"init":[")" + init_node + R"("])";
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"key","tensor":"key:0","dtype":"int64","shape":[-1]}],
    "outputs":[{"name":"value","tensor":"value:0","dtype":"float32","shape":[-1]}])" +
             init + "}");
  return graph.Serialize();
}

std::string SwitchGraphDef() {
  GraphBuilder graph;
  TF_Operation* x = graph.Placeholder("x", TF_FLOAT, {-1});
  TF_Operation* pred = graph.Const("pred", Tensor::FromVector<bool>({}, {true}));
  TF_Operation* branch = graph.Op("Switch", "switch", {x, pred});
  TF_OperationDescription* merge = graph.Begin("Merge", "merge", {});
  std::vector<TF_Output> merged = {TF_Output{branch, 1}, TF_Output{branch, 0}};
  TF_AddInputList(merge, merged.data(), 2);
  graph.Op("Identity", "y", {graph.Finish(merge)});
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"x","tensor":"x:0","dtype":"float32","shape":[-1]}],
    "outputs":[{"name":"y","tensor":"y:0","dtype":"float32","shape":[-1]}]})");
  return graph.Serialize();
}

std::string UnsafeAffineGraphDef(const std::string& path, const std::string& print_stream) {
  GraphBuilder graph;
  AddAffineNodes(graph);
  TF_Operation* file = graph.Const("path", Tensor::FromStrings({}, {path}));
  TF_Operation* contents = graph.Const("contents", Tensor::FromStrings({}, {"written"}));
  graph.Op("WriteFile", "writer", {file, contents});
  TF_OperationDescription* print = graph.Begin("PrintV2", "printer", {contents});
  TF_SetAttrString(print, "output_stream", print_stream.data(), print_stream.size());
  graph.Finish(print);
  graph.Sign(AffineSignature());
  return graph.Serialize();
}

std::string FillGraphDef(const std::vector<int64_t>& dims) {
  GraphBuilder graph;
  TF_Operation* x = graph.Placeholder("x", TF_FLOAT, {-1});
  TF_Operation* shape = graph.Const(
      "dims", Tensor::FromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims));
  TF_Operation* one = graph.Const("one", Tensor::FromVector<float>({}, {1}));
  TF_Operation* filled = graph.Op("Fill", "filled", {shape, one});
  TF_Operation* axes = graph.Const("axes", Tensor::FromVector<int32_t>({2}, {0, 1}));
  TF_Operation* total = graph.Op("Sum", "total", {filled, axes});
  graph.Op("AddV2", "y", {x, total});
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"x","tensor":"x:0","dtype":"float32","shape":[-1]}],
    "outputs":[{"name":"y","tensor":"y:0","dtype":"float32","shape":[-1]}]})");
  return graph.Serialize();
}

}  // namespace tfreeze::testing

namespace tfreeze::testing {

std::string AbortGraphDef() {
  GraphBuilder graph;
  AddAffineNodes(graph);
  TF_Operation* x = graph.Find("x");
  TF_OperationDescription* abort = graph.Begin("Abort", "abort", {});
  const std::string message = "boom was fetched";
  TF_SetAttrString(abort, "error_msg", message.data(), message.size());
  TF_Operation* aborting = graph.Finish(abort);
  TF_OperationDescription* boom = graph.Begin("Identity", "boom", {x});
  TF_AddControlInput(boom, aborting);
  graph.Finish(boom);
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"x","tensor":"x:0","dtype":"float32","shape":[-1,3]}],
    "outputs":[{"name":"y","tensor":"y:0","dtype":"float32","shape":[-1,2]},
               {"name":"boom","tensor":"boom:0","dtype":"float32","shape":[-1,3]}]})");
  return graph.Serialize();
}

std::string FedFillGraphDef() {
  GraphBuilder graph;
  TF_Operation* count = graph.Placeholder("count", TF_INT64, {1});
  TF_Operation* one = graph.Const("one", Tensor::FromVector<float>({}, {1}));
  TF_Operation* filled = graph.Op("Fill", "filled", {count, one});
  TF_Operation* axis = graph.Const("axis", Tensor::FromVector<int32_t>({1}, {0}));
  graph.Op("Sum", "total", {filled, axis});
  graph.Sign(R"({"format":"tfreeze.signature","version":1,
    "inputs":[{"name":"count","tensor":"count:0","dtype":"int64","shape":[1]}],
    "outputs":[{"name":"total","tensor":"total:0","dtype":"float32","shape":[]}]})");
  return graph.Serialize();
}

std::string ManyInputsGraphDef(int count) {
  GraphBuilder graph;
  std::string inputs;
  std::string outputs;
  for (int i = 0; i < count; ++i) {
    const std::string x = "x" + std::to_string(i);
    const std::string y = "y" + std::to_string(i);
    const std::string offset = "offset" + std::to_string(i);
    TF_Operation* placeholder = graph.Placeholder(x.c_str(), TF_FLOAT, {-1});
    TF_Operation* constant =
        graph.Const(offset.c_str(), Tensor::FromVector<float>({}, {static_cast<float>(i)}));
    graph.Op("AddV2", y.c_str(), {placeholder, constant});
    const std::string separator = i == 0 ? "" : ",";
    inputs += separator + R"({"name":")" + x + R"(","tensor":")" + x +
              R"(:0","dtype":"float32","shape":[-1]})";
    outputs += separator + R"({"name":")" + y + R"(","tensor":")" + y +
               R"(:0","dtype":"float32","shape":[-1]})";
  }
  graph.Sign(R"({"format":"tfreeze.signature","version":1,"inputs":[)" + inputs +
             R"(],"outputs":[)" + outputs + "]}");
  return graph.Serialize();
}

}  // namespace tfreeze::testing
