// LoadOptionsFile: the config files `tfreeze tune` writes.
#include <fstream>

#include <nlohmann/json.hpp>

#include "tfreeze/errors.h"
#include "tfreeze/options.h"

namespace tfreeze {
namespace {

[[noreturn]] void Invalid(const std::string& path, const std::string& problem) {
  throw Error(Code::kInvalidArgument, "config file \"" + path + "\": " + problem);
}

Executor ExecutorFrom(const std::string& path, const std::string& name) {
  try {
    return ParseExecutor(name);
  } catch (const Error& e) {
    Invalid(path, e.what());
  }
}

// A byte count, or "unlimited" for kNoConstantLimit.
std::uint64_t ConstantBytes(const std::string& path, const nlohmann::json& value) {
  if (value.is_string() && value.get<std::string>() == "unlimited") return kNoConstantLimit;
  if (!value.is_number_unsigned()) {
    Invalid(path, "\"max_constant_bytes\" must be a byte count (0: the default) or "
                  "\"unlimited\", got " + value.dump());
  }
  return value.get<std::uint64_t>();
}

}  // namespace

Options LoadOptionsFile(const std::string& path, Options base) {
  std::ifstream file(path);
  if (!file) throw Error(Code::kNotFound, "config file \"" + path + "\" cannot be read");
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    Invalid(path, std::string("not JSON: ") + e.what());
  }
  if (document.value("format", "") != "tfreeze.config") {
    Invalid(path, "not a tfreeze config (\"format\" must be \"tfreeze.config\")");
  }
  const nlohmann::json options = document.value("options", nlohmann::json::object());
  try {
    for (const auto& [key, value] : options.items()) {
      if (key == "intra_op_threads") base.intra_op_threads = value.get<int>();
      else if (key == "inter_op_threads") base.inter_op_threads = value.get<int>();
      else if (key == "xla") base.xla_jit = value.get<bool>();
      else if (key == "graph_optimizations") base.graph_optimizations = value.get<bool>();
      else if (key == "device") base.device = value.get<std::string>();
      else if (key == "executor") base.executor = ExecutorFrom(path, value.get<std::string>());
      else if (key == "caller_thread") base.caller_thread = value.get<bool>();
      else if (key == "max_constant_bytes") base.max_constant_bytes = ConstantBytes(path, value);
      else Invalid(path, "unknown option \"" + key + "\"; known: intra_op_threads, "
                         "inter_op_threads, xla, graph_optimizations, device, executor, "
                         "caller_thread, max_constant_bytes");
    }
  } catch (const nlohmann::json::exception& e) {
    Invalid(path, std::string("wrong value type: ") + e.what());
  }
  return base;
}

}  // namespace tfreeze
