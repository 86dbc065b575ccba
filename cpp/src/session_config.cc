#include "session_config.h"

#include <cstdint>
#include <cstring>
#include <regex>

#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

// Field numbers from tensorflow/core/protobuf/config.proto. Writing a few
// fields by hand avoids linking a protobuf runtime that would have to match
// TensorFlow's own.
constexpr int kIntraOpThreadsField = 2;
constexpr int kInterOpThreadsField = 5;
constexpr int kGpuOptionsField = 6;
constexpr int kAllowSoftPlacementField = 7;
constexpr int kGraphOptionsField = 10;
constexpr int kGpuMemoryFractionField = 1;   // GPUOptions.per_process_gpu_memory_fraction
constexpr int kGpuAllowGrowthField = 4;      // GPUOptions.allow_growth
constexpr int kGpuVisibleDevicesField = 5;   // GPUOptions.visible_device_list
constexpr int kOptimizerOptionsField = 3;    // GraphOptions.optimizer_options
constexpr int kGlobalJitLevelField = 5;      // OptimizerOptions.global_jit_level
constexpr int kJitOn1 = 1;                   // OptimizerOptions.GlobalJitLevel.ON_1
constexpr int kRewriteOptionsField = 10;     // GraphOptions.rewrite_options
constexpr int kDisableMetaOptimizerField = 19;  // RewriterConfig.disable_meta_optimizer
constexpr int kMemoryOptimizationField = 4;  // RewriterConfig.memory_optimization
constexpr int kNoMemoryOptimization = 1;     // RewriterConfig.MemOptType.NO_MEM_OPT
constexpr int kExperimentalField = 16;       // ConfigProto.experimental
constexpr int kExecutorTypeField = 3;        // ConfigProto.Experimental.executor_type
constexpr char kSingleThreadedExecutor[] = "SINGLE_THREADED_EXECUTOR";
// inter_op_parallelism_threads < 0: DirectSession runs each step in the caller's thread.
constexpr int kCallerThread = -1;

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

void AppendVarint(std::uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendTag(int field, WireType type, std::string* out) {
  AppendVarint((static_cast<std::uint64_t>(field) << 3) | type, out);
}

void AppendInt(int field, std::int64_t value, std::string* out) {
  AppendTag(field, kVarint, out);
  AppendVarint(static_cast<std::uint64_t>(value), out);
}

void AppendDouble(int field, double value, std::string* out) {
  AppendTag(field, kFixed64, out);
  char bytes[8];
  std::memcpy(bytes, &value, 8);  // protobuf's fixed64 is little-endian, as is x86-64/arm64
  out->append(bytes, 8);
}

void AppendBytes(int field, const std::string& value, std::string* out) {
  AppendTag(field, kLengthDelimited, out);
  AppendVarint(value.size(), out);
  out->append(value);
}

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(Code::kInvalidArgument, message);
}

void CheckThreads(const char* what, int value) {
  if (value < 0) {
    Invalid(std::string(what) + " must be 0 (TensorFlow decides) or a positive thread count, got " +
            std::to_string(value));
  }
}

std::string ExperimentalOptions(const Options& options) {
  if (options.executor == Executor::kAuto) {
    Invalid("executor \"auto\" must be resolved against the graph before the session starts");
  }
  std::string experimental;
  if (options.executor == Executor::kSingleThreaded) {
    AppendBytes(kExecutorTypeField, kSingleThreadedExecutor, &experimental);
  }
  return experimental;
}

std::string GpuOptions(const Options& options) {
  if (options.gpu_memory_fraction < 0 || options.gpu_memory_fraction > 1) {
    Invalid("gpu_memory_fraction must be in (0, 1], or 0 for TensorFlow's default; got " +
            std::to_string(options.gpu_memory_fraction));
  }
  if (!std::regex_match(options.visible_devices, std::regex(R"((\d+(,\d+)*)?)"))) {
    Invalid("visible_devices must list GPU numbers like \"0\" or \"0,1\", got \"" +
            options.visible_devices + "\"");
  }
  std::string gpu;
  if (options.gpu_memory_fraction > 0) {
    AppendDouble(kGpuMemoryFractionField, options.gpu_memory_fraction, &gpu);
  }
  if (options.gpu_allow_growth) AppendInt(kGpuAllowGrowthField, 1, &gpu);
  if (!options.visible_devices.empty()) {
    AppendBytes(kGpuVisibleDevicesField, options.visible_devices, &gpu);
  }
  return gpu;
}

// Grappler's memory optimizer swaps tensors to the host and recomputes
// gradients: training and GPU work. On a frozen CPU inference graph it changes
// nothing but costs memory while the first run optimizes: ResNet50's peak RSS
// is ~290 MB lower without it (docs/benchmarks.md, "Memory").
std::string InferenceDefaults() {
  std::string rewrite;
  AppendInt(kMemoryOptimizationField, kNoMemoryOptimization, &rewrite);
  std::string graph;
  AppendBytes(kRewriteOptionsField, rewrite, &graph);
  std::string config;
  AppendBytes(kGraphOptionsField, graph, &config);
  return config;
}

}  // namespace

std::string SerializeConfig(const Options& options) {
  CheckThreads("intra_op_threads", options.intra_op_threads);
  CheckThreads("inter_op_threads", options.inter_op_threads);
  std::string config = InferenceDefaults();
  config += options.config_proto;  // after the defaults: the user's fields win
  if (options.intra_op_threads > 0) {
    AppendInt(kIntraOpThreadsField, options.intra_op_threads, &config);
  }
  if (options.caller_thread && options.inter_op_threads > 0) {
    Invalid("caller_thread runs each step in the calling thread; it cannot be combined with "
            "inter_op_threads = " + std::to_string(options.inter_op_threads) +
            " (leave inter_op_threads at 0)");
  }
  if (options.inter_op_threads > 0) {
    AppendInt(kInterOpThreadsField, options.inter_op_threads, &config);
  }
  if (options.caller_thread) AppendInt(kInterOpThreadsField, kCallerThread, &config);
  const std::string gpu = GpuOptions(options);
  if (!gpu.empty()) AppendBytes(kGpuOptionsField, gpu, &config);
  // A chosen device should not fail on ops that only have CPU kernels.
  if (!DeviceName(options.device).empty()) AppendInt(kAllowSoftPlacementField, 1, &config);
  std::string graph;
  if (options.xla_jit) {
    std::string optimizer;
    AppendInt(kGlobalJitLevelField, kJitOn1, &optimizer);
    AppendBytes(kOptimizerOptionsField, optimizer, &graph);
  }
  if (!options.graph_optimizations) {
    std::string rewrite;
    AppendInt(kDisableMetaOptimizerField, 1, &rewrite);
    AppendBytes(kRewriteOptionsField, rewrite, &graph);
  }
  if (!graph.empty()) AppendBytes(kGraphOptionsField, graph, &config);
  const std::string experimental = ExperimentalOptions(options);
  if (!experimental.empty()) AppendBytes(kExperimentalField, experimental, &config);
  return config;
}

std::string DeviceName(const std::string& device) {
  if (device.empty()) return "";
  std::smatch match;
  if (!std::regex_match(device, match, std::regex(R"((cpu|gpu)(:(\d+))?)", std::regex::icase))) {
    Invalid("device \"" + device + "\" is not one of: cpu, cpu:N, gpu, gpu:N");
  }
  std::string kind = match[1];
  for (char& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "/device:" + kind + ":" + (match[3].matched ? match[3].str() : "0");
}

}  // namespace tfreeze::internal
