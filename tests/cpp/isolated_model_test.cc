// IsolatedModel: same answers and errors as Model, and TensorFlow dying in the
// worker is a ModelCrashedError in the host, after which the next call works.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "graph_builder.h"
#include "tfreeze/errors.h"
#include "tfreeze/isolated_model.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

std::string WriteGraph(const std::string& name, const std::string& graph_def) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tfreeze_isolated_" + std::to_string(getpid()) + "_" + name + ".pb");
  std::ofstream(path, std::ios::binary) << graph_def;
  return path.string();
}

Options AllowAbort() {
  Options options;
  options.allowed_unsafe_ops = {"Abort"};
  return options;
}

bool IsReaped(int pid) { return pid > 0 && waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD; }

TEST(IsolatedModelTest, SameSignatureAndBitExactOutputs) {
  const std::string path = WriteGraph("affine", testing::AffineGraphDef());
  const Model local = Model::Load(path);
  const IsolatedModel isolated = IsolatedModel::Load(path);
  ASSERT_EQ(isolated.inputs().size(), 1u);
  EXPECT_EQ(isolated.inputs()[0].name, "x");
  EXPECT_EQ(isolated.inputs()[0].shape, (Shape{-1, 3}));
  ASSERT_EQ(isolated.outputs().size(), 2u);
  EXPECT_EQ(isolated.outputs()[1].name, "doubled");
  EXPECT_EQ(isolated.executor(), local.executor());
  const Tensor x = Tensor::FromVector<float>({2, 3}, {1, 1, 1, 0.1f, -2, 3.5f});
  const auto expected = local.Run({{"x", x}});
  const auto got = isolated.Run({{"x", x}});
  ASSERT_EQ(got.size(), 2u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].shape(), expected[i].shape());
    EXPECT_EQ(got[i].ToVector<float>(), expected[i].ToVector<float>());
  }
  const auto doubled = isolated.Run({{"x", x}}, {"doubled"});
  ASSERT_EQ(doubled.size(), 1u);
  EXPECT_EQ(doubled[0].ToVector<float>(), expected[1].ToVector<float>());
}

TEST(IsolatedModelTest, StringTensorsCrossIntact) {
  const IsolatedModel model = IsolatedModel::Load(WriteGraph("strings", testing::StringGraphDef()));
  const Tensor text = Tensor::FromStrings({3}, {"", "abc", std::string("a\0b", 3)});
  const auto outputs = model.Run({{"text", text}});
  EXPECT_EQ(outputs[0].ToVector<int32_t>(), (std::vector<int32_t>{0, 3, 3}));
  EXPECT_EQ(outputs[1].ToStrings(), text.ToStrings());
}

TEST(IsolatedModelTest, ErrorsArriveAsTheSameClasses) {
  const IsolatedModel model = IsolatedModel::Load(WriteGraph("affine", testing::AffineGraphDef()));
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 2, 3});
  const Tensor ints = Tensor::FromVector<int32_t>({1, 3}, {1, 2, 3});
  EXPECT_THROW(model.Run({{"nope", x}}), UnknownNameError);
  EXPECT_THROW(model.Run({{"x", ints}}), DTypeError);
  EXPECT_THROW(model.Run({{"x", x}}, {"nope"}), UnknownNameError);
  EXPECT_THROW(IsolatedModel::Load("/nonexistent/model.pb"), FileNotFoundError);
  EXPECT_THROW(IsolatedModel::Load(WriteGraph("unsafe", testing::UnsafeAffineGraphDef(
                                                            "/tmp/x", "stderr"))),
               UnsafeOpError);
  try {
    model.Run({{"x", ints}});
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("input \"x\""), std::string::npos) << e.what();
  }
}

TEST(IsolatedModelTest, TensorFlowAbortIsModelCrashedErrorThenNextCallWorks) {
  const IsolatedModel model =
      IsolatedModel::Load(WriteGraph("abort", testing::AbortGraphDef()), AllowAbort());
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  const int first = model.worker_pid();
  try {
    model.Run({{"x", x}}, {"boom"});
    FAIL() << "fetching boom should abort TensorFlow";
  } catch (const ModelCrashedError& e) {
    EXPECT_EQ(e.signal(), SIGABRT);
    EXPECT_EQ(e.code(), Code::kAborted);
    EXPECT_NE(std::string(e.what()).find("boom was fetched"), std::string::npos) << e.what();
  }
  EXPECT_EQ(model.worker_pid(), -1);
  EXPECT_TRUE(IsReaped(first));
  const auto y = model.Run({{"x", x}}, {"y"});
  EXPECT_EQ(y[0].ToVector<float>(), (std::vector<float>{19, 32}));
  EXPECT_NE(model.worker_pid(), first);
}

TEST(IsolatedModelTest, KilledWorkerIsModelCrashedError) {
  const IsolatedModel model = IsolatedModel::Load(WriteGraph("affine", testing::AffineGraphDef()));
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  kill(model.worker_pid(), SIGKILL);
  try {
    model.Run({{"x", x}});
    FAIL() << "the worker was killed";
  } catch (const ModelCrashedError& e) {
    EXPECT_EQ(e.signal(), SIGKILL);
  }
  EXPECT_EQ(model.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{19, 32}));
}

TEST(IsolatedModelTest, MemoryLimitStopsABigAllocationNotTheHost) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space, which an RLIMIT_AS worker cannot map";
#endif
  Options options;
  options.isolation_memory_limit_bytes = 3LL << 30;
  const IsolatedModel model =
      IsolatedModel::Load(WriteGraph("fill", testing::FedFillGraphDef()), options);
  const Tensor small = Tensor::FromVector<int64_t>({1}, {1000});
  EXPECT_EQ(model.Run({{"count", small}})[0].ToVector<float>(), (std::vector<float>{1000}));
  const Tensor huge = Tensor::FromVector<int64_t>({1}, {int64_t{4} << 30});  // 16 GB
  try {
    model.Run({{"count", huge}});
    FAIL() << "16 GB under a 3 GB limit";
  } catch (const RunError& e) {
    std::cerr << "over the limit: " << e.what() << "\n";
  }
  EXPECT_EQ(model.Run({{"count", small}})[0].ToVector<float>(), (std::vector<float>{1000}));
}

TEST(IsolatedModelTest, CloseAndDestructorReapTheWorker) {
  const std::string path = WriteGraph("affine", testing::AffineGraphDef());
  int pid = -1;
  {
    const IsolatedModel model = IsolatedModel::Load(path);
    pid = model.worker_pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_TRUE(IsReaped(pid));
  IsolatedModel model = IsolatedModel::Load(path);
  pid = model.worker_pid();
  model.Close();
  EXPECT_TRUE(IsReaped(pid));
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  EXPECT_THROW(model.Run({{"x", x}}), Error);
}

TEST(IsolatedModelTest, MissingWorkerIsAnErrorNamingTheWayOut) {
  Options options;
  options.isolation_worker = "/nonexistent/tfreeze-worker";
  try {
    IsolatedModel::Load(WriteGraph("affine", testing::AffineGraphDef()), options);
    FAIL() << "no such worker";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tfreeze-worker"), std::string::npos);
  }
}

}  // namespace
}  // namespace tfreeze
