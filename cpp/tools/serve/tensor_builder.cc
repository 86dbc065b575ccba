#include "tensor_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "json_tensors.h"
#include "tfreeze/errors.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

// TensorFlow's limit on a tensor's rank; deeper nesting is refused before
// any state grows with it.
constexpr std::size_t kMaxRank = 254;

constexpr std::size_t kFirstBlockBytes = std::size_t{4} << 10;  // a small request's all
constexpr std::size_t kLastBlockBytes = std::size_t{1} << 20;
// Strings are counted against the request's memory in steps this large.
constexpr std::size_t kStringCountStep = std::size_t{64} << 10;
// TensorFlow's alignment for tensor data: an unaligned buffer would be copied.
constexpr std::size_t kAlignment = 64;

bool IsBase64Object(const json& value) {
  return value.is_object() && value.size() == 1 && value.contains("b64") &&
         value["b64"].is_string();
}

// A leaf value as an error message shows it.
std::string Shown(const json& value) {
  if (value.is_string()) {
    const auto non_finite = NonFiniteMarker(value.get_ref<const std::string&>());
    if (non_finite)
      return std::isnan(*non_finite) ? "NaN" : *non_finite > 0 ? "Infinity" : "-Infinity";
  }
  if (value.is_array()) return "a list";
  if (value.is_object()) return IsBase64Object(value) ? "{\"b64\": ...}" : "an object";
  std::string shown = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return shown.size() > 60 ? shown.substr(0, 57) + "..." : shown;
}

[[noreturn]] void Refuse(const TensorInfo& info, const json& value, const std::string& why) {
  throw InputError("input \"" + info.name + "\": JSON value " + Shown(value) + " " + why);
}

double FloatValue(const json& value, const TensorInfo& info) {
  if (value.is_number()) {
    const double number = value.get<double>();
    if (info.dtype != DType::kFloat64 && std::isfinite(number) &&
        std::abs(number) > std::numeric_limits<float>::max()) {
      Refuse(info, value, "does not fit in " + DTypeName(info.dtype));
    }
    return number;
  }
  if (value.is_string()) {
    const auto non_finite = NonFiniteMarker(value.get_ref<const std::string&>());
    if (non_finite) return *non_finite;
  }
  Refuse(info, value, "is not a number; expected " + DTypeName(info.dtype));
}

template <typename T>
T IntegerValue(const json& value, const TensorInfo& info) {
  if (!value.is_number_integer()) {
    Refuse(info, value, "is not an integer; expected " + DTypeName(info.dtype));
  }
  using Limits = std::numeric_limits<T>;
  if (value.is_number_unsigned()) {  // nlohmann's type for any integer >= 0
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(Limits::max())) {
      Refuse(info, value, "is out of range for " + DTypeName(info.dtype));
    }
    return static_cast<T>(number);
  }
  const auto number = value.get<std::int64_t>();  // negative
  if (!Limits::is_signed || number < static_cast<std::int64_t>(Limits::min())) {
    Refuse(info, value, "is out of range for " + DTypeName(info.dtype));
  }
  return static_cast<T>(number);
}

std::string StringValue(const json& value, const TensorInfo& info) {
  if (IsBase64Object(value)) {
    try {
      return Base64Decode(value["b64"].get_ref<const std::string&>());
    } catch (const InputError& e) {
      Refuse(info, value, e.what());
    }
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!NonFiniteMarker(text)) return text;
  }
  Refuse(info, value, "is not a string or {\"b64\": ...}");
}

}  // namespace

Blocks::~Blocks() {
  std::size_t held = 0;
  for (const std::size_t bytes : block_bytes_) held += bytes;
  memory_.Give(held);
}

void Blocks::NewBlock() {
  const std::size_t last = block_bytes_.empty() ? 0 : block_bytes_.back();
  const std::size_t bytes =
      std::max(element_size_, std::clamp(2 * last, kFirstBlockBytes, kLastBlockBytes));
  memory_.Take(bytes, what_);
  blocks_.emplace_back(new char[bytes]);
  block_bytes_.push_back(bytes);
  capacity_ = bytes / element_size_;
  used_ = 0;
}

Tensor Blocks::ToTensor(DType dtype, Shape shape) {
  const std::size_t total = count_ * element_size_;
  const std::size_t allocated =
      (std::max<std::size_t>(total, 1) + kAlignment - 1) / kAlignment * kAlignment;
  char* data = static_cast<char*>(std::aligned_alloc(kAlignment, allocated));
  if (data == nullptr) throw std::bad_alloc();
  // Each block's bytes move into `data` as the block is freed: what the
  // request holds grows by one block at most.
  std::size_t at = 0;
  std::size_t counted = 0;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const std::size_t bytes = std::min(block_bytes_[i] / element_size_ * element_size_, total - at);
    std::memcpy(data + at, blocks_[i].get(), bytes);
    at += bytes;
    counted += block_bytes_[i];
    blocks_[i].reset();
  }
  blocks_.clear();
  block_bytes_.clear();
  memory_.Give(counted - std::min(counted, total));
  capacity_ = used_ = count_ = 0;
  return Tensor::Wrap(dtype, std::move(shape), data, total, [data] { std::free(data); });
}

TensorBuilder::TensorBuilder(const TensorInfo& info, RequestMemory& memory, bool stacked)
    : info_(info),
      memory_(memory),
      stacked_(stacked),
      blocks_(std::max<std::size_t>(DTypeSize(info.dtype), 1), memory,
              "the values of input \"" + info.name + "\"") {}

TensorBuilder::~TensorBuilder() {
  if (!finished_) memory_.Give(bytes_);  // counted strings; the blocks give back their own
}

void TensorBuilder::StartInstance() { open_.clear(); }

void TensorBuilder::EndInstance() {
  ++instances_;
  if (!deferred_.empty()) ThrowShape(0, deferred_);
}

void TensorBuilder::ThrowShape(std::int64_t instance, const std::string& message) const {
  throw InputError("instance " + std::to_string(instance) + ": " + message +
                   " (every instance must have the shape of the first, " + ShapeToString(dims_) +
                   ")");
}

void TensorBuilder::RefuseShape(const std::string& message) {
  if (!stacked_) throw InputError(message + " (nested lists must be rectangular)");
  if (instances_ > 0) ThrowShape(instances_, message);
  if (deferred_.empty())
    deferred_ = message;  // instance 0's first error; its shape is not whole yet
}

void TensorBuilder::CountItem() {
  if (!open_.empty()) ++open_.back();
}

void TensorBuilder::StartList() {
  if (skipping()) {
    if (skip_nesting_++ == 0) ++open_.back();
    return;
  }
  const std::size_t depth = open_.size();
  CountItem();
  if (rank_ >= 0 && depth >= static_cast<std::size_t>(rank_)) {  // refused once its size is known
    open_.push_back(0);
    skip_nesting_ = 0;
    return;
  }
  if (rank_ < 0 && depth == kMaxRank) {
    throw InputError("input \"" + info_.name + "\": lists nested deeper than " +
                     std::to_string(kMaxRank) + " levels");
  }
  if (dims_.size() <= depth) dims_.push_back(-1);
  open_.push_back(0);
}

void TensorBuilder::EndList() {
  const std::size_t depth = open_.size() - 1;
  const std::int64_t items = open_.back();
  if (skipping()) {
    if (skip_nesting_-- > 0) return;
    open_.pop_back();
    return RefuseShape("input \"" + info_.name + "\": a list of " + std::to_string(items) +
                       " at depth " + std::to_string(depth) + " where a value belong");
  }
  open_.pop_back();
  if (rank_ < 0) rank_ = static_cast<int>(depth) + 1;  // an empty list ends the first path
  if (dims_[depth] < 0) {
    dims_[depth] = items;  // the first list at this depth sets its length
  } else if (dims_[depth] != items) {
    RefuseShape("input \"" + info_.name + "\": a list of " + std::to_string(items) + " at depth " +
                std::to_string(depth) + " where " + std::to_string(dims_[depth]) + " items belong");
  }
}

void TensorBuilder::Leaf(const json& value) {
  if (skipping()) {
    if (skip_nesting_ == 0) ++open_.back();
    return;
  }
  const int depth = static_cast<int>(open_.size());
  CountItem();
  if (rank_ < 0) rank_ = depth;
  if (depth != rank_) {
    return RefuseShape("input \"" + info_.name + "\": JSON value " + Shown(value) +
                       " found at depth " + std::to_string(depth) +
                       " of the nested lists; values belong at depth " + std::to_string(rank_));
  }
  if (deferred_.empty()) Push(value);  // a shape error is told before any value's
}

void TensorBuilder::Push(const json& value) {
  const auto as_float = [&] { return static_cast<float>(FloatValue(value, info_)); };
  switch (info_.dtype) {
    case DType::kFloat32:
      return blocks_.Push(as_float());
    case DType::kFloat64:
      return blocks_.Push(FloatValue(value, info_));
    case DType::kFloat16:
      return blocks_.Push(Float16::FromFloat(as_float()));
    case DType::kBFloat16:
      return blocks_.Push(BFloat16::FromFloat(as_float()));
    case DType::kInt8:
      return blocks_.Push(IntegerValue<std::int8_t>(value, info_));
    case DType::kInt16:
      return blocks_.Push(IntegerValue<std::int16_t>(value, info_));
    case DType::kInt32:
      return blocks_.Push(IntegerValue<std::int32_t>(value, info_));
    case DType::kInt64:
      return blocks_.Push(IntegerValue<std::int64_t>(value, info_));
    case DType::kUInt8:
      return blocks_.Push(IntegerValue<std::uint8_t>(value, info_));
    case DType::kUInt16:
      return blocks_.Push(IntegerValue<std::uint16_t>(value, info_));
    case DType::kUInt32:
      return blocks_.Push(IntegerValue<std::uint32_t>(value, info_));
    case DType::kUInt64:
      return blocks_.Push(IntegerValue<std::uint64_t>(value, info_));
    case DType::kBool:
      if (!value.is_boolean()) Refuse(info_, value, "is not true or false");
      return blocks_.Push(value.get<bool>());
    case DType::kString:
      return PushString(StringValue(value, info_));
  }
  throw InputError("input \"" + info_.name + "\": dtype " + DTypeName(info_.dtype) +
                   " cannot be given as JSON");
}

void TensorBuilder::PushString(std::string text) {
  // The std::string here and its copy in the tensor (a TF_TString each).
  strings_uncounted_ += 2 * sizeof(std::string) + 2 * text.size();
  if (strings_uncounted_ >= kStringCountStep) {
    memory_.Take(strings_uncounted_, "the values of input \"" + info_.name + "\"");
    bytes_ += strings_uncounted_;
    strings_uncounted_ = 0;
  }
  strings_.push_back(std::move(text));
}

Tensor TensorBuilder::Finish() {
  Shape shape = dims_;
  if (stacked_) shape.insert(shape.begin(), instances_);
  if (info_.dtype != DType::kString) {
    Tensor tensor = blocks_.ToTensor(info_.dtype, std::move(shape));
    bytes_ = tensor.byte_size();
    finished_ = true;
    return tensor;
  }
  memory_.Take(strings_uncounted_, "the values of input \"" + info_.name + "\"");
  bytes_ += strings_uncounted_;
  strings_uncounted_ = 0;
  Tensor tensor = Tensor::FromStrings(std::move(shape), strings_);
  std::vector<std::string>().swap(strings_);
  finished_ = true;
  return tensor;
}

bool ValueReader::Open(bool is_object) {
  ++depth_;
  if (builder_ == nullptr) return false;
  if (object_at_ >= 0) {  // a container inside an object leaf: not a b64 object
    if (depth_ == object_at_ + 1) object_ = Object::kOther;
  } else if (is_object) {
    object_at_ = depth_;
    object_ = Object::kFirstKey;
  } else {
    builder_->StartList();
  }
  return false;
}

bool ValueReader::Close() {
  if (builder_ != nullptr && object_at_ < 0) {
    builder_->EndList();
  } else if (builder_ != nullptr && depth_ == object_at_) {
    object_at_ = -1;
    builder_->Leaf(object_ == Object::kB64End ? json{{"b64", std::move(b64_)}} : json::object());
  }
  return --depth_ == 0;
}

void ValueReader::Key(const std::string& key) {
  if (builder_ == nullptr || depth_ != object_at_) return;  // a key of an object nested in the leaf
  object_ = object_ == Object::kFirstKey && key == "b64" ? Object::kB64Value : Object::kOther;
}

bool ValueReader::Value(json value) {
  if (builder_ == nullptr) return depth_ == 0;
  if (object_at_ < 0) {
    builder_->Leaf(value);
    return depth_ == 0;
  }
  if (depth_ == object_at_) {
    const bool b64 = object_ == Object::kB64Value && value.is_string();
    if (b64) b64_ = std::move(value.get_ref<std::string&>());
    object_ = b64 ? Object::kB64End : Object::kOther;
  }
  return false;
}

}  // namespace tfreeze::serve
