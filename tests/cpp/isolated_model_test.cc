// IsolatedModel: same answers and errors as Model, and TensorFlow dying in the
// worker is a ModelCrashedError in the host, after which the next call works.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "graph_builder.h"
#include "temp_file.h"
#include "tfreeze/errors.h"
#include "tfreeze/isolated_model.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

// The graph in the test's own file, kept while the test runs: a restarted
// worker loads it again.
testing::TempFile WriteGraph(const std::string& name, const std::string& graph_def) {
  testing::TempFile file(name + ".pb");
  std::ofstream(file.path(), std::ios::binary) << graph_def;
  return file;
}

Options AllowAbort() {
  Options options;
  options.allowed_unsafe_ops = {"Abort"};
  return options;
}

bool IsReaped(int pid) { return pid > 0 && waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD; }

TEST(IsolatedModelTest, SameSignatureAndBitExactOutputs) {
  const testing::TempFile graph = WriteGraph("affine", testing::AffineGraphDef());
  const std::string& path = graph.path();
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
  const testing::TempFile graph = WriteGraph("strings", testing::StringGraphDef());
  const IsolatedModel model = IsolatedModel::Load(graph.path());
  const Tensor text = Tensor::FromStrings({3}, {"", "abc", std::string("a\0b", 3)});
  const auto outputs = model.Run({{"text", text}});
  EXPECT_EQ(outputs[0].ToVector<int32_t>(), (std::vector<int32_t>{0, 3, 3}));
  EXPECT_EQ(outputs[1].ToStrings(), text.ToStrings());
}

TEST(IsolatedModelTest, ErrorsArriveAsTheSameClasses) {
  const testing::TempFile graph = WriteGraph("affine", testing::AffineGraphDef());
  const IsolatedModel model = IsolatedModel::Load(graph.path());
  const Tensor x = Tensor::FromVector<float>({1, 3}, {1, 2, 3});
  const Tensor ints = Tensor::FromVector<int32_t>({1, 3}, {1, 2, 3});
  EXPECT_THROW(model.Run({{"nope", x}}), UnknownNameError);
  EXPECT_THROW(model.Run({{"x", ints}}), DTypeError);
  EXPECT_THROW(model.Run({{"x", x}}, {"nope"}), UnknownNameError);
  EXPECT_THROW(IsolatedModel::Load("/nonexistent/model.pb"), FileNotFoundError);
  const testing::TempFile unsafe =
      WriteGraph("unsafe", testing::UnsafeAffineGraphDef("/tmp/x", "stderr"));
  EXPECT_THROW(IsolatedModel::Load(unsafe.path()), UnsafeOpError);
  try {
    model.Run({{"x", ints}});
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("input \"x\""), std::string::npos) << e.what();
  }
}

TEST(IsolatedModelTest, TensorFlowAbortIsModelCrashedErrorThenNextCallWorks) {
  const testing::TempFile graph = WriteGraph("abort", testing::AbortGraphDef());
  const IsolatedModel model = IsolatedModel::Load(graph.path(), AllowAbort());
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
  const testing::TempFile graph = WriteGraph("affine", testing::AffineGraphDef());
  const IsolatedModel model = IsolatedModel::Load(graph.path());
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
  const testing::TempFile graph = WriteGraph("fill", testing::FedFillGraphDef());
  const IsolatedModel model = IsolatedModel::Load(graph.path(), options);
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
  const testing::TempFile graph = WriteGraph("affine", testing::AffineGraphDef());
  const std::string& path = graph.path();
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
  const testing::TempFile graph = WriteGraph("affine", testing::AffineGraphDef());
  try {
    IsolatedModel::Load(graph.path(), options);
    FAIL() << "no such worker";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tfreeze-worker"), std::string::npos);
  }
}

}  // namespace
}  // namespace tfreeze
