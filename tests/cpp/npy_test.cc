#include "tfreeze/npy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_file.h"
#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

using testing::TempFile;

TEST(NpyTest, NumericRoundTripKeepsDtypeShapeAndValues) {
  const TempFile file("values.npy");
  const std::string& path = file.path();
  WriteNpy(path, Tensor::FromVector<float>({2, 3}, {1, -2, 3.5f, 4, 5, 6}));
  Tensor read = ReadNpy(path);
  EXPECT_EQ(read.dtype(), DType::kFloat32);
  EXPECT_EQ(read.shape(), (Shape{2, 3}));
  EXPECT_EQ(read.ToVector<float>(), (std::vector<float>{1, -2, 3.5f, 4, 5, 6}));
}

TEST(NpyTest, ScalarOneDimBoolAndInt64RoundTrip) {
  const TempFile file("more.npy");
  const std::string& path = file.path();
  WriteNpy(path, Tensor::FromVector<std::int64_t>({}, {42}));
  EXPECT_EQ(ReadNpy(path).shape(), Shape{});
  EXPECT_EQ(ReadNpy(path).ToVector<std::int64_t>(), std::vector<std::int64_t>{42});
  WriteNpy(path, Tensor::FromVector<bool>({3}, {true, false, true}));
  EXPECT_EQ(ReadNpy(path).ToVector<bool>(), (std::vector<bool>{true, false, true}));
}

TEST(NpyTest, StringsRoundTripAsBytes) {
  const TempFile file("strings.npy");
  const std::string& path = file.path();
  WriteNpy(path, Tensor::FromStrings({2}, {"short", "a longer one"}));
  EXPECT_EQ(ReadNpy(path).ToStrings(), (std::vector<std::string>{"short", "a longer one"}));
}

TEST(NpyTest, BadFilesAreClearErrors) {
  EXPECT_THROW(ReadNpy(TempFile("missing.npy").path()), Error);
  const TempFile file("text.npy");
  const std::string& path = file.path();
  std::ofstream(path) << "not numpy at all";
  try {
    ReadNpy(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a .npy file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WriteNpy(path, Tensor(DType::kBFloat16, {1})), Error);
}

}  // namespace
}  // namespace tfreeze
