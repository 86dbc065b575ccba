// A .pb is a program: besides math it can hold ops that read and write files,
// talk to the network or end the process. tfreeze refuses such graphs at load
// unless Options allow them (UnsafeOpError names every offending node).
//
//   for (const auto& found : tfreeze::FindUnsafeOps(bytes)) {
//     std::cout << found.node << " (" << found.op << "): " << found.reason << "\n";
//   }
#ifndef TFREEZE_SAFETY_H_
#define TFREEZE_SAFETY_H_

#include <string>
#include <string_view>
#include <vector>

namespace tfreeze {

// One entry of the deny list: the op, its family and why it is refused.
struct DeniedOp {
  const char* op;
  const char* family;
  const char* reason;
};

// The deny list, grouped by family (docs/reliability.md shows it).
const std::vector<DeniedOp>& UnsafeOpList();

// A node of a graph whose op is on the deny list.
struct UnsafeOp {
  std::string node;
  std::string op;
  std::string function;  // the library function holding the node; "" for the graph itself
  std::string reason;
};

// Every node of a serialized GraphDef, and of the functions in its library,
// whose op is on the deny list (PrintV2 only when it prints to a file).
// Throws LoadError when the bytes are not a GraphDef.
std::vector<UnsafeOp> FindUnsafeOps(std::string_view graph_def);

}  // namespace tfreeze

#endif  // TFREEZE_SAFETY_H_
