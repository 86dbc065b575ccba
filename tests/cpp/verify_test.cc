#include <gtest/gtest.h>

#include "graph_builder.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

TEST(VerifyTest, StoredVectorsReplayAndPass) {
  const VerifyReport report = Model::FromBytes(testing::AffineGraphDefWithTestVectors(0)).Verify();
  EXPECT_TRUE(report.passed);
  EXPECT_EQ(report.cases, 1);
  EXPECT_DOUBLE_EQ(report.rtol, 1e-5);
  ASSERT_EQ(report.checks.size(), 2u);
  EXPECT_EQ(report.checks[0].name, "y");
  EXPECT_EQ(report.checks[1].name, "doubled");
  EXPECT_EQ(report.checks[0].max_abs, 0);
}

TEST(VerifyTest, ADifferenceBeyondToleranceFailsAndIsMeasured) {
  const VerifyReport report =
      Model::FromBytes(testing::AffineGraphDefWithTestVectors(0.5f)).Verify();
  EXPECT_FALSE(report.passed);
  EXPECT_FALSE(report.checks[0].passed);
  EXPECT_TRUE(report.checks[1].passed);
  EXPECT_DOUBLE_EQ(report.checks[0].max_abs, 0.5);
  EXPECT_NEAR(report.checks[0].max_rel, 0.5 / 19.5, 1e-9);
}

TEST(VerifyTest, AFileWithoutVectorsSaysSo) {
  try {
    Model::FromBytes(testing::AffineGraphDef()).Verify();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kFailedPrecondition);
    EXPECT_NE(std::string(e.what()).find("carries no test vectors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--no-verify"), std::string::npos);
  }
}

}  // namespace
}  // namespace tfreeze
