// Walking a serialized GraphDef before TensorFlow sees it: every NodeDef of the
// graph and of its function library, read with the wire reader. Checks that
// must run before import (unsafe ops, constants TensorFlow would abort on) use it.
#ifndef TFREEZE_SRC_GRAPH_SCAN_H_
#define TFREEZE_SRC_GRAPH_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tfreeze::internal {

// A NodeDef or FunctionDef that gives a singular field, a oneof or a map key
// twice: protobuf would keep the last, so no check may trust the bytes.
class DuplicateFieldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScannedNode {
  std::string_view name;
  std::string_view op;
  std::string_view function;  // "" for the graph itself
  std::string_view node_def;  // the serialized NodeDef, for Attr()
  std::vector<std::string_view> inputs;
};

// Calls `visit` for each node: the graph's first, then each library function's.
// Throws DuplicateFieldError for a field given twice, std::runtime_error on
// malformed bytes.
void ForEachNode(std::string_view graph_def, const std::function<void(const ScannedNode&)>& visit);

// The serialized size of the graph's Const nodes, its weights: what
// Executor::kAuto weighs. tfreeze's own nodes (the signature, stored test
// vectors, under "tfreeze/") do not count. Throws std::runtime_error on
// malformed bytes.
std::size_t ConstantBytes(std::string_view graph_def);

// The serialized AttrValue of attribute `name` of a NodeDef; empty if absent.
std::string_view Attr(std::string_view node_def, std::string_view name);

// The functions a NodeDef's attributes name (f, body, then_branch, ...).
std::vector<std::string_view> CalledFunctions(std::string_view node_def);

// Fields of an AttrValue: its string (s), its type, its tensor (a TensorProto).
std::string_view AttrString(std::string_view attr_value);
int AttrType(std::string_view attr_value);
std::string_view AttrTensor(std::string_view attr_value);

// A TensorProto's dtype, and its int32/int64 values as TensorFlow reads them
// (tensor_content, else int_val or int64_val by dtype, the last value repeated
// to the shape); false when it holds no integers or TensorFlow would refuse it.
int TensorDtype(std::string_view tensor_proto);
bool TensorIntegers(std::string_view tensor_proto, std::vector<std::int64_t>* values);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_GRAPH_SCAN_H_
