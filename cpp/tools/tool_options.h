// What tfreeze-run and tfreeze-bench share: the model argument, the session
// options both take (threads, device, a tuned config file), --json, and one
// way of ending on an error. Declared once so the two tools cannot drift.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "tfreeze/options.h"

namespace tfreeze::tools {

struct ToolOptions {
  std::string model_path;
  int threads = 0;
  std::string device;
  std::string config;
  bool json = false;

  // The runtime's Options: threads and device, then the config file's
  // settings, which win (the file was tuned for this model).
  Options ToOptions() const;
};

// Adds the shared arguments to `app`. `model_names` is CLI11's name list for
// the model argument ("model", or "model,--graph" for benchmark_model's flag);
// `threads_flag` is the tool's name for the thread count.
void AddToolOptions(CLI::App& app, ToolOptions& options, const std::string& model_names,
                    const std::string& threads_flag);

// Runs `body`; any error becomes one line, "TOOL: error: MESSAGE", and exit 2.
int RunReportingErrors(const std::string& tool, const std::function<int()>& body);

}  // namespace tfreeze::tools
