// tfreeze's overhead over the bare TensorFlow C API, measured in one process:
// the same graph is loaded twice, once as a bare TF_Session and once as a
// tfreeze::Model with the same ConfigProto, and the two loops run in
// alternating blocks, so that machine noise falls on both alike.
//
// usage: overhead MODEL.pb THREADS BLOCKS RUNS_PER_BLOCK OUTPUT[,...] INPUT=D1xD2x... [...]
//   (inputs are float32, zero-filled; tensors are given as name:0)
// prints: {"bare_p50_us": ..., "tfreeze_p50_us": ..., "ratio": ..., "prepare_ns": ...}
// The ratio is the median over blocks of tfreeze p50 / bare p50.
// OVERHEAD_CONTROL=1 puts a second bare session in tfreeze's place (an A/A
// run): its ratio shows the noise floor of the comparison.
#include <tensorflow/c/c_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "session_config.h"  // cpp/src: tfreeze::internal::SerializeConfig
#include "tfreeze/tfreeze.h"

namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

std::string NodeOf(const std::string& tensor) { return tensor.substr(0, tensor.rfind(':')); }

void Check(TF_Status* status, const char* what) {
  if (TF_GetCode(status) != TF_OK) {
    std::fprintf(stderr, "%s: %s\n", what, TF_Message(status));
    std::exit(1);
  }
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

// The baseline: everything tfreeze does not do. No validation, no lookups,
// ports resolved once; a fresh TF_Status per call, as tfreeze does.
class BareLoop {
 public:
  BareLoop(const std::string& bytes, const std::string& config,
           const std::vector<std::string>& outputs, const std::vector<std::string>& inputs,
           const std::vector<TF_Tensor*>& values)
      : graph_(TF_NewGraph()), values_(values) {
    TF_Status* status = TF_NewStatus();
    TF_Buffer* buffer = TF_NewBufferFromString(bytes.data(), bytes.size());
    TF_ImportGraphDefOptions* import_options = TF_NewImportGraphDefOptions();
    TF_GraphImportGraphDef(graph_, buffer, import_options, status);
    Check(status, "import");
    TF_SessionOptions* options = TF_NewSessionOptions();
    TF_SetConfig(options, config.data(), config.size(), status);
    Check(status, "config");
    session_ = TF_NewSession(graph_, options, status);
    Check(status, "session");
    for (const auto& name : outputs) outputs_.push_back(Port(name));
    for (const auto& name : inputs) inputs_.push_back(Port(name));
    results_.resize(outputs_.size(), nullptr);
    TF_DeleteSessionOptions(options);
    TF_DeleteImportGraphDefOptions(import_options);
    TF_DeleteBuffer(buffer);
    TF_DeleteStatus(status);
  }

  void Run() {
    TF_Status* status = TF_NewStatus();
    TF_SessionRun(session_, nullptr, inputs_.data(), values_.data(),
                  static_cast<int>(inputs_.size()), outputs_.data(), results_.data(),
                  static_cast<int>(outputs_.size()), nullptr, 0, nullptr, status);
    Check(status, "run");
    TF_DeleteStatus(status);
    for (TF_Tensor*& result : results_) {
      TF_DeleteTensor(result);
      result = nullptr;
    }
  }

 private:
  TF_Output Port(const std::string& tensor) {
    TF_Operation* op = TF_GraphOperationByName(graph_, NodeOf(tensor).c_str());
    if (op == nullptr) {
      std::fprintf(stderr, "no node for %s\n", tensor.c_str());
      std::exit(1);
    }
    return TF_Output{op, std::stoi(tensor.substr(tensor.rfind(':') + 1))};
  }

  TF_Graph* graph_;  // lives until the process ends
  TF_Session* session_;
  std::vector<TF_Output> inputs_;
  std::vector<TF_Output> outputs_;
  std::vector<TF_Tensor*> values_;
  std::vector<TF_Tensor*> results_;
};

// p50 of one block of timed runs.
double TimeBlock(const std::function<void()>& run, int runs) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    const auto before = std::chrono::steady_clock::now();
    run();
    samples.push_back(std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - before).count());
  }
  return Median(samples);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s MODEL THREADS BLOCKS RUNS OUTPUTS INPUT=DIMS...\n", argv[0]);
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  tfreeze::Options options;
  options.intra_op_threads = options.inter_op_threads = std::atoi(argv[2]);
  const int blocks = std::atoi(argv[3]);
  const int runs = std::atoi(argv[4]);
  tfreeze::Model model = tfreeze::Model::FromBytes(bytes, options);
  // The very ConfigProto tfreeze sends for these options (threads, the
  // executor its default "auto" chose for this graph, and the defaults it sets,
  // e.g. Grappler's memory optimizer off), so both loops run the same optimized
  // graph and only tfreeze's own code differs.
  options.executor = model.executor();
  const std::string config = tfreeze::internal::SerializeConfig(options);

  std::vector<std::string> input_tensors;
  std::vector<tfreeze::Tensor> tensors;
  for (int i = 6; i < argc; ++i) {
    const auto parts = Split(argv[i], '=');
    tfreeze::Shape shape;
    for (const auto& dim : Split(parts[1], 'x')) shape.push_back(std::stoll(dim));
    input_tensors.push_back(parts[0]);
    tensors.emplace_back(tfreeze::DType::kFloat32, shape);
  }
  std::vector<TF_Tensor*> values;
  std::vector<tfreeze::Feed> feeds;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    values.push_back(tensors[i].handle());  // both loops feed the same tensors
    feeds.emplace_back(NodeOf(input_tensors[i]), tensors[i]);
  }
  std::vector<std::string> fetches;
  for (const auto& tensor : Split(argv[5], ',')) fetches.push_back(NodeOf(tensor));

  BareLoop bare(bytes, config, Split(argv[5], ','), input_tensors, values);
  const std::function<void()> run_bare = [&] { bare.Run(); };
  // Model::Run as users call it: validation and name lookups on every call.
  std::function<void()> run_tfreeze = [&] { model.Run(feeds, fetches); };
  // OVERHEAD_CONTROL=1: an A/A run, a second bare session in tfreeze's place,
  // to show how much two sessions differ with no tfreeze code at all.
  BareLoop control(bytes, config, Split(argv[5], ','), input_tensors, values);
  if (std::getenv("OVERHEAD_CONTROL") != nullptr) run_tfreeze = [&] { control.Run(); };

  // What tfreeze adds before TensorFlow runs (validation, name lookups),
  // timed alone: exact where the loop comparison is only as good as the noise.
  constexpr int kPrepareCalls = 100000;
  const auto prepare_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kPrepareCalls; ++i) model.Prepare(feeds, fetches);
  const double prepare_ns = std::chrono::duration<double, std::nano>(
                                std::chrono::steady_clock::now() - prepare_start).count() /
                            kPrepareCalls;

  TimeBlock(run_bare, runs);  // warm-up: kernels are built on first runs
  TimeBlock(run_tfreeze, runs);
  std::vector<double> bare_p50s;
  std::vector<double> tfreeze_p50s;
  std::vector<double> ratios;
  for (int block = 0; block < blocks; ++block) {
    const bool bare_first = block % 2 == 0;
    const double first = TimeBlock(bare_first ? run_bare : run_tfreeze, runs);
    const double second = TimeBlock(bare_first ? run_tfreeze : run_bare, runs);
    bare_p50s.push_back(bare_first ? first : second);
    tfreeze_p50s.push_back(bare_first ? second : first);
    ratios.push_back(tfreeze_p50s.back() / bare_p50s.back());
  }
  std::printf(
      "{\"bare_p50_us\": %.3f, \"tfreeze_p50_us\": %.3f, \"ratio\": %.4f, "
      "\"prepare_ns\": %.1f, \"blocks\": %d, \"runs_per_block\": %d}\n",
      Median(bare_p50s), Median(tfreeze_p50s), Median(ratios), prepare_ns, blocks, runs);
  return 0;
}
