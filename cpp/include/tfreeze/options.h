// How a Model's TensorFlow session is configured.
//
//   tfreeze::Options options;
//   options.intra_op_threads = 1;   // one thread inside each op
//   options.inter_op_threads = 1;   // one op at a time
//   options.device = "gpu:0";       // DeviceError if this TensorFlow has no such GPU
//   auto model = tfreeze::Model::Load("digits.pb", options);
#ifndef TFREEZE_OPTIONS_H_
#define TFREEZE_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tfreeze {

// How a session schedules a graph's ops.
enum class Executor {
  // TensorFlow's executor: ready ops are handed to the inter-op thread pool.
  kDefault,
  // Ops run one after another in the thread that calls Run: far less work per
  // op, a large win for small models at small batches (docs/benchmarks.md).
  // CPU only; cannot run TF1 control flow (Switch/Merge) or reference tensors,
  // and such graphs are refused at load with the reason.
  kSingleThreaded,
  // The default: kSingleThreaded for a small graph (at most kSmallGraphBytes of
  // constants) where the graph, device and xla_jit allow it, else kDefault
  // (Model::executor() says which was used). Small graphs spend most of a run
  // scheduling ops, which the single-threaded executor skips; on large ones at
  // large batches or with several threads TensorFlow's executor, which runs
  // independent ops side by side, was as fast or faster (docs/benchmarks.md).
  kAuto,
};

// The size up to which Executor::kAuto picks the single-threaded executor: the
// bytes of a graph's constants (its weights), 4 MiB.
inline constexpr std::size_t kSmallGraphBytes = std::size_t{4} << 20;

// The default limit on the memory a graph's filled-in constants take, unless
// four times the graph's size is more (Options::max_constant_bytes).
inline constexpr std::uint64_t kDefaultConstantBytes = std::uint64_t{256} << 20;
// Options::max_constant_bytes that turns the limit off.
inline constexpr std::uint64_t kNoConstantLimit = ~std::uint64_t{0};

// "default", "single_threaded", "auto": the names config files, the tools and
// Python use. ParseExecutor throws Error listing the valid names.
std::string ExecutorName(Executor executor);
Executor ParseExecutor(const std::string& name);

struct Options {
  // Threads used inside one op (0: TensorFlow picks, usually one per core).
  int intra_op_threads = 0;
  // Ops run in parallel (0: TensorFlow picks).
  int inter_op_threads = 0;
  // Where the graph runs: "" (TensorFlow places ops), "cpu", "cpu:N", "gpu",
  // "gpu:N". Ops without a kernel for that device fall back to the CPU.
  std::string device;
  // GPU memory: grow as needed instead of taking it all up front.
  bool gpu_allow_growth = false;
  // GPU memory: the share of each GPU to take, in (0, 1]; 0 keeps TF's default.
  double gpu_memory_fraction = 0;
  // GPUs TensorFlow may see, e.g. "0,1" ("" : all).
  std::string visible_devices;
  // XLA JIT compilation of the graph (global_jit_level ON_1). On the CPU this
  // also turns on TensorFlow's process-wide CPU auto-clustering flag.
  bool xla_jit = false;
  // The executor (see Executor).
  Executor executor = Executor::kAuto;
  // Run each step in the calling thread instead of handing it to the inter-op
  // pool (TensorFlow's inter_op_parallelism_threads = -1); leave
  // inter_op_threads at 0 with it.
  bool caller_thread = false;
  // Ops that touch files, the network or the process (tfreeze/safety.h) are
  // refused at load unless allowed: all of them, or the ops named here. Allow
  // only for files you trust: a .pb is a program.
  bool allow_unsafe_ops = false;
  std::vector<std::string> allowed_unsafe_ops;
  // Grappler's graph optimizations when the session starts (on by default;
  // off can load faster and, for some small graphs, run faster).
  bool graph_optimizations = true;
  // SavedModel directories only: the MetaGraph tags and the SignatureDef to use.
  std::vector<std::string> saved_model_tags = {"serve"};
  std::string saved_model_signature = "serving_default";
  // A constant may give fewer values than its shape holds, and TensorFlow
  // fills in the rest (tf.zeros folded into a Const holds one value): a tiny
  // file can claim gigabytes. The bytes all such constants may take together,
  // checked at load before TensorFlow builds any (ConstantTooLargeError).
  // 0: the larger of kDefaultConstantBytes and four times the graph's size;
  // kNoConstantLimit: no limit. Constants stored in full are not counted: the
  // file already holds their bytes.
  std::uint64_t max_constant_bytes = 0;
  // A serialized tensorflow.ConfigProto for anything else. Fields set above
  // are appended after it, so they win where both set the same field.
  std::string config_proto;

  // IsolatedModel only (tfreeze/isolated_model.h): limits on the worker
  // process, applied with setrlimit (0: none). Memory is address space
  // (RLIMIT_AS): TensorFlow alone reserves about 1-2 GB of it. CPU time is
  // the worker's total, across calls, until it restarts.
  std::int64_t isolation_memory_limit_bytes = 0;
  int isolation_cpu_seconds = 0;
  // The worker executable; empty: $TFREEZE_WORKER, else found where tfreeze
  // installed it (next to the Python module, or in libexec/).
  std::string isolation_worker;
};

// Reads a config file written by `tfreeze tune` (JSON; see docs/benchmarks.md)
// on top of `base`. The file's "environment" (e.g. TF_ENABLE_ONEDNN_OPTS) is
// not applied: TensorFlow reads it when it loads, so it belongs in the
// environment that starts the program. Throws Error naming the bad field.
Options LoadOptionsFile(const std::string& path, Options base = {});

}  // namespace tfreeze

#endif  // TFREEZE_OPTIONS_H_
