// The tfreeze signature stored inside a frozen GraphDef.
//
// The freezer adds one Const node, kSignatureNode, holding a JSON document
// that lists inputs and outputs in model order (python/tfreeze/signature.py
// documents every key). No edge touches the node, so TensorFlow ignores it
// when running; the loader reads it through the C API.
#ifndef TFREEZE_SRC_SIGNATURE_H_
#define TFREEZE_SRC_SIGNATURE_H_

#include <string>
#include <vector>

#include <tensorflow/c/c_api.h>

#include "tfreeze/model.h"

namespace tfreeze::internal {

inline constexpr const char* kSignatureNode = "tfreeze/signature";
inline constexpr int kSignatureVersion = 1;

// An input or output and the graph tensor that carries it.
struct BoundTensor {
  TensorInfo info;
  TF_Output port;
};

// Test vectors stored by the freezer: case c's i-th input is the Const node
// VerifyNode(c, "input", i), its j-th expected output VerifyNode(c, "output", j).
struct VerifySpec {
  int cases = 0;
  double rtol = 0;
  double atol = 0;
};

struct Signature {
  std::vector<BoundTensor> inputs;
  std::vector<BoundTensor> outputs;
  VerifySpec verify;
  // Ops run once as targets when the session starts, before any Run: state
  // that the graph fills itself, such as hash tables (the document's "init").
  std::vector<TF_Operation*> init_ops;
};

// The graph output named "node:index"; throws LoadError when it is not there.
TF_Output BindPort(TF_Graph* graph, const std::string& tensor_name, const std::string& origin);

std::string VerifyNode(int test_case, const char* kind, int index);

// Reads and checks the signature of an imported graph. `origin` names the
// file in messages. Throws LoadError.
Signature ReadSignature(TF_Graph* graph, const std::string& origin);

// Parses the JSON text and binds each entry to its graph tensor.
Signature ParseSignature(const std::string& json_text, TF_Graph* graph,
                         const std::string& origin);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_SIGNATURE_H_
