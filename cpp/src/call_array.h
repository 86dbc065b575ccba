// A fixed-size array for one Run call's ports, values and indices: on the
// stack for the few tensors a model usually has, on the heap past that. On a
// small model a heap allocation per array costs as much as all of tfreeze's
// checks (docs/benchmarks.md, "tfreeze <= 1.02x the bare C API loop").
#ifndef TFREEZE_SRC_CALL_ARRAY_H_
#define TFREEZE_SRC_CALL_ARRAY_H_

#include <array>
#include <cstddef>
#include <vector>

namespace tfreeze::internal {

template <typename T>
class CallArray {
 public:
  explicit CallArray(std::size_t size, T fill = T{}) : size_(size) {
    if (size > kInline) heap_.resize(size);
    for (std::size_t i = 0; i < size; ++i) data()[i] = fill;
  }
  CallArray(const CallArray&) = delete;
  CallArray& operator=(const CallArray&) = delete;

  T* data() { return size_ > kInline ? heap_.data() : inline_.data(); }
  const T* data() const { return size_ > kInline ? heap_.data() : inline_.data(); }
  T& operator[](std::size_t i) { return data()[i]; }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInline = 8;
  std::size_t size_;
  std::array<T, kInline> inline_;
  std::vector<T> heap_;
};

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_CALL_ARRAY_H_
