// What tfreeze-run and tfreeze-bench share: the model argument, the session
// options both take (threads, device, a tuned config file), --json, and one
// way of ending on an error. Declared once so the two tools cannot drift.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "tfreeze/options.h"

namespace tfreeze::tools {

// TensorFlow's log lines (its start-up banner, INFO and WARNING lines) are
// hidden unless the tool is started with --verbose (-v). The banner is written
// while TensorFlow's libraries load, before main(): tool_options.cc holds
// stderr aside from a .preinit_array hook (which runs before any library's
// initializers) until this executable's own initializers, then writes back
// every line that is not TensorFlow's chatter. Only the tools do this; a
// program linking tfreeze::tfreeze keeps TensorFlow's logging as it is.
inline constexpr const char* kVerboseHelp =
    "show TensorFlow's own log lines (hidden by default; errors always show)";

struct ToolOptions {
  std::string model_path;
  int threads = 0;
  std::string device;
  std::string config;
  std::string executor = "auto";
  bool caller_thread = false;
  // --allow-unsafe-ops: "all", or comma-separated op names ("" : none allowed).
  std::string allow_unsafe_ops;
  bool json = false;
  bool verbose = false;  // parsed for --help; the hiding is decided from argv at start-up

  // The runtime's Options: threads, device and executor, then the config
  // file's settings, which win (the file was tuned for this model).
  Options ToOptions() const;
};

// Adds the shared arguments to `app`. `model_names` is CLI11's name list for
// the model argument ("model", or "model,--graph" for benchmark_model's flag);
// `threads_flag` is the tool's name for the thread count.
void AddToolOptions(CLI::App& app, ToolOptions& options, const std::string& model_names,
                    const std::string& threads_flag);

// A tuned config file's "environment" (e.g. TF_ENABLE_ONEDNN_OPTS=0) is read
// by TensorFlow once, when it loads: if this process did not start with it,
// start the tool again with it (exec of /proc/self/exe with the same
// arguments). Returns only when the environment is already in force; says so
// loudly on stderr if the restart fails.
void EnsureConfigEnvironment(const ToolOptions& options, const std::string& tool, char** argv);

// Parses the command line: -1 to go on, else the exit code to end with (0
// after --help; 2 for a usage error, the message printed by CLI11).
int ParseArguments(CLI::App& app, const ToolOptions& options, int argc, char** argv);

// Runs `body`; any error becomes one line, "TOOL: error: MESSAGE", and exit 2.
int RunReportingErrors(const std::string& tool, const std::function<int()>& body);

}  // namespace tfreeze::tools
