#include "graph_scan.h"

#include <cstring>
#include <stdexcept>

#include "proto_reader.h"

namespace tfreeze::internal {
namespace {

// Field numbers from tensorflow/core/framework/{graph,function,node_def,
// attr_value,tensor,tensor_shape}.proto and op_def.proto.
constexpr int kGraphNodeField = 1;
constexpr int kGraphLibraryField = 2;
constexpr int kLibraryFunctionField = 1;
constexpr int kFunctionSignatureField = 1;
constexpr int kFunctionNodeDefField = 3;
constexpr int kOpDefNameField = 1;
constexpr int kNodeNameField = 1;
constexpr int kNodeOpField = 2;
constexpr int kNodeInputField = 3;
constexpr int kNodeAttrField = 5;
constexpr int kMapKeyField = 1;
constexpr int kMapValueField = 2;
constexpr int kAttrStringField = 2;
constexpr int kAttrTypeField = 6;
constexpr int kAttrTensorField = 8;
constexpr int kTensorDtypeField = 1;
constexpr int kTensorShapeField = 2;
constexpr int kTensorContentField = 4;
constexpr int kTensorIntValField = 7;
constexpr int kTensorInt64ValField = 10;
constexpr int kShapeDimField = 2;
constexpr int kDimSizeField = 1;
constexpr int kDtInt32 = 3;
constexpr int kDtInt64 = 9;

ScannedNode ReadNode(std::string_view node_def, std::string_view function) {
  ScannedNode node;
  node.function = function;
  node.node_def = node_def;
  for (ProtoReader reader(node_def); reader.Next();) {
    if (reader.field() == kNodeNameField) node.name = reader.Bytes();
    else if (reader.field() == kNodeOpField) node.op = reader.Bytes();
    else if (reader.field() == kNodeInputField) node.inputs.push_back(reader.Bytes());
  }
  return node;
}

void ScanFunction(std::string_view function_def,
                  const std::function<void(const ScannedNode&)>& visit) {
  std::string_view name;
  std::vector<std::string_view> nodes;
  for (ProtoReader reader(function_def); reader.Next();) {
    if (reader.field() == kFunctionSignatureField) {
      for (ProtoReader op_def(reader.Bytes()); op_def.Next();) {
        if (op_def.field() == kOpDefNameField) name = op_def.Bytes();
      }
    } else if (reader.field() == kFunctionNodeDefField) {
      nodes.push_back(reader.Bytes());
    }
  }
  for (std::string_view node : nodes) visit(ReadNode(node, name.empty() ? "?" : name));
}

// The one field `field` of a message, as bytes; empty if absent.
std::string_view Field(std::string_view message, int field) {
  std::string_view found;
  for (ProtoReader reader(message); reader.Next();) {
    if (reader.field() == field && reader.wire_type() == 2) found = reader.Bytes();
  }
  return found;
}

// The varint field `field` of a message (an enum such as a dtype); 0 if absent.
int IntField(std::string_view message, int field) {
  int value = 0;
  for (ProtoReader reader(message); reader.Next();) {
    if (reader.field() == field && reader.wire_type() == 0) value = static_cast<int>(reader.Varint());
  }
  return value;
}

std::int64_t NumElements(std::string_view shape_proto) {
  std::int64_t count = 1;
  for (ProtoReader reader(shape_proto); reader.Next();) {
    if (reader.field() != kShapeDimField) continue;
    for (ProtoReader dim(reader.Bytes()); dim.Next();) {
      if (dim.field() == kDimSizeField) count *= static_cast<std::int64_t>(dim.Varint());
    }
  }
  return count;
}

// Packed repeated varints: values back to back, no tags.
void ReadPackedVarints(std::string_view bytes, std::vector<std::int64_t>* values) {
  std::uint64_t value = 0;
  int shift = 0;
  for (const char c : bytes) {
    if (shift >= 64) throw std::runtime_error("varint longer than 10 bytes");
    const auto byte = static_cast<unsigned char>(c);
    value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) != 0) {
      shift += 7;
      continue;
    }
    values->push_back(static_cast<std::int64_t>(value));
    value = 0;
    shift = 0;
  }
  if (shift != 0) throw std::runtime_error("truncated varint");
}

}  // namespace

void ForEachNode(std::string_view graph_def,
                 const std::function<void(const ScannedNode&)>& visit) {
  std::vector<std::string_view> library;
  for (ProtoReader reader(graph_def); reader.Next();) {
    if (reader.field() == kGraphNodeField) {
      visit(ReadNode(reader.Bytes(), ""));
    } else if (reader.field() == kGraphLibraryField) {
      library.push_back(reader.Bytes());
    }
  }
  for (std::string_view functions : library) {
    for (ProtoReader reader(functions); reader.Next();) {
      if (reader.field() == kLibraryFunctionField) ScanFunction(reader.Bytes(), visit);
    }
  }
}

std::size_t ConstantBytes(std::string_view graph_def) {
  std::size_t bytes = 0;
  ForEachNode(graph_def, [&bytes](const ScannedNode& node) {
    if (node.op == "Const" && node.function.empty() && node.name.rfind("tfreeze/", 0) != 0) {
      bytes += node.node_def.size();
    }
  });
  return bytes;
}

std::string_view Attr(std::string_view node_def, std::string_view name) {
  for (ProtoReader reader(node_def); reader.Next();) {
    if (reader.field() != kNodeAttrField) continue;
    std::string_view key, value;
    for (ProtoReader entry(reader.Bytes()); entry.Next();) {
      if (entry.field() == kMapKeyField) key = entry.Bytes();
      else if (entry.field() == kMapValueField) value = entry.Bytes();
    }
    if (key == name) return value;
  }
  return {};
}

std::string_view AttrString(std::string_view attr_value) {
  return Field(attr_value, kAttrStringField);
}

int AttrType(std::string_view attr_value) { return IntField(attr_value, kAttrTypeField); }

std::string_view AttrTensor(std::string_view attr_value) {
  return Field(attr_value, kAttrTensorField);
}

int TensorDtype(std::string_view tensor_proto) {
  return IntField(tensor_proto, kTensorDtypeField);
}

bool TensorIntegers(std::string_view tensor_proto, std::vector<std::int64_t>* values) {
  const int dtype = TensorDtype(tensor_proto);
  if (dtype != kDtInt32 && dtype != kDtInt64) return false;
  values->clear();
  std::int64_t count = 1;
  for (ProtoReader reader(tensor_proto); reader.Next();) {
    const int field = reader.field();
    if (field == kTensorShapeField) {
      count = NumElements(reader.Bytes());
    } else if (field == kTensorContentField) {
      const std::string_view raw = reader.Bytes();
      const std::size_t width = dtype == kDtInt64 ? 8 : 4;
      for (std::size_t at = 0; at + width <= raw.size(); at += width) {
        if (width == 8) {
          std::int64_t value;
          std::memcpy(&value, raw.data() + at, 8);  // little-endian, as TensorFlow writes it
          values->push_back(value);
        } else {
          std::int32_t value;
          std::memcpy(&value, raw.data() + at, 4);
          values->push_back(value);
        }
      }
    } else if (field == kTensorIntValField || field == kTensorInt64ValField) {
      if (reader.wire_type() == 0) {
        values->push_back(static_cast<std::int64_t>(reader.Varint()));
      } else {
        ReadPackedVarints(reader.Bytes(), values);
      }
    }
  }
  // A proto may store one value for a whole tensor: every element takes it.
  if (values->size() == 1 && count > 1 && count < (1 << 20)) values->resize(count, values->front());
  return true;
}

}  // namespace tfreeze::internal
