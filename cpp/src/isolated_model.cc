#include "tfreeze/isolated_model.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "tfreeze/errors.h"
#include "worker_protocol.h"

extern char** environ;

namespace tfreeze {

namespace {

using internal::Reply;
using internal::Request;
using internal::WireReader;
using internal::WireWriter;

constexpr std::size_t kStderrRead = 16384;
constexpr std::size_t kTailLines = 8;

// The installed worker: next to the code that holds this function (the Python
// module in a wheel), in ../libexec beside it (an installed program), where
// this build installs it, or where it was built.
std::string FindWorker(const Options& options) {
  if (!options.isolation_worker.empty()) return options.isolation_worker;
  if (const char* from_env = std::getenv("TFREEZE_WORKER"); from_env && *from_env) {
    return from_env;
  }
  std::vector<std::filesystem::path> candidates;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&FindWorker), &info) && info.dli_fname) {
    const auto here = std::filesystem::absolute(info.dli_fname).parent_path();
    candidates.push_back(here / "tfreeze-worker");
    candidates.push_back(here.parent_path() / "libexec" / "tfreeze-worker");
  }
  candidates.emplace_back(TFREEZE_WORKER_INSTALL_PATH);
  candidates.emplace_back(TFREEZE_WORKER_BUILD_PATH);
  std::string looked;
  for (const auto& candidate : candidates) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    looked += (looked.empty() ? "" : ", ") + candidate.string();
  }
  throw Error(Code::kNotFound, "the tfreeze-worker executable (for isolated models) was not "
                               "found; looked in: " + looked +
                               "; set TFREEZE_WORKER or Options::isolation_worker to its path");
}

// A descriptor above 3, so that dup2 onto 3 in the child always clears CLOEXEC.
int HighCloexec(int fd) {
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  if (high < 0) throw Error(Code::kInternal, std::string("fcntl: ") + std::strerror(errno));
  return high;
}

// What the worker last wrote to stderr, read after it died. A fatal log line
// ("F1129 03:12:44.123 ... Check failed: ...") is followed by a stack trace:
// keep that line and a few after it; otherwise the last few lines.
std::string Tail(int fd) {
  const off_t end = lseek(fd, 0, SEEK_END);
  if (end <= 0) return "";
  const off_t start = end > static_cast<off_t>(kStderrRead) ? end - kStderrRead : 0;
  std::string text(static_cast<std::size_t>(end - start), '\0');
  const ssize_t got = pread(fd, text.data(), text.size(), start);
  text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  if (start > 0) text.erase(0, text.find('\n') + 1);  // no half line
  std::vector<std::string> lines;
  std::size_t fatal = std::string::npos;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t next = text.find('\n', at);
    if (next == std::string::npos) next = text.size();
    std::string line = text.substr(at, next - at);
    if (!line.empty()) {
      if (line.size() > 5 && line[0] == 'F' && std::isdigit(static_cast<unsigned char>(line[1]))) {
        fatal = lines.size();
      }
      lines.push_back(std::move(line));
    }
    at = next + 1;
  }
  std::size_t first = lines.size() > kTailLines ? lines.size() - kTailLines : 0;
  if (fatal != std::string::npos) first = fatal;
  std::string tail;
  for (std::size_t i = first; i < lines.size() && i < first + kTailLines; ++i) {
    tail += (tail.empty() ? "" : "\n") + lines[i];
  }
  return tail;
}

}  // namespace

struct IsolatedModel::Impl {
  std::string path;
  Options options;
  std::string worker;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  Executor executor = Executor::kDefault;
  bool closed = false;

  mutable std::mutex mutex;  // one request at a time on the socket
  pid_t pid = -1;
  int socket = -1;
  int stderr_file = -1;

  ~Impl() { Stop(); }

  void Start() {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw Error(Code::kInternal, std::string("socketpair: ") + std::strerror(errno));
    }
    socket = HighCloexec(pair[0]);
    const int child_end = HighCloexec(pair[1]);
    std::string scratch = (std::filesystem::temp_directory_path() / "tfreeze-worker-XXXXXX").string();
    const int log = mkstemp(scratch.data());
    if (log >= 0) unlink(scratch.c_str());  // the file lives while we hold it
    stderr_file = log >= 0 ? HighCloexec(log) : -1;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, child_end, 3);
    if (stderr_file >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_file, 2);
    const std::string memory = std::to_string(options.isolation_memory_limit_bytes);
    const std::string cpu = std::to_string(options.isolation_cpu_seconds);
    char* argv[] = {worker.data(), const_cast<char*>(memory.c_str()),
                    const_cast<char*>(cpu.c_str()), nullptr};
    const int failed = posix_spawn(&pid, worker.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(child_end);
    if (failed != 0) {
      pid = -1;
      Stop();
      throw Error(Code::kUnavailable, "cannot start the tfreeze worker \"" + worker +
                                          "\": " + std::strerror(failed));
    }
    WireWriter load;
    load.U8(static_cast<std::uint8_t>(Request::kLoad));
    load.Bytes(path);
    load.WriteOptions(options);
    try {
      WireReader reply = Call(load.bytes(), "loading the model");
      inputs = reply.Infos();
      outputs = reply.Infos();
      executor = static_cast<Executor>(reply.U32());
    } catch (...) {
      Stop();  // a worker without a model is of no use
      throw;
    }
  }

  // Sends a request and returns the reader positioned after an Ok reply;
  // rethrows the worker's error, or ModelCrashedError when it died.
  WireReader Call(const std::string& request, const char* doing) {
    if (!internal::SendFrame(socket, request) || !internal::ReceiveFrame(socket, &reply)) {
      Crashed(doing);
    }
    WireReader reader(reply);
    if (static_cast<Reply>(reader.U8()) == Reply::kOk) return reader;
    reader.ThrowError();
  }

  [[noreturn]] void Crashed(const char* doing) {
    const pid_t dead = pid;
    const int status = Stop();
    const std::string tail = last_words;
    std::string how;
    int signal = 0, exit_code = -1;
    if (WIFSIGNALED(status)) {
      signal = WTERMSIG(status);
      how = "was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    } else if (WIFEXITED(status)) {
      exit_code = WEXITSTATUS(status);
      how = "exited with status " + std::to_string(exit_code);
    } else {
      how = "stopped answering";
    }
    throw ModelCrashedError(
        "the worker process running the model (pid " + std::to_string(dead) + ") " + how +
            " while " + doing + "; the next call starts a new one" +
            (tail.empty() ? std::string(". It wrote nothing to stderr.")
                          : ". The end of its stderr:\n" + tail),
        signal, exit_code);
  }

  // Kills and reaps the worker; returns its wait status (0 if none ran).
  int Stop() {
    int status = 0;
    if (socket >= 0) close(socket);
    socket = -1;
    if (pid > 0) {
      kill(pid, SIGKILL);  // no effect on the status of one already dead
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid = -1;
    last_words = stderr_file >= 0 ? Tail(stderr_file) : "";
    if (stderr_file >= 0) close(stderr_file);
    stderr_file = -1;
    return status;
  }

  std::string last_words;  // the stderr tail of the last worker stopped
  std::string reply;       // the last reply's bytes, reused between calls
};

IsolatedModel::IsolatedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IsolatedModel::IsolatedModel(IsolatedModel&&) noexcept = default;
IsolatedModel& IsolatedModel::operator=(IsolatedModel&&) noexcept = default;
IsolatedModel::~IsolatedModel() = default;

IsolatedModel IsolatedModel::Load(const std::string& path, const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  impl->worker = FindWorker(options);
  impl->Start();
  return IsolatedModel(std::move(impl));
}

const std::vector<TensorInfo>& IsolatedModel::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& IsolatedModel::outputs() const { return impl_->outputs; }
Executor IsolatedModel::executor() const { return impl_->executor; }

std::vector<Tensor> IsolatedModel::Run(const std::vector<Feed>& feeds,
                                       const std::vector<std::string>& fetches) const {
  WireWriter request;
  request.U8(static_cast<std::uint8_t>(Request::kRun));
  request.U32(static_cast<std::uint32_t>(feeds.size()));
  for (const Feed& feed : feeds) {
    request.Bytes(feed.name);
    request.WriteTensor(*feed.tensor);
  }
  request.Strings(fetches);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed) {
    throw Error(Code::kFailedPrecondition, "this isolated model was closed");
  }
  if (impl_->pid < 0) impl_->Start();
  WireReader reply = impl_->Call(request.bytes(), "running the model");
  const std::uint32_t count = reply.U32();
  std::vector<Tensor> outputs;
  outputs.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) outputs.push_back(reply.ReadTensor());
  return outputs;
}

int IsolatedModel::worker_pid() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->pid;
}

void IsolatedModel::Close() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->Stop();
  impl_->closed = true;
}

}  // namespace tfreeze
