// Fuzz target: feed validation. A few fixed models are loaded once; the bytes
// choose a model, the feeds (names, dtypes, shapes, contents) and the fetches,
// and Run must either run or throw a tfreeze::Error.
#include <algorithm>
#include <cstring>
#include <memory>

#include "fuzz_target.h"
#include "graph_builder.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze::fuzz {
namespace {

constexpr DType kDTypes[] = {
    DType::kFloat32, DType::kFloat64, DType::kInt32,    DType::kUInt8,  DType::kInt16,
    DType::kInt8,    DType::kString,  DType::kInt64,    DType::kBool,   DType::kBFloat16,
    DType::kUInt16,  DType::kFloat16, DType::kUInt32,   DType::kUInt64};
constexpr std::int64_t kMaxElements = 4096;

// Reads the input front to back; past the end every read gives zero.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t Next() { return at_ < size_ ? data_[at_++] : 0; }
  std::string Take(std::size_t n) {
    n = std::min(n, size_ - at_);
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

const std::vector<std::unique_ptr<Model>>& Models() {
  static const auto* models = [] {
    using namespace tfreeze::testing;
    auto* loaded = new std::vector<std::unique_ptr<Model>>;
    for (const std::string& graph :
         {AffineGraphDef(), StringGraphDef(), OptionalInputGraphDef(), TableGraphDef()}) {
      loaded->push_back(std::make_unique<Model>(Model::FromBytes(graph)));
    }
    return loaded;
  }();
  return *models;
}

// A known input name most of the time, else a few raw bytes (maybe not UTF-8).
std::string PickName(Bytes& in, const std::vector<TensorInfo>& known) {
  std::uint8_t choice = in.Next();
  if (choice < 200 && !known.empty()) return known[choice % known.size()].name;
  return in.Take(in.Next() % 8);
}

Tensor MakeTensor(Bytes& in) {
  DType dtype = kDTypes[in.Next() % std::size(kDTypes)];
  Shape shape(in.Next() % 5);
  std::int64_t elements = 1;
  for (std::int64_t& dim : shape) {
    dim = in.Next() % 9;
    elements *= dim;
  }
  if (elements > kMaxElements) shape.assign(1, 1);
  if (dtype == DType::kString) {
    std::vector<std::string> values(NumElements(shape));
    for (std::string& value : values) value = in.Take(in.Next() % 16);
    return Tensor::FromStrings(shape, values);
  }
  Tensor tensor(dtype, shape);
  // Contents from the input: NaNs, infinities, out-of-range keys, bool bytes
  // other than 0 and 1.
  std::string raw = in.Take(tensor.byte_size());
  std::memcpy(tensor.raw_data(), raw.data(), raw.size());
  return tensor;
}

}  // namespace

Outcome FuzzOne(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const Model& model = *Models()[in.Next() % Models().size()];
  std::vector<Tensor> tensors;
  std::vector<std::string> names;
  int count = in.Next() % 4;
  for (int i = 0; i < count; ++i) {
    names.push_back(PickName(in, model.inputs()));
    tensors.push_back(MakeTensor(in));
  }
  std::vector<Feed> feeds;
  for (int i = 0; i < count; ++i) feeds.emplace_back(names[i], tensors[i]);
  std::vector<std::string> fetches;
  for (int i = in.Next() % 3; i > 0; --i) fetches.push_back(PickName(in, model.outputs()));
  try {
    model.Run(feeds, fetches);
    return Outcome::kRan;
  } catch (const Error&) {
    return Outcome::kTypedError;
  }
}

std::vector<std::string> BuiltinSeeds() {
  // model 0 (affine), one feed "x" float32 [1, 3] = 1, 2, 3; all outputs.
  std::string affine = {0, 1, 0, 0, 2, 1, 3};
  const float values[] = {1, 2, 3};
  affine.append(reinterpret_cast<const char*>(values), sizeof(values));
  affine.push_back(0);
  // model 1 (strings), one feed "text" string [2] = "ab", "c"; fetch "length".
  std::string text = {1, 1, 0, 6, 1, 2, 2, 'a', 'b', 1, 'c', 1, 0};
  // model 2 (optional input) with no feed; model 3 (table) with key int64 [3].
  std::string optional = {2, 0, 0};
  std::string table = {3, 1, 0, 7, 1, 3};
  const std::int64_t keys[] = {1, 2, 9};
  table.append(reinterpret_cast<const char*>(keys), sizeof(keys));
  return {affine, text, optional, table};
}

}  // namespace tfreeze::fuzz
