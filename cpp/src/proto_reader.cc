#include "proto_reader.h"

#include <stdexcept>

namespace tfreeze::internal {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

}  // namespace

std::uint64_t ProtoReader::ReadVarint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (position_ >= bytes_.size()) throw std::runtime_error("truncated varint");
    const auto byte = static_cast<unsigned char>(bytes_[position_++]);
    value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw std::runtime_error("varint longer than 10 bytes");
}

bool ProtoReader::Next() {
  if (!consumed_) SkipValue();
  if (position_ >= bytes_.size()) return false;
  const std::uint64_t tag = ReadVarint();
  field_ = static_cast<int>(tag >> 3);
  wire_type_ = static_cast<int>(tag & 7);
  consumed_ = false;
  return true;
}

std::uint64_t ProtoReader::Varint() {
  if (wire_type_ != kVarint) throw std::runtime_error("field is not a varint");
  consumed_ = true;
  return ReadVarint();
}

std::string_view ProtoReader::Bytes() {
  if (wire_type_ != kLengthDelimited) throw std::runtime_error("field is not length-delimited");
  const std::uint64_t length = ReadVarint();
  if (length > bytes_.size() - position_) throw std::runtime_error("truncated field");
  consumed_ = true;
  const std::string_view value = bytes_.substr(position_, length);
  position_ += length;
  return value;
}

void ProtoReader::SkipValue() {
  switch (wire_type_) {
    case kVarint: Varint(); return;
    case kLengthDelimited: Bytes(); return;
    case kFixed64: position_ += 8; break;
    case kFixed32: position_ += 4; break;
    default: throw std::runtime_error("unsupported wire type " + std::to_string(wire_type_));
  }
  if (position_ > bytes_.size()) throw std::runtime_error("truncated fixed-width field");
  consumed_ = true;
}

}  // namespace tfreeze::internal
