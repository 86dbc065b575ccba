// Small graphs built with the C API, signed the way the freezer signs them, so
// the C++ tests know every expected value and need no Python.
#ifndef TFREEZE_TESTS_CPP_GRAPH_BUILDER_H_
#define TFREEZE_TESTS_CPP_GRAPH_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tfreeze::testing {

// y = x · W + b, x: float32 [?, 3], W = [[1, 2], [3, 4], [5, 6]], b = [10, 20].
// The signature names the input "x" and the outputs "y" and "doubled" (2·y).
std::string AffineGraphDef();

// Its signature JSON; tests edit it to make broken files.
std::string AffineSignature();

// The affine graph with `signature` as its signature text (empty: no node).
std::string AffineGraphDefWithSignature(const std::string& signature);

// The affine graph carrying one test case: x = [[1, 1, 1]], expected
// y = [[19, 32]] and doubled = [[38, 64]]; `y_error` is added to the stored y.
std::string AffineGraphDefWithTestVectors(float y_error);

// The affine graph plus an unused float32 Const "weights" of `floats` zeros:
// a graph whose constants weigh what the test needs.
std::string AffineGraphDefWithWeights(std::size_t floats);

// A string graph: input "text" string [?], outputs "length" (int32 byte
// lengths) and "echo" (the same strings).
std::string StringGraphDef();

// y = x · scale: input "x" float32 [?] and the optional input "scale", a
// float32 scalar PlaceholderWithDefault that defaults to 2.
std::string OptionalInputGraphDef();

// A hash table {1: 10, 2: 20, 3: 30} (int64 -> float32) filled by the node
// "table_init", which the signature lists as its init op under the name
// `init_node` (empty: no "init" list). Input "key" int64 [?], output "value"
// float32 [?], -1 for keys not in the table.
std::string TableGraphDef(const std::string& init_node = "table_init");

// TF1 control flow: y = Switch(x, pred)'s true branch through a Merge, as
// tf.cond writes it. Input "x" float32 [?]; output "y".
std::string SwitchGraphDef();

// The affine graph plus a WriteFile node "writer" (to `path`) and a PrintV2
// node "printer" printing to `print_stream` ("stderr", "file:///tmp/x", ...).
// Neither feeds an output: they are there to be found.
std::string UnsafeAffineGraphDef(const std::string& path, const std::string& print_stream);

// y = x + sum(Fill(dims, 1)): a Fill whose element count `dims` sets.
std::string FillGraphDef(const std::vector<int64_t>& dims);

// The affine graph (input "x", output "y") plus an output "boom" (the
// identity of x) behind a control edge from an Abort
// node: fetching "boom" makes TensorFlow abort the process (LOG(FATAL)
// "boom was fetched"). Needs Options::allowed_unsafe_ops = {"Abort"}.
std::string AbortGraphDef();

// total = sum(Fill([count], 1.0f)): input "count" int64 [1] sets how many
// floats TensorFlow allocates.
std::string FedFillGraphDef();

// `count` inputs "x0".."x{count-1}", float32 [?], and as many outputs
// "y0".."y{count-1}", y_i = x_i + i: more tensors than a run keeps on the stack.
std::string ManyInputsGraphDef(int count);

}  // namespace tfreeze::testing

#endif  // TFREEZE_TESTS_CPP_GRAPH_BUILDER_H_
