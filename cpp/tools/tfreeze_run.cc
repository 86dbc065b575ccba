// tfreeze-run: run a frozen model on .npy inputs, write one .npy per output.
//
//   tfreeze-run digits.pb --input image=images.npy --output-dir out/ [--json]
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tfreeze/tfreeze.h"
#include "tool_options.h"

namespace {

std::string FileNameFor(std::string output_name) {
  for (char& c : output_name) {
    if (c == '/' || c == '\\' || c == ' ') c = '_';
  }
  return output_name + ".npy";
}

std::string JoinInputNames(const tfreeze::Model& model) {
  std::string names;
  for (const auto& input : model.inputs()) names += (names.empty() ? "" : ", ") + input.name;
  return names;
}

// "NAME=FILE.npy", or "FILE.npy" alone for a one-input model.
std::pair<std::string, std::string> ParseInput(const std::string& spec,
                                               const tfreeze::Model& model) {
  const auto equals = spec.find('=');
  if (equals != std::string::npos) return {spec.substr(0, equals), spec.substr(equals + 1)};
  if (model.inputs().size() != 1) {
    throw tfreeze::InputError("--input " + spec + " has no NAME=; this model's inputs are: " +
                              JoinInputNames(model));
  }
  return {model.inputs()[0].name, spec};
}

nlohmann::json Describe(const std::string& name, const tfreeze::Tensor& tensor,
                        const std::string& file) {
  return {{"name", name}, {"dtype", tfreeze::DTypeName(tensor.dtype())},
          {"shape", tensor.shape()}, {"file", file}};
}

// Exit code 0 when every stored case matches, 1 when one does not.
int PrintVerify(const tfreeze::VerifyReport& report, bool json) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& check : report.checks) {
    checks.push_back({{"name", check.name}, {"case", check.test_case},
                      {"shape_ok", check.shape_ok}, {"max_abs", check.max_abs},
                      {"max_rel", check.max_rel}, {"passed", check.passed}});
    if (!json) {
      std::cout << check.name << " case " << check.test_case << ": max abs " << check.max_abs
                << ", max rel " << check.max_rel << (check.passed ? " pass" : " FAIL") << "\n";
    }
  }
  if (json) {
    std::cout << nlohmann::json{{"passed", report.passed}, {"cases", report.cases},
                                {"rtol", report.rtol}, {"atol", report.atol},
                                {"checks", checks}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << (report.passed ? "PASS" : "FAIL") << " (" << report.cases << " cases, rtol "
              << report.rtol << ", atol " << report.atol << ")\n";
  }
  return report.passed ? 0 : 1;
}

// Reads each --input's .npy file; the tensors own the data the feeds point to.
struct NpyFeeds {
  std::vector<std::string> names;
  std::vector<tfreeze::Tensor> tensors;

  std::vector<tfreeze::Feed> Feeds() const {
    std::vector<tfreeze::Feed> feeds;
    for (std::size_t i = 0; i < tensors.size(); ++i) feeds.emplace_back(names[i], tensors[i]);
    return feeds;
  }
};

NpyFeeds ReadFeeds(const std::vector<std::string>& specs, const tfreeze::Model& model) {
  NpyFeeds read;
  for (const auto& spec : specs) {
    auto [name, path] = ParseInput(spec, model);
    read.names.push_back(name);
    read.tensors.push_back(tfreeze::ReadNpy(path));
  }
  return read;
}

// Runs the model once and writes one .npy per output into `output_dir`.
int RunAndWrite(const tfreeze::Model& model, const NpyFeeds& inputs,
                std::vector<std::string> output_names, const std::string& output_dir,
                bool json) {
  if (output_names.empty()) {
    for (const auto& output : model.outputs()) output_names.push_back(output.name);
  }
  const auto started = std::chrono::steady_clock::now();
  const std::vector<tfreeze::Tensor> outputs = model.Run(inputs.Feeds(), output_names);
  const double run_ms = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - started).count();

  std::filesystem::create_directories(output_dir);
  nlohmann::json summary = {{"run_ms", run_ms}, {"outputs", nlohmann::json::array()}};
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::string file = (std::filesystem::path(output_dir) / FileNameFor(output_names[i]));
    tfreeze::WriteNpy(file, outputs[i]);
    summary["outputs"].push_back(Describe(output_names[i], outputs[i], file));
    if (!json) {
      std::cout << output_names[i] << ": " << tfreeze::DTypeName(outputs[i].dtype()) << " "
                << tfreeze::ShapeToString(outputs[i].shape()) << " -> " << file << "\n";
    }
  }
  if (json) std::cout << summary.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a tfreeze .pb on .npy inputs; writes one .npy per output."};
  tfreeze::tools::ToolOptions tool;
  std::vector<std::string> input_specs;
  std::vector<std::string> fetches;
  std::string output_dir = ".";
  bool verify = false;
  tfreeze::tools::AddToolOptions(app, tool, "model", "--threads");
  app.add_option("-i,--input", input_specs, "NAME=FILE.npy, one per input");
  app.add_flag("--verify", verify, "replay the test vectors stored in the file instead");
  app.add_option("--fetch", fetches, "output names to compute (default: all)")->delimiter(',');
  app.add_option("-o,--output-dir", output_dir, "where the output .npy files go");
  if (const int code = tfreeze::tools::ParseArguments(app, tool, argc, argv); code >= 0) {
    return code;
  }
  tfreeze::tools::EnsureConfigEnvironment(tool, "tfreeze-run", argv);

  return tfreeze::tools::RunReportingErrors("tfreeze-run", [&] {
    const tfreeze::Model model = tfreeze::Model::Load(tool.model_path, tool.ToOptions());
    if (verify) return PrintVerify(model.Verify(), tool.json);
    if (input_specs.empty()) {
      throw tfreeze::InputError("give --input NAME=FILE.npy for each input (" +
                                JoinInputNames(model) + "), or --verify");
    }
    return RunAndWrite(model, ReadFeeds(input_specs, model), fetches, output_dir, tool.json);
  });
}
