// A frozen graph run by TensorFlow in a child process, so that TensorFlow
// aborting (a CHECK failure, a fatal log, running out of memory, a signal)
// ends the child, not the host.
//
//   tfreeze::Options options;
//   options.isolation_memory_limit_bytes = 4LL << 30;  // optional
//   auto model = tfreeze::IsolatedModel::Load("digits.pb", options);
//   try {
//     std::vector<tfreeze::Tensor> outputs = model.Run(feeds);
//   } catch (const tfreeze::ModelCrashedError& e) {
//     std::cerr << e.what() << "\n";  // signal, and TensorFlow's last words
//   }                                 // the next Run starts a new worker
//
// Same interface as Model: the worker (the `tfreeze-worker` executable) loads
// the file with Model::Load and forwards each typed error as the same class.
// Tensors cross a Unix socket as dtype, shape and bytes: every call copies its
// feeds and outputs once each way (docs/reliability.md has the cost).
// Run is safe to call from many threads; calls are serialized on the one
// worker.
#ifndef TFREEZE_ISOLATED_MODEL_H_
#define TFREEZE_ISOLATED_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "tfreeze/model.h"
#include "tfreeze/options.h"
#include "tfreeze/tensor.h"

namespace tfreeze {

class IsolatedModel {
 public:
  // Starts the worker and loads `path` in it (a frozen .pb or a SavedModel
  // directory). Throws what Model::Load throws, or Error when the worker
  // cannot be started, or ModelCrashedError when it dies while loading.
  static IsolatedModel Load(const std::string& path, const Options& options = {});

  IsolatedModel(IsolatedModel&&) noexcept;
  IsolatedModel& operator=(IsolatedModel&&) noexcept;
  // Stops the worker (SIGKILL) and reaps it.
  ~IsolatedModel();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  Executor executor() const;

  // As Model::Run. Also throws ModelCrashedError when the worker dies during
  // the call; the worker is then restarted (and the model reloaded) by the
  // next call.
  std::vector<Tensor> Run(const std::vector<Feed>& feeds,
                          const std::vector<std::string>& fetches = {}) const;

  // The worker's process id, or -1 when none runs (after a crash, before the
  // next call restarts it).
  int worker_pid() const;

  // Stops the worker now; later calls throw Error.
  void Close();

 private:
  struct Impl;
  explicit IsolatedModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tfreeze

#endif  // TFREEZE_ISOLATED_MODEL_H_
