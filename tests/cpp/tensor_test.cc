#include "tfreeze/tensor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

TEST(TensorTest, NewTensorIsZeroFilledWithShapeAndDType) {
  Tensor tensor(DType::kInt32, {2, 3});
  EXPECT_EQ(tensor.dtype(), DType::kInt32);
  EXPECT_EQ(tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(tensor.num_elements(), 6);
  EXPECT_EQ(tensor.byte_size(), 24u);
  EXPECT_EQ(tensor.ToVector<int32_t>(), std::vector<int32_t>(6, 0));
}

TEST(TensorTest, FromVectorRoundTrips) {
  Tensor tensor = Tensor::FromVector<double>({2, 2}, {1.5, -2, 3, 4});
  EXPECT_EQ(tensor.dtype(), DType::kFloat64);
  EXPECT_EQ(tensor.ToVector<double>(), (std::vector<double>{1.5, -2, 3, 4}));
  tensor.data<double>()[1] = 7;
  EXPECT_EQ(tensor.ToVector<double>()[1], 7);
}

TEST(TensorTest, BoolVectorIsUnpackedToBytes) {
  Tensor tensor = Tensor::FromVector<bool>({3}, {true, false, true});
  EXPECT_EQ(tensor.byte_size(), 3u);
  EXPECT_EQ(tensor.ToVector<bool>(), (std::vector<bool>{true, false, true}));
}

TEST(TensorTest, WrongElementTypeIsADTypeError) {
  Tensor tensor(DType::kFloat32, {1});
  EXPECT_THROW(tensor.data<int32_t>(), DTypeError);
  try {
    tensor.ToVector<double>();
    FAIL() << "expected DTypeError";
  } catch (const DTypeError& e) {
    EXPECT_STREQ(e.what(), "tensor holds float32, not float64");
  }
}

TEST(TensorTest, ValueCountMustMatchShape) {
  EXPECT_THROW(Tensor::FromVector<float>({2, 2}, {1, 2, 3}), ShapeError);
  EXPECT_THROW(Tensor(DType::kFloat32, {-1, 2}), ShapeError);
}

TEST(TensorTest, StringsRoundTripIncludingLongAndEmbeddedNul) {
  const std::string long_text(100, 'x');  // beyond TF_TString's inline capacity
  const std::string with_nul("a\0b", 3);
  Tensor tensor = Tensor::FromStrings({3}, {"", long_text, with_nul});
  EXPECT_EQ(tensor.dtype(), DType::kString);
  EXPECT_EQ(tensor.ToStrings(), (std::vector<std::string>{"", long_text, with_nul}));
  EXPECT_THROW(Tensor::FromStrings({2}, {"one"}), ShapeError);
  EXPECT_THROW(tensor.data<float>(), DTypeError);
}

TEST(TensorTest, WrapSharesCallerMemoryAndReleasesOnce) {
  alignas(64) float buffer[4] = {1, 2, 3, 4};
  int releases = 0;
  {
    Tensor tensor = Tensor::Wrap(DType::kFloat32, {2, 2}, buffer, sizeof(buffer),
                                 [&releases] { ++releases; });
    EXPECT_EQ(tensor.raw_data(), static_cast<void*>(buffer));
    buffer[0] = 9;
    EXPECT_EQ(tensor.ToVector<float>()[0], 9);
    EXPECT_EQ(releases, 0);
  }
  EXPECT_EQ(releases, 1);
}

// TensorFlow wants 64-byte-aligned memory and would copy anything else with an
// allocation it never checks; Wrap copies it itself and lets go of the caller's
// memory at once.
TEST(TensorTest, WrapCopiesMisalignedMemoryAndReleasesItAtOnce) {
  EXPECT_EQ(Tensor::Alignment(), 64u);
  alignas(64) float storage[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  float* shifted = storage + 1;  // 4 bytes past the boundary
  ASSERT_FALSE(Tensor::IsAligned(shifted));
  int releases = 0;
  Tensor tensor = Tensor::Wrap(DType::kFloat32, {2, 3}, shifted, 6 * sizeof(float),
                               [&releases] { ++releases; });
  EXPECT_EQ(releases, 1);
  EXPECT_NE(tensor.raw_data(), static_cast<void*>(shifted));
  EXPECT_TRUE(Tensor::IsAligned(tensor.raw_data()));
  EXPECT_EQ(tensor.ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(Tensor::IsAligned(storage));
}

TEST(TensorTest, AnAllocationThatFailsIsATypedError) {
  try {
    Tensor huge(DType::kFloat32, {std::int64_t{1} << 60});
    FAIL() << "allocated 4 EiB";
  } catch (const OutOfMemoryError& error) {
    EXPECT_EQ(error.code(), Code::kResourceExhausted);
    EXPECT_NE(std::string(error.what()).find("could not allocate"), std::string::npos);
  }
}

TEST(TensorTest, WrapChecksSizeAndType) {
  alignas(64) float buffer[4] = {};
  EXPECT_THROW(Tensor::Wrap(DType::kFloat32, {3}, buffer, sizeof(buffer), nullptr), ShapeError);
  EXPECT_THROW(Tensor::Wrap(DType::kString, {1}, buffer, sizeof(buffer), nullptr), DTypeError);
}

TEST(TensorTest, ShapeToStringMarksOpenDims) {
  EXPECT_EQ(ShapeToString({-1, 28, 28, 1}), "[?,28,28,1]");
  EXPECT_EQ(ShapeToString({}), "[]");
}

TEST(DTypeTest, NamesRoundTripAndUnknownNamesListChoices) {
  for (DType dtype : {DType::kFloat32, DType::kBFloat16, DType::kUInt64, DType::kString}) {
    EXPECT_EQ(DTypeFromName(DTypeName(dtype)), dtype);
  }
  try {
    DTypeFromName("float128");
    FAIL() << "expected DTypeError";
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("float32, float64"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tfreeze

namespace tfreeze {
namespace {

TEST(HalfTypesTest, Float16ConvertsExactValuesAndRoundsToNearestEven) {
  for (float value : {0.0f, 1.0f, -2.5f, 65504.0f, 0.000061035156f, 5.9604645e-08f}) {
    EXPECT_EQ(Float16::FromFloat(value).ToFloat(), value) << value;
  }
  EXPECT_EQ(Float16::FromFloat(1.0f).bits, 0x3C00);
  EXPECT_EQ(Float16::FromFloat(-2.0f).bits, 0xC000);
  EXPECT_EQ(Float16::FromFloat(1.0f + 1.0f / 2048).bits, 0x3C00);  // tie -> even
  EXPECT_EQ(Float16::FromFloat(1.0f + 3.0f / 2048).bits, 0x3C02);  // tie -> even (up)
  EXPECT_EQ(Float16::FromFloat(1e6f).bits, 0x7C00);                // overflow -> inf
  EXPECT_TRUE(std::isnan(Float16::FromFloat(NAN).ToFloat()));
}

TEST(HalfTypesTest, BFloat16KeepsTheUpperBitsRounded) {
  EXPECT_EQ(BFloat16::FromFloat(1.0f).bits, 0x3F80);
  EXPECT_EQ(BFloat16::FromFloat(-3.0f).ToFloat(), -3.0f);
  EXPECT_EQ(BFloat16::FromFloat(1.0f + 1.0f / 256).bits, 0x3F80);  // tie -> even
  EXPECT_EQ(BFloat16::FromFloat(1.0f + 3.0f / 256).bits, 0x3F82);
  EXPECT_TRUE(std::isnan(BFloat16::FromFloat(NAN).ToFloat()));
}

TEST(HalfTypesTest, TypedTensorAccess) {
  Tensor tensor = Tensor::FromVector<Float16>({2}, {Float16::FromFloat(1.5f), Float16::FromFloat(-4)});
  EXPECT_EQ(tensor.dtype(), DType::kFloat16);
  EXPECT_EQ(tensor.byte_size(), 4u);
  EXPECT_EQ(tensor.data<Float16>()[1].ToFloat(), -4.0f);
  EXPECT_THROW(tensor.data<BFloat16>(), DTypeError);
  Tensor brain(DType::kBFloat16, {3});
  EXPECT_EQ(brain.ToVector<BFloat16>().size(), 3u);
}

TEST(TensorTest, EveryDTypeAllocatesWithItsElementSize) {
  const std::pair<DType, std::size_t> sizes[] = {
      {DType::kFloat32, 4}, {DType::kFloat64, 8}, {DType::kFloat16, 2}, {DType::kBFloat16, 2},
      {DType::kInt8, 1},    {DType::kInt16, 2},   {DType::kInt32, 4},   {DType::kInt64, 8},
      {DType::kUInt8, 1},   {DType::kUInt16, 2},  {DType::kUInt32, 4},  {DType::kUInt64, 8},
      {DType::kBool, 1}};
  for (const auto& [dtype, size] : sizes) {
    Tensor tensor(dtype, {2, 3});
    EXPECT_EQ(tensor.byte_size(), 6 * size) << DTypeName(dtype);
    EXPECT_EQ(tensor.dtype(), dtype);
  }
}

}  // namespace
}  // namespace tfreeze
