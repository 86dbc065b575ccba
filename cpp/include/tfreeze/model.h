// A frozen TensorFlow graph loaded for inference.
//
//   auto model = tfreeze::Model::Load("digits.pb");
//   for (const auto& input : model.inputs()) std::cout << input.name << "\n";
//   std::vector<tfreeze::Feed> feeds;
//   feeds.emplace_back("image", tfreeze::Tensor(tfreeze::DType::kFloat32, {1, 8, 8, 1}));
//   std::vector<tfreeze::Tensor> outputs = model.Run(feeds);  // every output, in order
//
// The signature (names, dtypes, shapes, order) is read from the file itself,
// written there by the tfreeze freezer. Run() validates every feed against it
// before TensorFlow sees it, and is safe to call from many threads at once.
#ifndef TFREEZE_MODEL_H_
#define TFREEZE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tfreeze/dtype.h"
#include "tfreeze/options.h"
#include "tfreeze/safety.h"
#include "tfreeze/tensor.h"
#include "tfreeze/verify.h"

namespace tfreeze {

// One input or output as the signature describes it.
struct TensorInfo {
  std::string name;  // the name the user knows, e.g. "image"
  DType dtype;
  Shape shape;       // -1 for dimensions left open, such as the batch
  bool optional = false;  // has a default in the graph, may be left unfed
};

// A feed: input name and the tensor to feed. The tensor is only borrowed.
struct Feed {
  Feed(std::string input_name, const Tensor& value)
      : name(std::move(input_name)), tensor(&value) {}
  std::string name;
  const Tensor* tensor;
};

// A constant holding fewer values than its shape: TensorFlow fills in the rest
// when it builds the tensor (see Options::max_constant_bytes).
struct ExpandedConstant {
  std::string node;
  std::string op;        // "Const", or the op of another tensor attribute
  std::string function;  // "" for the graph itself
  std::string attr;      // "value" for a Const
  std::string dtype;     // e.g. "float32"
  Shape shape;
  std::uint64_t bytes_in_file;  // its serialized TensorProto
  std::uint64_t bytes;          // in memory, once filled in (saturates at 2^64 - 1)
};

// What a frozen .pb declares, read without a session: nothing in it runs.
struct ModelInfo {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<UnsafeOp> unsafe_ops;  // see tfreeze/safety.h
  // Constants TensorFlow fills in to 1 MiB or more, largest first, and how
  // much all filled-in constants may take at load by default: more is refused.
  std::vector<ExpandedConstant> expanded_constants;
  std::uint64_t constant_limit_bytes = 0;
};

class Model {
 public:
  // Reads a frozen .pb's signature and lists its unsafe ops without creating a
  // session (no init op runs): for looking at files you do not trust yet.
  static ModelInfo Inspect(const std::string& path);

  // `path` is a frozen .pb or a SavedModel directory (signature and tags from
  // `options`; inputs and outputs in signature-key order). Throws
  // FileNotFoundError, LoadError, DeviceError.
  static Model Load(const std::string& path, const Options& options = {});
  static Model FromBytes(std::string_view graph_def, const Options& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  // The executor the session runs with: Options::executor, with kAuto resolved.
  Executor executor() const;

  // Runs the graph. `fetches` are output names; empty means every output in
  // signature order. Returns one tensor per fetch, in fetch order.
  // Optional inputs left unfed take their default. Throws UnknownNameError,
  // DTypeError, ShapeError, InputError (missing feed), RunError (TensorFlow
  // failed).
  std::vector<Tensor> Run(const std::vector<Feed>& feeds,
                          const std::vector<std::string>& fetches = {}) const;

  // Runs without validation and without signature lookups: feeds and fetches
  // are signature indices. For timing loops; the caller has validated once.
  std::vector<Tensor> RunPrepared(const std::vector<int>& input_indices,
                                  const std::vector<const Tensor*>& values,
                                  const std::vector<int>& output_indices) const;

  // Replays the test vectors the freezer stored in the file (inputs and the
  // source model's outputs) and compares within the file's tolerances.
  // Throws Error (kFailedPrecondition) when the file carries none.
  VerifyReport Verify() const;

  // Checks `feeds` and `fetches` as Run() does and turns them into indices
  // for RunPrepared().
  struct Prepared {
    std::vector<int> input_indices;
    std::vector<const Tensor*> values;
    std::vector<int> output_indices;
  };
  Prepared Prepare(const std::vector<Feed>& feeds,
                   const std::vector<std::string>& fetches = {}) const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  static Model Build(std::string_view graph_def, const std::string& origin,
                     const Options& options);
  static Model LoadSavedModel(const std::string& directory, const Options& options);
  static Model Finish(std::unique_ptr<Impl> impl, const Options& options);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tfreeze

#endif  // TFREEZE_MODEL_H_
