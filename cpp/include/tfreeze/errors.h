// Typed errors thrown by every tfreeze call.
//
// All errors derive from tfreeze::Error, which carries TensorFlow's status code
// and message. Catch a subclass to react to one kind of problem:
//
//   try {
//     auto outputs = model.Run(feeds);
//   } catch (const tfreeze::InputError& e) {
//     std::cerr << "bad feed: " << e.what() << "\n";
//   }
#ifndef TFREEZE_ERRORS_H_
#define TFREEZE_ERRORS_H_

#include <stdexcept>
#include <string>

namespace tfreeze {

// Mirrors TF_Code so callers need not include TensorFlow's headers.
enum class Code {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Name of a code as TensorFlow spells it, e.g. "INVALID_ARGUMENT".
const char* CodeName(Code code);

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// The model could not be loaded: unreadable file, corrupt or foreign GraphDef,
// missing or inconsistent tfreeze signature.
class LoadError : public Error {
 public:
  using Error::Error;
};

// The graph contains ops that reach outside the model (files, network, the
// process) and the options did not allow them; the message names each node,
// its op and why, and how to allow them (see tfreeze/safety.h).
class UnsafeOpError : public LoadError {
 public:
  using LoadError::LoadError;
};

// The model file does not exist or cannot be opened.
class FileNotFoundError : public LoadError {
 public:
  using LoadError::LoadError;
};

// The requested device is not available in this TensorFlow (e.g. a GPU on a
// CPU-only build); the message lists the devices there are.
class DeviceError : public LoadError {
 public:
  using LoadError::LoadError;
};

// A constant whose shape claims far more memory than the file holds: a
// TensorProto may give one value and a shape of 2^30 elements, and TensorFlow
// fills the rest in. Refused at load, before anything is allocated; the
// message names the node, its shape and size, and how to raise the limit
// (Options::max_constant_bytes).
class ConstantTooLargeError : public LoadError {
 public:
  using LoadError::LoadError;
};

// A feed or fetch does not match the model's signature. Raised before
// TensorFlow runs anything.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message)
      : Error(Code::kInvalidArgument, message) {}
};

// A feed or fetch name that the signature does not know.
class UnknownNameError : public InputError {
 public:
  using InputError::InputError;
};

// A tensor of the wrong element type (feeds, or typed access to a Tensor).
class DTypeError : public InputError {
 public:
  using InputError::InputError;
};

// A tensor whose rank or a known dimension differs from the signature.
class ShapeError : public InputError {
 public:
  using InputError::InputError;
};

// TensorFlow failed while running the graph; code and message are TF's.
class RunError : public Error {
 public:
  using Error::Error;
};

// Memory ran out while TensorFlow ran the graph: it could not allocate a
// tensor (code kResourceExhausted), or an allocation threw std::bad_alloc.
// Memory that runs out while loading is a LoadError with the same code.
class OutOfMemoryError : public RunError {
 public:
  using RunError::RunError;
};

// The worker process of an IsolatedModel died during a call (TensorFlow
// aborted, a resource limit was hit, or it was killed). The message carries
// the signal or exit status and the last lines the worker wrote to stderr
// (TensorFlow's fatal message); the next call starts a fresh worker.
class ModelCrashedError : public RunError {
 public:
  ModelCrashedError(const std::string& message, int signal, int exit_code)
      : RunError(Code::kAborted, message), signal_(signal), exit_code_(exit_code) {}
  int signal() const { return signal_; }        // 0 if it exited
  int exit_code() const { return exit_code_; }  // -1 if a signal ended it

 private:
  int signal_;
  int exit_code_;
};

}  // namespace tfreeze

#endif  // TFREEZE_ERRORS_H_
