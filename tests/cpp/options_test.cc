// Session options: devices, GPU settings, XLA, and their errors on a CPU-only
// TensorFlow (the GPU paths themselves need a GPU to run).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "graph_builder.h"
#include "session_config.h"
#include "temp_file.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

// graph_options (10) { rewrite_options (10) { memory_optimization (4): NO_MEM_OPT } },
// first in every config (session_config.cc says why).
const std::string kInferenceDefaults("\x52\x04\x52\x02\x20\x01", 6);

std::vector<float> RunAffine(const Options& options) {
  Model model = Model::FromBytes(testing::AffineGraphDef(), options);
  Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  return model.Run({{"x", x}}, {"y"})[0].ToVector<float>();
}

std::string LoadError(const Options& options) {
  try {
    Model::FromBytes(testing::AffineGraphDef(), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(OptionsTest, CpuDeviceRuns) {
  for (const char* device : {"cpu", "CPU:0", "cpu:0"}) {
    Options options;
    options.device = device;
    EXPECT_EQ(RunAffine(options), (std::vector<float>{19, 32})) << device;
  }
}

TEST(OptionsTest, MissingGpuIsADeviceErrorListingWhatThereIs) {
  Options options;
  options.device = "gpu:0";
  EXPECT_THROW(Model::FromBytes(testing::AffineGraphDef(), options), DeviceError);
  const std::string message = LoadError(options);
  EXPECT_NE(message.find("device \"gpu:0\" is not available; this TensorFlow has: cpu:0"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("CUDA build: see README, Installing"), std::string::npos) << message;
}

TEST(OptionsTest, UnknownDeviceNamesTheValidForms) {
  Options options;
  options.device = "tpu:0";
  EXPECT_EQ(LoadError(options), "device \"tpu:0\" is not one of: cpu, cpu:N, gpu, gpu:N");
}

TEST(OptionsTest, GpuSettingsAreCheckedEvenWithoutAGpu) {
  Options fraction;
  fraction.gpu_memory_fraction = 1.5;
  EXPECT_NE(LoadError(fraction).find("gpu_memory_fraction must be in (0, 1]"), std::string::npos);
  Options visible;
  visible.visible_devices = "first";
  EXPECT_NE(LoadError(visible).find("visible_devices must list GPU numbers"), std::string::npos);
}

TEST(OptionsTest, GpuSettingsAreAcceptedOnTheCpu) {
  Options options;  // TensorFlow keeps them for GPUs; the CPU run is unaffected
  options.gpu_allow_growth = true;
  options.gpu_memory_fraction = 0.5;
  options.visible_devices = "0";
  EXPECT_EQ(RunAffine(options), (std::vector<float>{19, 32}));
}

TEST(OptionsTest, XlaJitGivesTheSameResult) {
  Options options;
  options.xla_jit = true;
  EXPECT_EQ(RunAffine(options), (std::vector<float>{19, 32}));
}

// SerializeConfig wants the executor resolved: kAuto, the default, is resolved
// per graph at load.
Options WithDefaultExecutor() {
  Options options;
  options.executor = Executor::kDefault;
  return options;
}

TEST(SessionConfigTest, EncodesThreadCountsAsProtobufVarints) {
  Options options = WithDefaultExecutor();
  options.intra_op_threads = 1;
  options.inter_op_threads = 300;  // two-byte varint
  EXPECT_EQ(internal::SerializeConfig(options),
            kInferenceDefaults + std::string("\x10\x01\x28\xac\x02", 5));
  EXPECT_EQ(internal::SerializeConfig(WithDefaultExecutor()), kInferenceDefaults);
}

TEST(SessionConfigTest, TheUsersConfigProtoComesAfterTheDefaultsSoItWins) {
  Options options = WithDefaultExecutor();
  options.config_proto = std::string("\x52\x04\x52\x02\x20\x03", 6);  // memory_optimization: HEURISTICS
  EXPECT_EQ(internal::SerializeConfig(options), kInferenceDefaults + options.config_proto);
}

TEST(SessionConfigTest, DeviceNames) {
  EXPECT_EQ(internal::DeviceName(""), "");
  EXPECT_EQ(internal::DeviceName("gpu"), "/device:GPU:0");
  EXPECT_EQ(internal::DeviceName("Gpu:3"), "/device:GPU:3");
}

// Writes `text` to the test's own tuned.json and returns its path.
const std::string& WriteConfig(const testing::TempFile& file, const std::string& text) {
  std::ofstream(file.path()) << text;
  return file.path();
}

TEST(OptionsFileTest, ReadsTunedOptionsOverABase) {
  const testing::TempFile config("tuned.json");
  Options base;
  base.device = "cpu";
  const Options options = LoadOptionsFile(
      WriteConfig(config, R"({"format": "tfreeze.config", "version": 1,
        "options": {"intra_op_threads": 1, "inter_op_threads": 2, "xla": false,
                    "graph_optimizations": false},
        "environment": {"TF_ENABLE_ONEDNN_OPTS": "0"}})"),
      base);
  EXPECT_EQ(options.intra_op_threads, 1);
  EXPECT_EQ(options.inter_op_threads, 2);
  EXPECT_FALSE(options.graph_optimizations);
  EXPECT_EQ(options.device, "cpu");
  EXPECT_EQ(RunAffine(options), (std::vector<float>{19, 32}));
}

TEST(OptionsFileTest, ReadsTheExecutorOptions) {
  const testing::TempFile config("tuned.json");
  const Options options = LoadOptionsFile(WriteConfig(
      config, R"({"format": "tfreeze.config", "options": {"executor": "single_threaded",
                                                 "caller_thread": true}})"));
  EXPECT_EQ(options.executor, Executor::kSingleThreaded);
  EXPECT_TRUE(options.caller_thread);
  try {
    LoadOptionsFile(
        WriteConfig(config, R"({"format": "tfreeze.config", "options": {"executor": "fastest"}})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "tuned.json\": executor \"fastest\" is not one of: default, single_threaded"),
              std::string::npos)
        << e.what();
  }
}

TEST(OptionsFileTest, BadFilesNameTheProblem) {
  const testing::TempFile config("tuned.json");
  EXPECT_THROW(LoadOptionsFile("/no/such/tuned.json"), Error);
  try {
    LoadOptionsFile(
        WriteConfig(config, R"({"format": "tfreeze.config", "options": {"threads": 2}})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown option \"threads\""), std::string::npos);
  }
  EXPECT_THROW(LoadOptionsFile(WriteConfig(config, R"({"options": {}})")), Error);
  EXPECT_THROW(LoadOptionsFile(WriteConfig(config, "not json")), Error);
}

TEST(SessionConfigTest, GraphOptimizationsOffDisablesTheMetaOptimizer) {
  Options options = WithDefaultExecutor();
  options.graph_optimizations = false;
  // graph_options (10) { rewrite_options (10) { disable_meta_optimizer (19): true } }
  EXPECT_EQ(internal::SerializeConfig(options),
            kInferenceDefaults + std::string("\x52\x05\x52\x03\x98\x01\x01", 7));
}

}  // namespace
}  // namespace tfreeze
