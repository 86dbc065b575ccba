#include "session_config.h"

#include <cstdint>

#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

// ConfigProto field numbers (tensorflow/core/protobuf/config.proto). Writing
// two varints by hand avoids linking a protobuf runtime that would have to
// match TensorFlow's own.
constexpr int kIntraOpThreadsField = 2;
constexpr int kInterOpThreadsField = 5;

void AppendVarint(std::uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendIntField(int field, int value, std::string* out) {
  AppendVarint(static_cast<std::uint64_t>(field) << 3, out);  // wire type 0
  AppendVarint(static_cast<std::uint64_t>(value), out);
}

void CheckThreads(const char* what, int value) {
  if (value < 0) {
    throw Error(Code::kInvalidArgument,
                std::string(what) + " must be 0 (TensorFlow decides) or a positive "
                "thread count, got " + std::to_string(value));
  }
}

}  // namespace

std::string SerializeConfig(const Options& options) {
  CheckThreads("intra_op_threads", options.intra_op_threads);
  CheckThreads("inter_op_threads", options.inter_op_threads);
  std::string config = options.config_proto;
  if (options.intra_op_threads > 0) {
    AppendIntField(kIntraOpThreadsField, options.intra_op_threads, &config);
  }
  if (options.inter_op_threads > 0) {
    AppendIntField(kInterOpThreadsField, options.inter_op_threads, &config);
  }
  return config;
}

}  // namespace tfreeze::internal
