#include "tfreeze/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(NpyTest, NumericRoundTripKeepsDtypeShapeAndValues) {
  const std::string path = TempPath("values.npy");
  WriteNpy(path, Tensor::FromVector<float>({2, 3}, {1, -2, 3.5f, 4, 5, 6}));
  Tensor read = ReadNpy(path);
  EXPECT_EQ(read.dtype(), DType::kFloat32);
  EXPECT_EQ(read.shape(), (Shape{2, 3}));
  EXPECT_EQ(read.ToVector<float>(), (std::vector<float>{1, -2, 3.5f, 4, 5, 6}));
  std::remove(path.c_str());
}

TEST(NpyTest, ScalarOneDimBoolAndInt64RoundTrip) {
  const std::string path = TempPath("more.npy");
  WriteNpy(path, Tensor::FromVector<std::int64_t>({}, {42}));
  EXPECT_EQ(ReadNpy(path).shape(), Shape{});
  EXPECT_EQ(ReadNpy(path).ToVector<std::int64_t>(), std::vector<std::int64_t>{42});
  WriteNpy(path, Tensor::FromVector<bool>({3}, {true, false, true}));
  EXPECT_EQ(ReadNpy(path).ToVector<bool>(), (std::vector<bool>{true, false, true}));
  std::remove(path.c_str());
}

TEST(NpyTest, StringsRoundTripAsBytes) {
  const std::string path = TempPath("strings.npy");
  WriteNpy(path, Tensor::FromStrings({2}, {"short", "a longer one"}));
  EXPECT_EQ(ReadNpy(path).ToStrings(), (std::vector<std::string>{"short", "a longer one"}));
  std::remove(path.c_str());
}

TEST(NpyTest, BadFilesAreClearErrors) {
  EXPECT_THROW(ReadNpy(TempPath("missing.npy")), Error);
  const std::string path = TempPath("text.npy");
  std::ofstream(path) << "not numpy at all";
  try {
    ReadNpy(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a .npy file"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(WriteNpy(path, Tensor(DType::kBFloat16, {1})), Error);
}

}  // namespace
}  // namespace tfreeze
