#include "tool_options.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>

#include "tfreeze/tfreeze.h"

namespace tfreeze::tools {
namespace {

// TensorFlow's start-up output, held aside while its libraries load.
int held_stderr = -1;  // the real stderr meanwhile
int startup_log = -1;  // what was written to stderr meanwhile

// absl's "before InitializeLog" notice, and INFO/WARNING lines in absl's
// format (I1129 03:15:41.123456  1234 port.cc:153] ...; before absl is set
// up the seconds field holds the whole epoch time) or TensorFlow's older
// one (2026-11-29 03:15:41.123456: I tensorflow/...). ERROR and FATAL lines,
// and anything else, always reach the user.
bool IsTensorFlowChatter(const std::string& line) {
  static const std::regex chatter(
      R"(^(WARNING: All log messages before absl::InitializeLog\(\) is called )"
      R"(are written to STDERR$)"
      R"(|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] )"
      R"(|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] ))");
  return std::regex_search(line, chatter);
}

bool verbose_requested = false;

// TensorFlow reads TF_CPP_MIN_LOG_LEVEL while its libraries initialize. When
// the environment does not already hold the level wanted (0, TensorFlow's
// default, with --verbose; else at least 2: no INFO or WARNING lines), start
// again at once with it: the libraries are mapped but none of their code has
// run yet.
// Returns only when the level is already right, or the restart failed.
void EnsureLogLevel(char** argv, char** envp) {
  constexpr std::string_view kName = "TF_CPP_MIN_LOG_LEVEL=";
  static char quiet[] = "TF_CPP_MIN_LOG_LEVEL=2";
  static char verbose[] = "TF_CPP_MIN_LOG_LEVEL=0";
  static char* environment[4096];
  std::size_t count = 0;
  int found = -1;
  for (; envp[count] != nullptr; ++count) {
    if (count + 2 >= std::size(environment)) return;  // an environment this large stays as it is
    environment[count] = envp[count];
    if (std::string_view(envp[count]).substr(0, kName.size()) == kName) {
      found = static_cast<int>(count);
    }
  }
  const char* value = found < 0 ? nullptr : envp[found] + kName.size();
  const bool right = verbose_requested ? (value == nullptr || std::string_view(value) == "0")
                                       : (value != nullptr && value[0] >= '2' && value[0] <= '9');
  if (right) return;
  environment[found < 0 ? count++ : static_cast<std::size_t>(found)] =
      verbose_requested ? verbose : quiet;
  environment[count] = nullptr;
  execve("/proc/self/exe", argv, environment);  // returns only on failure: go on as we are
}

// Runs before any shared library's initializers (glibc calls an executable's
// .preinit_array first, with main's arguments), so before TensorFlow's. Only
// system calls here: libc itself is not initialized yet (setenv would be undone).
void HoldStartupStderr(int argc, char** argv, char** envp) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--verbose" || arg == "-v") verbose_requested = true;
  }
  EnsureLogLevel(argv, envp);
  if (verbose_requested) return;
  startup_log = memfd_create("tfreeze-startup-log", MFD_CLOEXEC);
  if (startup_log < 0) return;  // no place to hold it: TensorFlow's lines show
  held_stderr = dup(STDERR_FILENO);
  if (held_stderr < 0 || dup2(startup_log, STDERR_FILENO) < 0) held_stderr = -1;
}

// Runs with this executable's initializers, after every library's.
void ReleaseStartupStderr() {
  if (held_stderr < 0) return;
  std::fflush(stderr);
  dup2(held_stderr, STDERR_FILENO);
  close(held_stderr);
  held_stderr = -1;
  std::string held;
  char buffer[4096];
  for (off_t at = 0;;) {
    const ssize_t got = pread(startup_log, buffer, sizeof buffer, at);
    if (got <= 0) break;
    held.append(buffer, static_cast<std::size_t>(got));
    at += got;
  }
  close(startup_log);
  std::istringstream lines(held);
  for (std::string line; std::getline(lines, line);) {
    if (!IsTensorFlowChatter(line)) std::cerr << line << "\n";
  }
}

__attribute__((used, section(".preinit_array"))) void (*const kHoldStartupStderr)(
    int, char**, char**) = HoldStartupStderr;

const struct StartupStderrRelease {
  StartupStderrRelease() { ReleaseStartupStderr(); }
} kReleaseStartupStderr;

}  // namespace

Options ToolOptions::ToOptions() const {
  Options options;
  options.intra_op_threads = threads;
  options.inter_op_threads = caller_thread ? 0 : threads;  // the caller is the inter-op thread
  options.device = device;
  options.executor = ParseExecutor(executor);
  options.caller_thread = caller_thread;
  if (allow_unsafe_ops == "all") {
    options.allow_unsafe_ops = true;
  } else {
    std::stringstream ops(allow_unsafe_ops);
    for (std::string op; std::getline(ops, op, ',');) {
      if (!op.empty()) options.allowed_unsafe_ops.push_back(op);
    }
  }
  if (!config.empty()) options = LoadOptionsFile(config, options);
  return options;
}

void AddToolOptions(CLI::App& app, ToolOptions& options, const std::string& model_names,
                    const std::string& threads_flag) {
  const bool has_flag_form = model_names.find(',') != std::string::npos;
  CLI::Option* model = app.add_option(
      model_names, options.model_path,
      std::string("frozen .pb written by `tfreeze freeze`") +
          (has_flag_form ? " (as a positional argument or as --graph FILE: one of them is needed)"
                         : ""));
  // CLI11 would mark both spellings REQUIRED; ParseArguments checks that one was given.
  if (!has_flag_form) model->required();
  app.add_option(threads_flag, options.threads,
                 "intra- and inter-op threads (0: TensorFlow decides)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", options.device,
                 "cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)");
  app.add_option("--config", options.config, "a config file written by `tfreeze tune`");
  app.add_option("--executor", options.executor,
                 "auto (the default: single_threaded for graphs with at most 4 MiB of "
                 "weights, where it can run them), default (TensorFlow's executor) or "
                 "single_threaded (ops in the calling thread: faster on small models; CPU "
                 "only, no TF1 control flow)")
      ->check(CLI::IsMember({"default", "single_threaded", "auto"}));
  app.add_flag("--caller-thread", options.caller_thread,
               "run each step in the calling thread, not the inter-op pool");
  app.add_option("--allow-unsafe-ops", options.allow_unsafe_ops,
                 "OPS (comma-separated) or all: run a graph holding ops that touch files, the "
                 "network or the process. Only for files you trust");
  app.add_flag("--json", options.json, "print JSON");
  app.add_flag("-v,--verbose", options.verbose, kVerboseHelp);
}

void EnsureConfigEnvironment(const ToolOptions& options, const std::string& tool, char** argv) {
  if (options.config.empty()) return;
  std::ifstream file(options.config);
  const nlohmann::json document = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.contains("environment")) return;  // loading says why
  std::string missing;
  for (const auto& [name, value] : document["environment"].items()) {
    if (!value.is_string()) continue;
    const char* current = std::getenv(name.c_str());
    if (current != nullptr && value.get<std::string>() == current) continue;
    setenv(name.c_str(), value.get<std::string>().c_str(), /*overwrite=*/1);
    missing += (missing.empty() ? "" : " ") + name + "=" + value.get<std::string>();
  }
  if (missing.empty()) return;
  std::cerr << tool << ": starting again with " << missing << " (tuned in " << options.config
            << "; TensorFlow reads it at start-up)\n";
  execv("/proc/self/exe", argv);  // returns only on failure
  std::cerr << tool << ": warning: " << options.config << " was tuned with environment "
            << document["environment"].dump() << ", which TensorFlow reads at start-up, "
            << "and restarting with it failed; set it before starting " << tool << "\n";
}

int ParseArguments(CLI::App& app, const ToolOptions& options, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    if (options.model_path.empty()) {
      throw CLI::RequiredError("the model (positional) or --graph");
    }
    return -1;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // 0 after --help; 2 for a usage error, as tfreeze's
  }
}

int RunReportingErrors(const std::string& tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {  // tfreeze::Error, or e.g. a malformed number
    std::cerr << tool << ": error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace tfreeze::tools
