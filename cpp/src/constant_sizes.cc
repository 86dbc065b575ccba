#include "constant_sizes.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "proto_reader.h"
#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

// Field numbers from tensorflow/core/framework/{node_def,attr_value,tensor,
// tensor_shape}.proto.
constexpr int kNodeAttrField = 5;
constexpr int kMapKeyField = 1;
constexpr int kMapValueField = 2;
constexpr int kAttrListField = 1;
constexpr int kAttrTensorField = 8;
constexpr int kListTensorField = 8;
constexpr int kTensorDtypeField = 1;
constexpr int kTensorShapeField = 2;
constexpr int kTensorContentField = 4;
constexpr int kShapeDimField = 2;
constexpr int kShapeUnknownRankField = 3;
constexpr int kDimSizeField = 1;
constexpr int kStringDtype = 7;

// How a dtype's values are written in a TensorProto when tensor_content is
// empty: the repeated field TensorFlow reads and how each value is encoded.
enum class Encoding { kFixed32, kFixed64, kVarint, kEntries, kOneBytePerValue };

struct DtypeLayout {
  int dtype;
  const char* name;
  std::uint64_t width;  // bytes per element in memory
  int field;            // 0: none tfreeze knows of, every element is filled in
  Encoding encoding;
  int values_per_element;  // complex numbers: two
};

// From tensorflow/core/framework/types.proto and Tensor::FromProto. A string
// element is a tstring (24 bytes), plus the text when it does not fit inside.
constexpr DtypeLayout kLayouts[] = {
    {1, "float32", 4, 5, Encoding::kFixed32, 1},   {2, "float64", 8, 6, Encoding::kFixed64, 1},
    {3, "int32", 4, 7, Encoding::kVarint, 1},      {4, "uint8", 1, 7, Encoding::kVarint, 1},
    {5, "int16", 2, 7, Encoding::kVarint, 1},      {6, "int8", 1, 7, Encoding::kVarint, 1},
    {7, "string", 24, 8, Encoding::kEntries, 1},   {8, "complex64", 8, 9, Encoding::kFixed32, 2},
    {9, "int64", 8, 10, Encoding::kVarint, 1},     {10, "bool", 1, 11, Encoding::kVarint, 1},
    {11, "qint8", 1, 7, Encoding::kVarint, 1},     {12, "quint8", 1, 7, Encoding::kVarint, 1},
    {13, "qint32", 4, 7, Encoding::kVarint, 1},    {14, "bfloat16", 2, 13, Encoding::kVarint, 1},
    {15, "qint16", 2, 7, Encoding::kVarint, 1},    {16, "quint16", 2, 7, Encoding::kVarint, 1},
    {17, "uint16", 2, 7, Encoding::kVarint, 1},
    {18, "complex128", 16, 12, Encoding::kFixed64, 2},
    {19, "float16", 2, 13, Encoding::kVarint, 1},  {20, "resource", 64, 14, Encoding::kEntries, 1},
    {21, "variant", 64, 15, Encoding::kEntries, 1}, {22, "uint32", 4, 16, Encoding::kVarint, 1},
    {23, "uint64", 8, 17, Encoding::kVarint, 1},
    {24, "float8_e5m2", 1, 18, Encoding::kOneBytePerValue, 1},
    {25, "float8_e4m3fn", 1, 18, Encoding::kOneBytePerValue, 1},
    {26, "float8_e4m3fnuz", 1, 18, Encoding::kOneBytePerValue, 1},
    {27, "float8_e4m3b11fnuz", 1, 18, Encoding::kOneBytePerValue, 1},
    {28, "float8_e5m2fnuz", 1, 18, Encoding::kOneBytePerValue, 1},
    {29, "int4", 1, 7, Encoding::kVarint, 1},      {30, "uint4", 1, 7, Encoding::kVarint, 1},
};

DtypeLayout LayoutOf(int dtype) {
  for (const DtypeLayout& layout : kLayouts) {
    if (layout.dtype == dtype) return layout;
  }
  return {dtype, "an unknown dtype", 1, 0, Encoding::kEntries, 1};
}

std::uint64_t SaturatingMultiply(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > kSaturated / a) return kSaturated;
  return a * b;
}

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) {
  return b > kSaturated - a ? kSaturated : a + b;
}

// The dimensions of a TensorShapeProto; false for a shape TensorFlow refuses
// in a tensor (unknown rank, a negative size).
bool ReadDims(std::string_view shape_proto, std::vector<std::int64_t>* dims) {
  dims->clear();
  for (ProtoReader reader(shape_proto); reader.Next();) {
    if (reader.field() == kShapeUnknownRankField && reader.wire_type() == 0) {
      if (reader.Varint() != 0) return false;
    }
    if (reader.field() != kShapeDimField || reader.wire_type() != 2) continue;
    std::int64_t size = 0;
    for (ProtoReader dim(reader.Bytes()); dim.Next();) {
      if (dim.field() == kDimSizeField && dim.wire_type() == 0) {
        size = static_cast<std::int64_t>(dim.Varint());
      }
    }
    if (size < 0) return false;
    dims->push_back(size);
  }
  return true;
}

// Values one occurrence of the dtype's field gives: packed runs or one each.
std::uint64_t CountValues(ProtoReader& reader, Encoding encoding, std::uint64_t* last_size) {
  if (reader.wire_type() != 2) return 1;  // one unpacked value
  const std::string_view bytes = reader.Bytes();
  switch (encoding) {
    case Encoding::kFixed32: return bytes.size() / 4;
    case Encoding::kFixed64: return bytes.size() / 8;
    case Encoding::kOneBytePerValue: return bytes.size();
    case Encoding::kEntries: *last_size = bytes.size(); return 1;
    case Encoding::kVarint:
      return static_cast<std::uint64_t>(std::count_if(
          bytes.begin(), bytes.end(), [](char c) { return (c & 0x80) == 0; }));
  }
  return 0;
}

}  // namespace

bool TensorClaimedSize(std::string_view tensor_proto, ClaimedSize* claimed) {
  int& dtype = claimed->dtype;
  dtype = 0;
  std::string_view shape, content;
  for (ProtoReader reader(tensor_proto); reader.Next();) {
    if (reader.field() == kTensorDtypeField && reader.wire_type() == 0) {
      dtype = static_cast<int>(reader.Varint());
    } else if (reader.field() == kTensorShapeField && reader.wire_type() == 2) {
      shape = reader.Bytes();
    } else if (reader.field() == kTensorContentField && reader.wire_type() == 2) {
      content = reader.Bytes();
    }
  }
  if (!ReadDims(shape, &claimed->shape)) return false;
  std::uint64_t elements = 1;
  for (std::int64_t dim : claimed->shape) {
    elements = SaturatingMultiply(elements, static_cast<std::uint64_t>(dim));
  }
  const DtypeLayout layout = LayoutOf(dtype);
  std::uint64_t given = 0, last_size = 0;
  if (layout.field != 0) {
    for (ProtoReader reader(tensor_proto); reader.Next();) {
      if (reader.field() == layout.field) {
        given = SaturatingAdd(given, CountValues(reader, layout.encoding, &last_size));
      }
    }
  }
  given /= static_cast<std::uint64_t>(layout.values_per_element);
  // A repeated string longer than a tstring holds inline is copied into each element.
  const bool outside = dtype == kStringDtype && last_size > 22;
  const std::uint64_t width = layout.width + (outside ? last_size : 0);
  claimed->bytes = SaturatingMultiply(elements, width);
  // tensor_content is the tensor's bytes exactly; TensorFlow refuses any other size.
  claimed->filled = content.empty() ? given < elements : content.size() < claimed->bytes;
  if (dtype == kStringDtype && !content.empty()) claimed->filled = false;
  return true;
}

namespace {

// Calls `visit(attribute name, TensorProto)` for each tensor a NodeDef's
// attributes hold: a tensor, or a list of them.
template <typename Visit>
void ForEachTensorAttr(std::string_view node_def, Visit&& visit) {
  for (ProtoReader reader(node_def); reader.Next();) {
    if (reader.field() != kNodeAttrField || reader.wire_type() != 2) continue;
    std::string_view key, value;
    for (ProtoReader entry(reader.Bytes()); entry.Next();) {
      if (entry.field() == kMapKeyField) key = entry.Bytes();
      else if (entry.field() == kMapValueField) value = entry.Bytes();
    }
    for (ProtoReader attr(value); attr.Next();) {
      if (attr.wire_type() != 2) continue;
      const std::string_view bytes = attr.Bytes();
      if (attr.field() == kAttrTensorField) visit(key, bytes);
      if (attr.field() != kAttrListField) continue;
      for (ProtoReader list(bytes); list.Next();) {
        if (list.field() == kListTensorField && list.wire_type() == 2) visit(key, list.Bytes());
      }
    }
  }
}

}  // namespace

std::vector<ExpandedConstant> FilledConstants(const std::vector<ScannedNode>& nodes,
                                              std::uint64_t at_least) {
  std::vector<ExpandedConstant> found;
  ClaimedSize claimed;
  for (const ScannedNode& node : nodes) {
    ForEachTensorAttr(node.node_def, [&](std::string_view attr, std::string_view tensor) {
      if (!TensorClaimedSize(tensor, &claimed) || !claimed.filled || claimed.bytes < at_least) {
        return;
      }
      found.push_back({std::string(node.name), std::string(node.op), std::string(node.function),
                       std::string(attr), LayoutOf(claimed.dtype).name, claimed.shape,
                       tensor.size(), claimed.bytes});
    });
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const ExpandedConstant& a, const ExpandedConstant& b) {
                     return a.bytes > b.bytes;
                   });
  return found;
}

std::vector<ExpandedConstant> ListExpandedConstants(std::string_view graph_def) {
  std::vector<ScannedNode> nodes;
  try {
    ForEachNode(graph_def, [&](const ScannedNode& node) { nodes.push_back(node); });
  } catch (const std::runtime_error&) {
    return {};
  }
  return FilledConstants(nodes, kListedConstantBytes);
}

std::uint64_t ConstantLimit(const Options& options, std::size_t graph_bytes) {
  if (options.max_constant_bytes != 0) return options.max_constant_bytes;
  return std::max(kDefaultConstantBytes, SaturatingMultiply(4, graph_bytes));
}

namespace {

std::string HumanBytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  if (bytes == kSaturated) return "2^64 bytes or more";
  if (unit == 0) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return std::to_string(bytes) + " bytes (" + text + ")";
}

std::string Describe(const ExpandedConstant& constant) {
  std::string text = constant.op + " node \"" + constant.node + "\"";
  if (!constant.function.empty()) text += " in function \"" + constant.function + "\"";
  if (constant.attr != "value") text += " (attribute \"" + constant.attr + "\")";
  text += " claims " + constant.dtype + " [";
  for (std::size_t i = 0; i < constant.shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(constant.shape[i]);
  }
  return text + "], " + HumanBytes(constant.bytes) + " once TensorFlow fills it in, from " +
         std::to_string(constant.bytes_in_file) + " bytes in the file";
}

}  // namespace

void CheckConstantSizes(const std::vector<ScannedNode>& nodes, const Options& options,
                        std::size_t graph_bytes, const std::string& origin) {
  const std::uint64_t limit = ConstantLimit(options, graph_bytes);
  const std::vector<ExpandedConstant> filled = FilledConstants(nodes, 0);
  std::uint64_t total = 0;
  for (const ExpandedConstant& constant : filled) total = SaturatingAdd(total, constant.bytes);
  if (total <= limit) return;
  std::string what = Describe(filled.front());
  if (filled.front().bytes <= limit) {
    what = std::to_string(filled.size()) + " constants claim " + HumanBytes(total) +
           " in all once TensorFlow fills them in; the largest: " + what;
  }
  const std::string rule = options.max_constant_bytes != 0
                               ? "Options::max_constant_bytes"
                               : "the larger of 256 MiB and 4 times the graph's size";
  throw ConstantTooLargeError(
      Code::kResourceExhausted,
      origin + ": " + what + ". Constants may fill in at most " + HumanBytes(limit) + ", " + rule +
          "; refusing a crafted or corrupt file before TensorFlow allocates it. If you trust "
          "it, raise the limit: Options::max_constant_bytes (Python max_constant_bytes=N, "
          "config file \"max_constant_bytes\")");
}

}  // namespace tfreeze::internal
