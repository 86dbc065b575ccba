// The baseline tfreeze is measured against: the same graph run in a loop on the
// raw TensorFlow C API, with no validation, no wrapper, no signature lookup.
//
// usage: bare_c_api MODEL.pb THREADS WARMUP ITERATIONS OUTPUT_TENSOR[,...] \
//          INPUT_TENSOR=D1xD2x... [...]        (float32 inputs, zero-filled)
// prints: {"p50_us": ..., "mean_us": ..., "iterations": ...}
#include <tensorflow/c/c_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

void Check(TF_Status* status, const char* what) {
  if (TF_GetCode(status) != TF_OK) {
    std::fprintf(stderr, "%s: %s\n", what, TF_Message(status));
    std::exit(1);
  }
}

TF_Output Port(TF_Graph* graph, const std::string& tensor) {
  const auto colon = tensor.rfind(':');
  TF_Operation* op = TF_GraphOperationByName(graph, tensor.substr(0, colon).c_str());
  if (op == nullptr) {
    std::fprintf(stderr, "no node for %s\n", tensor.c_str());
    std::exit(1);
  }
  return TF_Output{op, std::stoi(tensor.substr(colon + 1))};
}

std::vector<int64_t> Dims(const std::string& text) {
  std::vector<int64_t> dims;
  std::stringstream stream(text);
  for (std::string dim; std::getline(stream, dim, 'x');) dims.push_back(std::stoll(dim));
  return dims;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s MODEL THREADS WARMUP ITERATIONS OUTPUTS INPUT=DIMS...\n", argv[0]);
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const int threads = std::atoi(argv[2]);
  const int warmup = std::atoi(argv[3]);
  const int iterations = std::atoi(argv[4]);

  TF_Status* status = TF_NewStatus();
  TF_Graph* graph = TF_NewGraph();
  TF_Buffer* buffer = TF_NewBufferFromString(bytes.data(), bytes.size());
  TF_ImportGraphDefOptions* import_options = TF_NewImportGraphDefOptions();
  TF_GraphImportGraphDef(graph, buffer, import_options, status);
  Check(status, "import");

  // ConfigProto: intra_op_parallelism_threads (2) and inter_op (5).
  const char config[] = {0x10, static_cast<char>(threads), 0x28, static_cast<char>(threads)};
  TF_SessionOptions* options = TF_NewSessionOptions();
  TF_SetConfig(options, config, sizeof(config), status);
  Check(status, "config");
  TF_Session* session = TF_NewSession(graph, options, status);
  Check(status, "session");

  std::vector<TF_Output> outputs;
  for (const auto& name : Split(argv[5], ',')) outputs.push_back(Port(graph, name));
  std::vector<TF_Output> inputs;
  std::vector<TF_Tensor*> values;
  for (int i = 6; i < argc; ++i) {
    const auto parts = Split(argv[i], '=');
    inputs.push_back(Port(graph, parts[0]));
    const auto dims = Dims(parts[1]);
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    TF_Tensor* tensor = TF_AllocateTensor(TF_FLOAT, dims.data(), static_cast<int>(dims.size()),
                                          count * sizeof(float));
    std::memset(TF_TensorData(tensor), 0, count * sizeof(float));
    values.push_back(tensor);
  }

  std::vector<TF_Tensor*> results(outputs.size(), nullptr);
  auto run = [&] {
    TF_Status* call_status = TF_NewStatus();  // as tfreeze does: one per call
    TF_SessionRun(session, nullptr, inputs.data(), values.data(), static_cast<int>(inputs.size()),
                  outputs.data(), results.data(), static_cast<int>(outputs.size()), nullptr, 0,
                  nullptr, call_status);
    Check(call_status, "run");
    TF_DeleteStatus(call_status);
    for (TF_Tensor*& result : results) {
      TF_DeleteTensor(result);
      result = nullptr;
    }
  };
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> samples;
  for (int i = 0; i < iterations; ++i) {
    const auto before = std::chrono::steady_clock::now();
    run();
    samples.push_back(std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - before).count());
  }
  std::sort(samples.begin(), samples.end());
  double sum = 0;
  for (double sample : samples) sum += sample;
  std::printf("{\"p50_us\": %.3f, \"mean_us\": %.3f, \"iterations\": %d}\n",
              samples[(samples.size() + 1) / 2 - 1], sum / samples.size(), iterations);

  for (TF_Tensor* value : values) TF_DeleteTensor(value);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteSessionOptions(options);
  TF_DeleteImportGraphDefOptions(import_options);
  TF_DeleteBuffer(buffer);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  return 0;
}
