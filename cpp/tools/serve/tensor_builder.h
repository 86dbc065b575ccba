// Builds one input's tensor from JSON events, as a SAX parser or a walk over
// a DOM gives them, checking as they come that the nested lists are
// rectangular and that every value fits the input's dtype. Values go straight
// into typed blocks counted against the request's memory: no DOM, and never
// a vector that doubles (one holds up to three times its data as it moves).
//
//   TensorBuilder values(info, memory, /*stacked=*/false);
//   values.StartList();
//   values.Leaf(1.5);
//   values.Leaf(2);
//   values.EndList();
//   Tensor t = values.Finish();  // float32 [2] for a float32 input
//
// ValueReader (below) turns a SAX parser's events for one value into these
// calls. Errors are InputErrors with the messages TF Serving clients see, e.g.
// `input "x": a list of 1 at depth 1 where 2 items belong (nested lists must
// be rectangular)`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "memory_budget.h"
#include "tfreeze/model.h"

namespace tfreeze::serve {

// Values of one fixed size in blocks that grow to 1 MiB; moved into one
// aligned buffer at the end, each block freed once copied.
class Blocks {
 public:
  Blocks(std::size_t element_size, RequestMemory& memory, std::string what)
      : element_size_(element_size), memory_(memory), what_(std::move(what)) {}
  ~Blocks();  // gives back the memory of blocks still held
  Blocks(const Blocks&) = delete;
  Blocks& operator=(const Blocks&) = delete;

  template <typename T>
  void Push(const T& value) {
    if (used_ == capacity_) NewBlock();
    std::memcpy(blocks_.back().get() + used_ * element_size_, &value, sizeof(T));
    ++used_;
    ++count_;
  }
  std::size_t count() const { return count_; }
  // A tensor over the values (count() must match `shape`); the blocks are
  // empty afterwards.
  Tensor ToTensor(DType dtype, Shape shape);

 private:
  void NewBlock();

  std::size_t element_size_;
  RequestMemory& memory_;
  std::string what_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::size_t> block_bytes_;
  std::size_t capacity_ = 0;  // elements in the last block
  std::size_t used_ = 0;      // of those
  std::size_t count_ = 0;
};

class TensorBuilder {
 public:
  // `stacked`: the row format's one value per instance, each between
  // StartInstance() and EndInstance(), stacked along a new first dimension;
  // each must have the shape of the first. Otherwise one value.
  TensorBuilder(const TensorInfo& info, RequestMemory& memory, bool stacked);
  ~TensorBuilder();  // gives back the memory of values not made a tensor

  void StartInstance();
  void EndInstance();
  void StartList();
  void EndList();
  // A value that is not a list: a number, string, boolean, null, marker for
  // a non-finite token, a {"b64": "..."} object, or an empty object standing
  // for any other object.
  void Leaf(const nlohmann::json& value);
  // True inside a list that is refused once its length is known: its
  // items count, their contents are not looked at.
  bool skipping() const { return skip_nesting_ >= 0; }

  // The tensor; the builder is spent afterwards.
  Tensor Finish();
  // The memory the finished tensor is counted for in the request's budget.
  std::size_t bytes() const { return bytes_; }
  std::int64_t instances() const { return instances_; }

 private:
  void CountItem();
  // Throws a shape error, naming the instance; in instance 0 it waits for the
  // end of the instance, whose shape the message names.
  void RefuseShape(const std::string& message);
  [[noreturn]] void ThrowShape(std::int64_t instance, const std::string& message) const;
  void Push(const nlohmann::json& value);
  void PushString(std::string text);

  const TensorInfo& info_;
  RequestMemory& memory_;
  const bool stacked_;
  std::int64_t instances_ = 0;
  int rank_ = -1;                   // depth of the values, once a value or empty list shows it
  Shape dims_;                      // of an instance (or the value); -1 until the first list closes
  std::vector<std::int64_t> open_;  // items so far in each open list
  int skip_nesting_ = -1;           // lists open inside a refused list, -1: none refused
  std::string deferred_;            // a shape error in instance 0, told once its shape is known
  Blocks blocks_;
  std::vector<std::string> strings_;  // kString
  std::size_t strings_uncounted_ = 0;
  std::size_t bytes_ = 0;
  bool finished_ = false;
};

// Routes the events of one JSON value into a TensorBuilder (none: skips the
// value). An object inside it becomes one leaf: {"b64": "..."} when it is
// exactly that, else an empty object, which the builder refuses as "an object".
class ValueReader {
 public:
  void Start(TensorBuilder* builder) {
    builder_ = builder;
    depth_ = 0;
    object_at_ = -1;
  }
  // The value is an object whose first key, "b64", has been read already.
  void StartAfterB64Key(TensorBuilder* builder) {
    Start(builder);
    depth_ = object_at_ = 1;
    object_ = Object::kB64Value;
  }
  // Each returns true when its event ended the value.
  bool Open(bool is_object);
  bool Close();
  void Key(const std::string& key);
  bool Value(nlohmann::json value);

 private:
  enum class Object { kFirstKey, kB64Value, kB64End, kOther };

  TensorBuilder* builder_ = nullptr;
  int depth_ = 0;       // containers open within the value
  int object_at_ = -1;  // depth_ inside the object being read as a leaf; -1: none
  Object object_ = Object::kOther;
  std::string b64_;
};

}  // namespace tfreeze::serve
