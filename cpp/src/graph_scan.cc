#include "graph_scan.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <string>
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
constexpr int kFunctionRetField = 4;
constexpr int kFunctionAttrField = 5;
constexpr int kFunctionControlRetField = 6;
constexpr int kOpDefNameField = 1;
constexpr int kNodeNameField = 1;
constexpr int kNodeOpField = 2;
constexpr int kNodeInputField = 3;
constexpr int kNodeDeviceField = 4;
constexpr int kNodeAttrField = 5;
constexpr int kNodeDebugInfoField = 6;
constexpr int kNodeTypeField = 7;
constexpr int kMapKeyField = 1;
constexpr int kMapValueField = 2;
constexpr int kAttrListField = 1;  // AttrValue's oneof: fields 1 to 10
constexpr int kAttrStringField = 2;
constexpr int kAttrTypeField = 6;
constexpr int kAttrShapeField = 7;
constexpr int kAttrTensorField = 8;
constexpr int kAttrFuncField = 10;
constexpr int kListShapeField = 7;
constexpr int kListTensorField = 8;
constexpr int kListFuncField = 9;
constexpr int kNameAttrListNameField = 1;
constexpr int kTensorDtypeField = 1;
constexpr int kTensorShapeField = 2;
constexpr int kTensorVersionField = 3;
constexpr int kTensorContentField = 4;
constexpr int kTensorIntValField = 7;
constexpr int kTensorInt64ValField = 10;
constexpr int kShapeDimField = 2;
constexpr int kShapeUnknownRankField = 3;
constexpr int kDimSizeField = 1;
constexpr int kDimNameField = 2;
constexpr int kDtInt32 = 3;
constexpr int kDtInt64 = 9;

// Protobuf reads a singular field given twice as its last value (a message:
// both merged), a oneof as its last member and a map key as its last entry;
// tfreeze's checks read one value. A serializer never writes a field twice,
// so a NodeDef that does is refused before anything reads it
// (docs/reliability.md, "Parsed as TensorFlow parses").
[[noreturn]] void RefuseDuplicate(std::string_view what) {
  throw DuplicateFieldError(std::string(what) + " appears twice in one message (TensorFlow "
                            "would read the last, tfreeze's checks the first)");
}

// The singular fields of one message, by number and name: a second sighting
// of any of them is refused.
class SingularFields {
 public:
  struct Named {
    int field;
    const char* name;
  };
  explicit SingularFields(std::initializer_list<Named> fields) {
    for (const Named& named : fields) fields_[count_++] = named;
  }
  void See(int field) {
    for (std::size_t i = 0; i < count_; ++i) {
      if (fields_[i].field != field) continue;
      if ((seen_ & (1U << i)) != 0) RefuseDuplicate(fields_[i].name);
      seen_ |= 1U << i;
    }
  }

 private:
  std::array<Named, 8> fields_{};
  std::size_t count_ = 0;
  unsigned seen_ = 0;
};

void CheckShapeProto(std::string_view shape) {
  SingularFields fields({{kShapeUnknownRankField, "a shape's unknown_rank"}});
  for (ProtoReader reader(shape); reader.Next();) {
    fields.See(reader.field());
    if (reader.field() != kShapeDimField || reader.wire_type() != 2) continue;
    SingularFields dim_fields({{kDimSizeField, "a dimension's size"}, {kDimNameField, "a dimension's name"}});
    for (ProtoReader dim(reader.Bytes()); dim.Next();) dim_fields.See(dim.field());
  }
}

void CheckTensorProto(std::string_view tensor) {
  SingularFields fields({{kTensorDtypeField, "a tensor's dtype"},
                         {kTensorShapeField, "a tensor's shape"},
                         {kTensorVersionField, "a tensor's version_number"},
                         {kTensorContentField, "a tensor's tensor_content"}});
  for (ProtoReader reader(tensor); reader.Next();) {
    fields.See(reader.field());
    if (reader.field() == kTensorShapeField && reader.wire_type() == 2) {
      CheckShapeProto(reader.Bytes());
    }
  }
}

void CheckAttrValue(std::string_view attr_value);

void CheckAttrList(std::string_view list) {
  for (ProtoReader reader(list); reader.Next();) {
    if (reader.wire_type() != 2) continue;
    if (reader.field() == kListShapeField) CheckShapeProto(reader.Bytes());
    else if (reader.field() == kListTensorField) CheckTensorProto(reader.Bytes());
    else reader.Bytes();
  }
}

// AttrValue is one oneof: a second member, or the same one twice, is refused.
void CheckAttrValue(std::string_view attr_value) {
  bool has_value = false;
  for (ProtoReader reader(attr_value); reader.Next();) {
    if (reader.field() < kAttrListField || reader.field() > kAttrFuncField) continue;
    if (has_value) RefuseDuplicate("an attribute's value (a oneof)");
    has_value = true;
    if (reader.wire_type() != 2) continue;
    if (reader.field() == kAttrTensorField) CheckTensorProto(reader.Bytes());
    else if (reader.field() == kAttrShapeField) CheckShapeProto(reader.Bytes());
    else if (reader.field() == kAttrListField) CheckAttrList(reader.Bytes());
    else reader.Bytes();
  }
}

// One map<string, ...> entry: its key, after checking key and value are each
// given once.
std::string_view MapEntryKey(std::string_view entry, std::string_view* value) {
  std::string_view key;
  SingularFields fields({{kMapKeyField, "a map entry's key"}, {kMapValueField, "a map entry's value"}});
  for (ProtoReader reader(entry); reader.Next();) {
    fields.See(reader.field());
    if (reader.field() == kMapKeyField) key = reader.Bytes();
    else if (reader.field() == kMapValueField) *value = reader.Bytes();
  }
  return key;
}

void RefuseDuplicateKeys(std::vector<std::string_view>* keys, std::string_view what) {
  std::sort(keys->begin(), keys->end());
  const auto repeated = std::adjacent_find(keys->begin(), keys->end());
  if (repeated != keys->end()) {
    RefuseDuplicate(std::string(what) + " \"" + std::string(*repeated) + "\"");
  }
}

ScannedNode ReadNodeFields(std::string_view node_def, std::string_view function) {
  ScannedNode node;
  node.function = function;
  node.node_def = node_def;
  std::vector<std::string_view> attr_names;
  SingularFields fields({{kNodeNameField, "the node's name"},
                         {kNodeOpField, "the node's op"},
                         {kNodeDeviceField, "the node's device"},
                         {kNodeDebugInfoField, "the node's experimental_debug_info"},
                         {kNodeTypeField, "the node's experimental_type"}});
  for (ProtoReader reader(node_def); reader.Next();) {
    fields.See(reader.field());
    if (reader.field() == kNodeNameField) {
      node.name = reader.Bytes();
    } else if (reader.field() == kNodeOpField) {
      node.op = reader.Bytes();
    } else if (reader.field() == kNodeInputField) {
      node.inputs.push_back(reader.Bytes());
    } else if (reader.field() == kNodeAttrField) {
      std::string_view value;
      attr_names.push_back(MapEntryKey(reader.Bytes(), &value));
      CheckAttrValue(value);
    }
  }
  RefuseDuplicateKeys(&attr_names, "attribute");
  return node;
}

std::string_view Field(std::string_view message, int field);

ScannedNode ReadNode(std::string_view node_def, std::string_view function) {
  try {
    return ReadNodeFields(node_def, function);
  } catch (const DuplicateFieldError& e) {
    std::string where = "node \"" + std::string(Field(node_def, kNodeNameField)) + "\"";
    if (!function.empty()) where += " in function \"" + std::string(function) + "\"";
    throw DuplicateFieldError(where + ": " + e.what());
  }
}

// A FunctionDef's signature, attributes and returns are read by TensorFlow
// as its last copy too.
void CheckFunctionFields(std::string_view function_def, std::string_view name) {
  std::vector<std::string_view> attrs, rets, control_rets;
  SingularFields fields({{kFunctionSignatureField, "its signature"}});
  try {
    for (ProtoReader reader(function_def); reader.Next();) {
      fields.See(reader.field());
      std::vector<std::string_view>* keys =
          reader.field() == kFunctionAttrField         ? &attrs
          : reader.field() == kFunctionRetField        ? &rets
          : reader.field() == kFunctionControlRetField ? &control_rets
                                                       : nullptr;
      if (keys == nullptr || reader.wire_type() != 2) continue;
      std::string_view value;
      keys->push_back(MapEntryKey(reader.Bytes(), &value));
      if (keys == &attrs) CheckAttrValue(value);
    }
    RefuseDuplicateKeys(&attrs, "attribute");
    RefuseDuplicateKeys(&rets, "return");
    RefuseDuplicateKeys(&control_rets, "control return");
  } catch (const DuplicateFieldError& e) {
    throw DuplicateFieldError("function \"" + std::string(name) + "\": " + e.what());
  }
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
  if (name.empty()) name = "?";
  CheckFunctionFields(function_def, name);
  for (std::string_view node : nodes) visit(ReadNode(node, name));
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

// A shape's element count; false when a dimension is unknown or the count
// exceeds `limit` (too many for the integers this reader is asked about).
bool NumElements(std::string_view shape_proto, std::int64_t limit, std::int64_t* count) {
  *count = 1;
  for (ProtoReader reader(shape_proto); reader.Next();) {
    if (reader.field() != kShapeDimField) continue;
    std::int64_t size = 0;
    for (ProtoReader dim(reader.Bytes()); dim.Next();) {
      if (dim.field() == kDimSizeField) size = static_cast<std::int64_t>(dim.Varint());
    }
    if (size < 0 || (size != 0 && *count > limit / size)) return false;
    *count *= size;
  }
  return true;
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

template <typename Int>
std::int64_t LittleEndian(const char* bytes) {
  Int value;
  std::memcpy(&value, bytes, sizeof(Int));  // little-endian, as TensorFlow writes it
  return value;
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

std::vector<std::string_view> CalledFunctions(std::string_view node_def) {
  std::vector<std::string_view> called;
  for (ProtoReader reader(node_def); reader.Next();) {
    if (reader.field() != kNodeAttrField) continue;
    std::string_view value;
    MapEntryKey(reader.Bytes(), &value);
    for (ProtoReader attr(value); attr.Next();) {
      if (attr.field() == kAttrFuncField) {
        called.push_back(Field(attr.Bytes(), kNameAttrListNameField));
      } else if (attr.field() == kAttrListField) {
        for (ProtoReader list(attr.Bytes()); list.Next();) {
          if (list.field() == kListFuncField) {
            called.push_back(Field(list.Bytes(), kNameAttrListNameField));
          }
        }
      }
    }
  }
  return called;
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

// As tensorflow::Tensor::FromProto reads them: tensor_content when it is not
// empty (exactly the tensor's bytes), else the dtype's own repeated field,
// its last value repeated to fill the shape.
bool TensorIntegers(std::string_view tensor_proto, std::vector<std::int64_t>* values) {
  constexpr std::int64_t kMostElements = 1 << 20;  // far more than any shape has dimensions
  const int dtype = TensorDtype(tensor_proto);
  if (dtype != kDtInt32 && dtype != kDtInt64) return false;
  const int typed_field = dtype == kDtInt64 ? kTensorInt64ValField : kTensorIntValField;
  std::string_view shape, content;
  std::vector<std::int64_t> typed;
  for (ProtoReader reader(tensor_proto); reader.Next();) {
    if (reader.field() == kTensorShapeField) {
      shape = reader.Bytes();
    } else if (reader.field() == kTensorContentField) {
      content = reader.Bytes();
    } else if (reader.field() == typed_field) {
      if (reader.wire_type() == 0) typed.push_back(static_cast<std::int64_t>(reader.Varint()));
      else ReadPackedVarints(reader.Bytes(), &typed);
    }
  }
  std::int64_t count = 0;
  if (!NumElements(shape, kMostElements, &count)) return false;
  const std::size_t width = dtype == kDtInt64 ? 8 : 4;
  values->clear();
  if (!content.empty()) {
    if (content.size() != static_cast<std::size_t>(count) * width) return false;  // TF refuses it
    for (std::size_t at = 0; at < content.size(); at += width) {
      values->push_back(width == 8 ? LittleEndian<std::int64_t>(content.data() + at)
                                   : LittleEndian<std::int32_t>(content.data() + at));
    }
    return true;
  }
  if (static_cast<std::int64_t>(typed.size()) > count) return false;  // TF refuses it
  for (std::int64_t& value : typed) {
    // An int32 field keeps the low 32 bits of the varint, as protobuf parses it.
    if (dtype == kDtInt32) value = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
  }
  *values = std::move(typed);
  values->resize(count, values->empty() ? 0 : values->back());
  return true;
}

}  // namespace tfreeze::internal
