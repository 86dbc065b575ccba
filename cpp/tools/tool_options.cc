#include "tool_options.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "tfreeze/tfreeze.h"

namespace tfreeze::tools {

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
  app.add_option(model_names, options.model_path, "frozen .pb written by `tfreeze freeze`")
      ->required();
  app.add_option(threads_flag, options.threads,
                 "intra- and inter-op threads (0: TensorFlow decides)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", options.device,
                 "cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)");
  app.add_option("--config", options.config, "a config file written by `tfreeze tune`");
  app.add_option("--executor", options.executor,
                 "default, single_threaded (ops in the calling thread: faster on small "
                 "models; CPU only, no TF1 control flow) or auto (single_threaded where it can)")
      ->check(CLI::IsMember({"default", "single_threaded", "auto"}));
  app.add_flag("--caller-thread", options.caller_thread,
               "run each step in the calling thread, not the inter-op pool");
  app.add_option("--allow-unsafe-ops", options.allow_unsafe_ops,
                 "OPS (comma-separated) or all: run a graph holding ops that touch files, the "
                 "network or the process. Only for files you trust");
  app.add_flag("--json", options.json, "print JSON");
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

int RunReportingErrors(const std::string& tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {  // tfreeze::Error, or e.g. a malformed number
    std::cerr << tool << ": error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace tfreeze::tools
