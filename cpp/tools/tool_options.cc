#include "tool_options.h"

#include <exception>
#include <iostream>

#include "tfreeze/tfreeze.h"

namespace tfreeze::tools {

Options ToolOptions::ToOptions() const {
  Options options;
  options.intra_op_threads = options.inter_op_threads = threads;
  options.device = device;
  if (!config.empty()) options = LoadOptionsFile(config, options);
  return options;
}

void AddToolOptions(CLI::App& app, ToolOptions& options, const std::string& model_names,
                    const std::string& threads_flag) {
  app.add_option(model_names, options.model_path, "frozen .pb written by `tfreeze freeze`")
      ->required();
  app.add_option(threads_flag, options.threads,
                 "intra- and inter-op threads (0: TensorFlow decides)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", options.device,
                 "cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)");
  app.add_option("--config", options.config, "a config file written by `tfreeze tune`");
  app.add_flag("--json", options.json, "print JSON");
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
