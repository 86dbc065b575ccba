// Checks feeds and fetches against a signature before TensorFlow runs them:
// the C API itself accepts a wrong-rank feed silently and names a wrong dtype
// only by argument index.
#ifndef TFREEZE_SRC_VALIDATION_H_
#define TFREEZE_SRC_VALIDATION_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "signature.h"
#include "tfreeze/model.h"

namespace tfreeze::internal {

// Name -> position in a signature list.
using NameIndex = std::unordered_map<std::string, int>;

NameIndex IndexNames(const std::vector<BoundTensor>& tensors);

// Every required input fed (optional ones may be left to their defaults), none
// twice, each with a matching dtype and shape; writes the input index of each
// feed to indices[0..feeds.size()). Throws UnknownNameError, DTypeError,
// ShapeError, InputError.
void CheckFeeds(const std::vector<Feed>& feeds, const std::vector<BoundTensor>& inputs,
                const NameIndex& index, int* indices);

// How many outputs `fetches` asks for: all of them when it is empty.
std::size_t FetchCount(const std::vector<std::string>& fetches,
                       const std::vector<BoundTensor>& outputs);

// Writes the output index of each fetch (of every output when `fetches` is
// empty) to indices[0..FetchCount). Throws UnknownNameError.
void ResolveFetches(const std::vector<std::string>& fetches,
                    const std::vector<BoundTensor>& outputs, const NameIndex& index,
                    int* indices);

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_VALIDATION_H_
