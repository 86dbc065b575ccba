// The unsafe-op policy and the load-time checks that keep TensorFlow from
// aborting the process: refused with the node, op and reason, allowed by name
// or wholesale, and nothing of the graph runs before the check.
#include <gtest/gtest.h>

#include <filesystem>

#include "graph_builder.h"
#include "temp_file.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"
#include "tfreeze/safety.h"

namespace tfreeze {
namespace {

std::string Message(const std::string& graph_def, const Options& options = {}) {
  try {
    Model::FromBytes(graph_def, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "loaded";
}

TEST(SafetyTest, UnsafeOpsAreRefusedNamingNodeOpReasonAndTheWayOut) {
  const std::string graph = testing::UnsafeAffineGraphDef("/tmp/x", "file:///tmp/log");
  EXPECT_THROW(Model::FromBytes(graph), UnsafeOpError);
  const std::string message = Message(graph);
  for (const char* part : {"contains ops that reach outside the model", "node \"writer\" (WriteFile:",
                           "node \"printer\" (PrintV2:", "--allow-unsafe-ops WriteFile,PrintV2",
                           "allow_unsafe_ops"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
  }
}

TEST(SafetyTest, AllowingByNameOrWholesaleLoadsWithoutRunningThem) {
  const testing::TempFile written("written_by_model");
  const std::string& path = written.path();
  const std::string graph = testing::UnsafeAffineGraphDef(path, "file://" + path + ".log");
  Options named;
  named.allowed_unsafe_ops = {"WriteFile"};
  EXPECT_NE(Message(graph, named).find("node \"printer\""), std::string::npos);  // not allowed
  named.allowed_unsafe_ops = {"WriteFile", "PrintV2"};
  Options everything;
  everything.allow_unsafe_ops = true;
  for (const Options& options : {named, everything}) {
    Model model = Model::FromBytes(graph, options);
    Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
    EXPECT_EQ(model.Run({{"x", x}}, {"y"})[0].ToVector<float>(), (std::vector<float>{19, 32}));
  }
  EXPECT_FALSE(std::filesystem::exists(path));  // the writer feeds no output: never ran
}

TEST(SafetyTest, PrintingToStderrIsNotUnsafe) {
  const auto found = FindUnsafeOps(testing::UnsafeAffineGraphDef("/tmp/x", "stderr"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].node, "writer");
  EXPECT_EQ(found[0].op, "WriteFile");
  EXPECT_EQ(found[0].function, "");
  EXPECT_NE(std::string(found[0].reason).find("write"), std::string::npos);
  EXPECT_TRUE(FindUnsafeOps(testing::AffineGraphDef()).empty());
}

TEST(SafetyTest, TheDenyListCoversSavedModelClisScanListAndGivesReasons) {
  std::vector<std::string> ops;
  for (const DeniedOp& denied : UnsafeOpList()) {
    ops.push_back(denied.op);
    EXPECT_GT(std::string(denied.reason).size(), 10u) << denied.op;
  }
  for (const char* op : {"ReadFile", "WriteFile", "PrintV2", "MatchingFiles", "SaveV2",
                         "RestoreV2", "MergeV2Checkpoints", "ImmutableConst", "DebugIdentityV2",
                         "TFRecordDataset", "InitializeTableFromTextFileV2", "PyFunc",
                         "EagerPyFunc", "LoadAndRemapMatrix", "FileSystemSetConfiguration"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  }
}

TEST(SafetyTest, AFillWhoseElementCountOverflowsIsRefusedBeforeTensorFlowAborts) {
  const std::string message = Message(testing::FillGraphDef({1LL << 40, 1LL << 40}));
  EXPECT_NE(message.find("Fill node \"filled\" makes a tensor of shape [1099511627776, "
                         "1099511627776], more elements than a 64-bit count holds"),
            std::string::npos)
      << message;
  // A sane Fill runs.
  Model model = Model::FromBytes(testing::FillGraphDef({2, 3}));
  Tensor x = Tensor::FromVector<float>({2}, {1, 2});
  EXPECT_EQ(model.Run({{"x", x}})[0].ToVector<float>(), (std::vector<float>{7, 8}));
}

}  // namespace
}  // namespace tfreeze
