#include "tfreeze/model.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

#include <tensorflow/c/c_api_experimental.h>

#if defined(__GLIBC__)
#include <malloc.h>  // malloc_trim
#endif

#include "call_array.h"
#include "constant_sizes.h"
#include "executor.h"
#include "float_mode.h"
#include "graph_checks.h"
#include "graph_scan.h"
#include "load_checks.h"
#include "model_impl.h"
#include "saved_model.h"
#include "session_config.h"
#include "signature.h"
#include "status.h"
#include "tf_handles.h"
#include "tfreeze/errors.h"
#include "validation.h"

namespace tfreeze {

namespace {

// Loading, and the first run (where TensorFlow's Grappler rewrites the graph),
// make and free several copies of the graph and its constants. glibc keeps
// freed memory resident unless asked to give it back: for ResNet50 (a 98 MB
// .pb) that is ~650 MB of RSS (docs/benchmarks.md, "Memory").
void ReturnFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Where TensorFlow's message for a tensor it could not build starts the
// TensorProto's whole text form, many lines of it.
constexpr std::string_view kProtoDump = "from proto: ";

// TensorFlow's message in one line: its first, cut before any TensorProto
// dump, naming the node when only a later line does ("[[{{node big}}]]").
std::string OneLine(std::string message) {
  std::string node;
  if (const auto at = message.find("{{node "); at != std::string::npos) {
    node = message.substr(at + 7, message.find("}}", at) - at - 7);
  }
  if (const auto dump = message.find(kProtoDump); dump != std::string::npos) {
    message.erase(dump + kProtoDump.size() - 2);
    message += " (a constant it could not build: more than the memory it may take, or corrupt)";
  }
  message.erase(std::min(message.find('\n'), message.size()));
  if (!node.empty() && message.find(node) == std::string::npos) {
    message += " (node \"" + node + "\")";
  }
  return message;
}

// internal::ThrowIfError, but memory running out is OutOfMemory and, like a
// tensor TensorFlow could not build, is told in one line.
template <typename ErrorType, typename OutOfMemory = ErrorType>
void ThrowIfFailed(const TF_Status* status, std::string_view context) {
  if (TF_GetCode(status) == TF_OK) return;
  const auto code = static_cast<Code>(TF_GetCode(status));
  std::string message = TF_Message(status);
  if (code == Code::kResourceExhausted || message.find(kProtoDump) != std::string::npos) {
    message = OneLine(std::move(message));
  }
  message = std::string(context) + ": " + message;
  if (code == Code::kResourceExhausted) throw OutOfMemory(code, message);
  throw ErrorType(code, message);
}

// An allocation that throws inside TensorFlow or tfreeze, as the typed error
// a caller of Load or Run catches.
template <typename Call>
auto LoadingOrOutOfMemory(const std::string& origin, Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::bad_alloc&) {
    throw LoadError(Code::kResourceExhausted,
                    origin + ": out of memory while loading it (std::bad_alloc)");
  }
}

template <typename Call>
auto RunningOrOutOfMemory(Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError(Code::kResourceExhausted,
                           "TensorFlow failed to run the model: out of memory (std::bad_alloc)");
  }
}

std::string ReadFile(const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    throw LoadError(Code::kInvalidArgument, "model path contains a NUL byte");
  }
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
      !std::filesystem::is_directory(status)) {
    // /dev/zero, a pipe or a socket: it would be read without end.
    throw LoadError(Code::kInvalidArgument, "\"" + path + "\" is not a regular file (a device, "
                                            "pipe or socket); give a frozen .pb file");
  }
  if (std::filesystem::is_directory(status)) {
    throw LoadError(Code::kInvalidArgument,
                    "\"" + path + "\" is a directory but not a SavedModel (no saved_model.pb), "
                    "nor a frozen .pb file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw FileNotFoundError(Code::kNotFound,
                            "model file \"" + path + "\" does not exist or cannot be read");
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// A text GraphDef (.pbtxt) starts with a field name; a binary one never starts
// with a letter. Worth a precise message: the C API reads only binary.
bool LooksLikeTextGraphDef(std::string_view bytes) {
  const std::size_t start = bytes.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  const std::string_view head = bytes.substr(start, 8);
  return head.rfind("node", 0) == 0 || head.rfind("versions", 0) == 0 ||
         head.rfind("library", 0) == 0;
}

internal::GraphPtr ImportGraph(std::string_view graph_def, const std::string& origin,
                               const std::string& device) {
  if (LooksLikeTextGraphDef(graph_def)) {
    throw LoadError(Code::kInvalidArgument,
                    origin + " is a text GraphDef (.pbtxt); the runtime reads binary ones. "
                             "Make one with `tfreeze freeze FILE.pbtxt -o FILE.pb`");
  }
  internal::GraphPtr graph(TF_NewGraph());
  // Borrow the bytes instead of TF_NewBufferFromString's copy: a frozen graph
  // can be up to 2 GiB, and TensorFlow only reads the buffer while importing.
  internal::BufferPtr buffer(TF_NewBuffer());
  buffer->data = graph_def.data();
  buffer->length = graph_def.size();
  buffer->data_deallocator = nullptr;
  internal::ImportOptionsPtr import_options(TF_NewImportGraphDefOptions());
  if (!device.empty()) TF_ImportGraphDefOptionsSetDefaultDevice(import_options.get(), device.c_str());
  internal::StatusPtr status = internal::NewStatus();
  TF_GraphImportGraphDef(graph.get(), buffer.get(), import_options.get(), status.get());
  ThrowIfFailed<LoadError>(status.get(), origin + " is not a valid TensorFlow GraphDef");
  return graph;
}

internal::SessionOptionsPtr MakeSessionOptions(const Options& options) {
  internal::SessionOptionsPtr session_options(TF_NewSessionOptions());
  const std::string config = internal::SerializeConfig(options);
  internal::StatusPtr status = internal::NewStatus();
  TF_SetConfig(session_options.get(), config.data(), config.size(), status.get());
  internal::ThrowIfError(status.get(), "invalid session options");
  // global_jit_level alone does not cluster ops on the CPU; this flag does.
  if (options.xla_jit) TF_SetTfXlaCpuGlobalJit(1);
  return session_options;
}

internal::SessionPtr NewSession(TF_Graph* graph, const Options& options) {
  internal::SessionOptionsPtr session_options = MakeSessionOptions(options);
  internal::StatusPtr status = internal::NewStatus();
  internal::SessionPtr session(TF_NewSession(graph, session_options.get(), status.get()));
  ThrowIfFailed<LoadError>(status.get(), "could not create a TensorFlow session");
  return session;
}

// "/job:localhost/replica:0/task:0/device:GPU:0" -> "gpu:0".
std::string ShortDeviceName(std::string name) {
  name = name.substr(name.rfind("device:") + 7);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::vector<std::string> SessionDevices(TF_Session* session) {
  internal::StatusPtr status = internal::NewStatus();
  internal::DeviceListPtr devices(TF_SessionListDevices(session, status.get()));
  internal::ThrowIfError(status.get(), "could not list devices");
  std::vector<std::string> names;
  for (int i = 0; i < TF_DeviceListCount(devices.get()); ++i) {
    names.emplace_back(TF_DeviceListName(devices.get(), i, status.get()));
  }
  return names;
}

// TensorFlow would place ops elsewhere (soft placement) or fail later with a
// placement error; say at load time that the device is not there.
void CheckDevice(TF_Session* session, const std::string& requested, const std::string& device) {
  if (device.empty()) return;
  std::string available;
  for (const std::string& name : SessionDevices(session)) {
    if (name.size() >= device.size() &&
        name.compare(name.size() - device.size(), device.size(), device) == 0) {
      return;
    }
    available += (available.empty() ? "" : ", ") + ShortDeviceName(name);
  }
  throw DeviceError(Code::kNotFound,
                    "device \"" + requested + "\" is not available; this TensorFlow has: " +
                        available +
                        (device.find("GPU") != std::string::npos
                             ? " (GPUs need TensorFlow's CUDA build: see README, Installing)"
                             : ""));
}

bool HasGpu(TF_Session* session) {
  for (const std::string& name : SessionDevices(session)) {
    if (name.find("GPU") != std::string::npos) return true;
  }
  return false;
}

// State the graph fills itself, such as hash tables, must be filled once
// before any Run; TensorFlow's own loaders run such ops the same way.
void RunInitOps(TF_Session* session, const std::vector<TF_Operation*>& init_ops) {
  if (init_ops.empty()) return;
  std::string names;
  for (TF_Operation* op : init_ops) {
    names += (names.empty() ? "" : ", ") + std::string(TF_OperationName(op));
  }
  internal::StatusPtr status = internal::NewStatus();
  const internal::ScopedFlushDenormals flush;  // as every run: see float_mode.h
  TF_SessionRun(session, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0, init_ops.data(),
                static_cast<int>(init_ops.size()), nullptr, status.get());
  ThrowIfFailed<LoadError>(status.get(),
                           "could not run the model's initializer ops (" + names + ")");
}

std::vector<TensorInfo> Infos(const std::vector<internal::BoundTensor>& bound) {
  std::vector<TensorInfo> infos;
  for (const auto& tensor : bound) infos.push_back(tensor.info);
  return infos;
}

// The one TF_SessionRun of Run and RunPrepared: ports by signature index.
// (Model::Impl is private to Model, so its parts come one by one.)
template <typename Indices, typename Values>
std::vector<Tensor> RunSession(TF_Session* session, const internal::Signature& signature,
                               std::atomic<bool>& ran_once, const Indices& input_indices,
                               const Values& values, const Indices& output_indices) {
  internal::CallArray<TF_Output> input_ports(input_indices.size());
  internal::CallArray<TF_Tensor*> input_values(input_indices.size(), nullptr);
  for (std::size_t i = 0; i < input_indices.size(); ++i) {
    input_ports[i] = signature.inputs[input_indices.data()[i]].port;
    input_values[i] = values.data()[i]->handle();
  }
  internal::CallArray<TF_Output> output_ports(output_indices.size());
  for (std::size_t i = 0; i < output_indices.size(); ++i) {
    output_ports[i] = signature.outputs[output_indices.data()[i]].port;
  }
  internal::CallArray<TF_Tensor*> output_values(output_indices.size(), nullptr);

  // A status per call: TF_SessionRun is thread-safe, a shared status is not.
  internal::StatusPtr status = internal::NewStatus();
  {
    // Kernels the single-threaded executor or a caller-thread run executes in
    // this thread see the mode TensorFlow's pool threads have (float_mode.h).
    const internal::ScopedFlushDenormals flush;
    TF_SessionRun(session, nullptr, input_ports.data(), input_values.data(),
                  static_cast<int>(input_ports.size()), output_ports.data(),
                  output_values.data(), static_cast<int>(output_ports.size()), nullptr, 0,
                  nullptr, status.get());
  }

  std::vector<Tensor> outputs;
  outputs.reserve(output_values.size());
  for (std::size_t i = 0; i < output_values.size(); ++i) {
    if (output_values[i] != nullptr) outputs.push_back(Tensor::Adopt(output_values[i]));
  }
  ThrowIfFailed<RunError, OutOfMemoryError>(status.get(), "TensorFlow failed to run the model");
  // A plain load first: the exchange is a full barrier every call would pay.
  if (!ran_once.load(std::memory_order_relaxed) && !ran_once.exchange(true)) ReturnFreedMemory();
  return outputs;
}

}  // namespace

namespace internal {

void CloseAndDeleteSession(TF_Session* session) {
  StatusPtr status = NewStatus();
  TF_CloseSession(session, status.get());  // errors here cannot be acted on
  TF_DeleteSession(session, status.get());
}

GraphPtr ImportCheckedGraph(std::string_view graph_def, const Options& options,
                            const std::string& origin, const std::string& device,
                            const LoaderRoots* roots) {
  const std::string unreadable = CheckGraphDef(graph_def, options, origin, roots);
  GraphPtr graph = ImportGraph(graph_def, origin, device);  // TensorFlow's error for corrupt bytes
  if (!unreadable.empty()) {
    throw LoadError(Code::kInvalidArgument, origin + " imports in TensorFlow, but tfreeze cannot "
                                                     "read it to check its ops (" + unreadable +
                                                     "); refusing it");
  }
  CheckInferredShapes(graph.get(), origin);
  return graph;
}

void CheckModelFile(const std::string& path, const Options& options) {
  if (IsSavedModelDir(path)) {
    CheckSavedModel(path, options, "SavedModel \"" + path + "\"");  // as LoadSavedModel
  } else {
    ImportCheckedGraph(ReadFile(path), options, "\"" + path + "\"", "");
  }
}

}  // namespace internal

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

// A SavedModel's protos, read without a session: its restore and init ops
// never run, and nothing is refused, only listed.
ModelInfo InspectSavedModel(const std::string& directory) {
  const std::string origin = "SavedModel \"" + directory + "\"";
  const Options defaults;
  const std::string meta_graph =
      internal::ReadMetaGraph(directory, defaults.saved_model_tags, origin);
  const std::string_view graph_def = internal::MetaGraphGraphDef(meta_graph);
  const internal::GraphPtr graph = ImportGraph(graph_def, origin, "");
  const internal::Signature signature = internal::ParseSavedModelSignature(
      meta_graph, defaults.saved_model_signature, graph.get(), origin);
  return {Infos(signature.inputs), Infos(signature.outputs), FindUnsafeOps(graph_def),
          internal::ListExpandedConstants(graph_def),
          internal::ConstantLimit(defaults, graph_def.size())};
}

ModelInfo Model::Inspect(const std::string& path) {
  return LoadingOrOutOfMemory("\"" + path + "\"", [&] {
    if (internal::IsSavedModelDir(path)) return InspectSavedModel(path);
    const std::string bytes = ReadFile(path);
    const std::string origin = "\"" + path + "\"";
    const internal::GraphPtr graph = ImportGraph(bytes, origin, "");
    const internal::Signature signature = internal::ReadSignature(graph.get(), origin);
    return ModelInfo{Infos(signature.inputs), Infos(signature.outputs), FindUnsafeOps(bytes),
                     internal::ListExpandedConstants(bytes),
                     internal::ConstantLimit(Options(), bytes.size())};
  });
}

Model Model::Load(const std::string& path, const Options& options) {
  Model model = LoadingOrOutOfMemory("\"" + path + "\"", [&] {
    if (internal::IsSavedModelDir(path)) return LoadSavedModel(path, options);
    return Build(ReadFile(path), "\"" + path + "\"", options);
  });
  ReturnFreedMemory();  // the file's bytes and TensorFlow's parse of them
  return model;
}

Model Model::FromBytes(std::string_view graph_def, const Options& options) {
  const std::string origin = "the in-memory model";
  Model model = LoadingOrOutOfMemory(origin, [&] { return Build(graph_def, origin, options); });
  ReturnFreedMemory();  // TensorFlow's parse of the bytes
  return model;
}

Model Model::Build(std::string_view graph_def, const std::string& origin,
                   const Options& options) {
  auto impl = std::make_unique<Impl>();
  const std::string device = internal::DeviceName(options.device);
  impl->graph = internal::ImportCheckedGraph(graph_def, options, origin, device);
  impl->signature = internal::ReadSignature(impl->graph.get(), origin);
  Options resolved = internal::ResolveExecutor(options, impl->graph.get(), origin,
                                               internal::ConstantBytes(graph_def));
  impl->session = NewSession(impl->graph.get(), resolved);
  if (options.executor == Executor::kAuto && resolved.executor == Executor::kSingleThreaded &&
      device.empty() && HasGpu(impl->session.get())) {
    // TensorFlow would place ops on the GPU, where the single-threaded executor cannot run.
    resolved.executor = Executor::kDefault;
    impl->session = NewSession(impl->graph.get(), resolved);
  }
  impl->executor = resolved.executor;
  return Finish(std::move(impl), options);
}

Model Model::LoadSavedModel(const std::string& directory, const Options& options) {
  const std::string origin = "SavedModel \"" + directory + "\"";
  internal::CheckSavedModel(directory, options, origin);  // loading runs its restore and init ops
  auto impl = std::make_unique<Impl>();
  impl->graph.reset(TF_NewGraph());
  // The graph is known only once loaded: "auto" keeps TensorFlow's executor here.
  Options resolved = options;
  if (resolved.executor == Executor::kAuto) resolved.executor = Executor::kDefault;
  internal::SessionOptionsPtr session_options = MakeSessionOptions(resolved);
  std::vector<const char*> tags;
  for (const auto& tag : options.saved_model_tags) tags.push_back(tag.c_str());
  internal::BufferPtr meta_graph(TF_NewBuffer());
  internal::StatusPtr status = internal::NewStatus();
  impl->session.reset(TF_LoadSessionFromSavedModel(
      session_options.get(), nullptr, directory.c_str(), tags.data(),
      static_cast<int>(tags.size()), impl->graph.get(), meta_graph.get(), status.get()));
  ThrowIfFailed<LoadError>(status.get(), "could not load " + origin);
  impl->signature = internal::ParseSavedModelSignature(
      std::string_view(static_cast<const char*>(meta_graph->data), meta_graph->length),
      options.saved_model_signature, impl->graph.get(), origin);
  impl->executor = internal::ResolveExecutor(resolved, impl->graph.get(), origin, 0).executor;
  return Finish(std::move(impl), options);
}

Model Model::Finish(std::unique_ptr<Impl> impl, const Options& options) {
  CheckDevice(impl->session.get(), options.device, internal::DeviceName(options.device));
  RunInitOps(impl->session.get(), impl->signature.init_ops);
  impl->input_index = internal::IndexNames(impl->signature.inputs);
  impl->output_index = internal::IndexNames(impl->signature.outputs);
  impl->inputs = Infos(impl->signature.inputs);
  impl->outputs = Infos(impl->signature.outputs);
  return Model(std::move(impl));
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }

const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }

Executor Model::executor() const { return impl_->executor; }

Model::Prepared Model::Prepare(const std::vector<Feed>& feeds,
                               const std::vector<std::string>& fetches) const {
  const auto& signature = impl_->signature;
  Prepared prepared;
  prepared.input_indices.resize(feeds.size());
  internal::CheckFeeds(feeds, signature.inputs, impl_->input_index,
                       prepared.input_indices.data());
  prepared.values.reserve(feeds.size());
  for (const Feed& feed : feeds) prepared.values.push_back(feed.tensor);
  prepared.output_indices.resize(internal::FetchCount(fetches, signature.outputs));
  internal::ResolveFetches(fetches, signature.outputs, impl_->output_index,
                           prepared.output_indices.data());
  return prepared;
}

// Run() checks into arrays on the stack rather than through Prepare(): on a
// small model Prepare's vectors cost as much as the checks (call_array.h).
std::vector<Tensor> Model::Run(const std::vector<Feed>& feeds,
                               const std::vector<std::string>& fetches) const {
  const auto& signature = impl_->signature;
  internal::CallArray<int> input_indices(feeds.size());
  internal::CheckFeeds(feeds, signature.inputs, impl_->input_index, input_indices.data());
  internal::CallArray<const Tensor*> values(feeds.size());
  for (std::size_t i = 0; i < feeds.size(); ++i) values[i] = feeds[i].tensor;
  internal::CallArray<int> output_indices(internal::FetchCount(fetches, signature.outputs));
  internal::ResolveFetches(fetches, signature.outputs, impl_->output_index,
                           output_indices.data());
  return RunningOrOutOfMemory([&] {
    return RunSession(impl_->session.get(), impl_->signature, impl_->ran_once, input_indices,
                      values, output_indices);
  });
}

std::vector<Tensor> Model::RunPrepared(const std::vector<int>& input_indices,
                                       const std::vector<const Tensor*>& values,
                                       const std::vector<int>& output_indices) const {
  return RunningOrOutOfMemory([&] {
    return RunSession(impl_->session.get(), impl_->signature, impl_->ran_once, input_indices,
                      values, output_indices);
  });
}

}  // namespace tfreeze
