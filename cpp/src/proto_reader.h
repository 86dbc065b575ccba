// A minimal protobuf wire-format reader: enough to walk a MetaGraphDef for its
// SignatureDefs without linking a protobuf runtime (TensorFlow carries its own,
// and a second copy in one process is a known source of crashes).
#ifndef TFREEZE_SRC_PROTO_READER_H_
#define TFREEZE_SRC_PROTO_READER_H_

#include <cstdint>
#include <string_view>

namespace tfreeze::internal {

class ProtoReader {
 public:
  explicit ProtoReader(std::string_view bytes) : bytes_(bytes) {}

  // Advances to the next field; false at the end. Throws std::runtime_error on
  // malformed input.
  bool Next();
  int field() const { return field_; }
  int wire_type() const { return wire_type_; }  // 0 varint, 1 fixed64, 2 bytes, 5 fixed32

  // The current field's value; call at most one per field, or none to skip it.
  std::uint64_t Varint();
  std::string_view Bytes();  // length-delimited: strings and nested messages

 private:
  std::uint64_t ReadVarint();
  void SkipValue();

  std::string_view bytes_;
  std::size_t position_ = 0;
  int field_ = 0;
  int wire_type_ = 0;
  bool consumed_ = true;
};

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_PROTO_READER_H_
