#include "saved_model.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "proto_reader.h"
#include "tfreeze/errors.h"

namespace tfreeze::internal {
namespace {

// Field numbers from tensorflow/core/protobuf/meta_graph.proto and
// tensor_shape.proto.
constexpr int kSavedModelMetaGraphsField = 2;
constexpr int kMetaGraphMetaInfoField = 1;
constexpr int kMetaInfoTagsField = 4;
constexpr int kMetaGraphGraphDefField = 2;
constexpr int kMetaGraphSignatureDefField = 5;
constexpr int kMapKeyField = 1;
constexpr int kMapValueField = 2;
constexpr int kSignatureInputsField = 1;
constexpr int kSignatureOutputsField = 2;
constexpr int kTensorInfoNameField = 1;
constexpr int kTensorInfoDtypeField = 2;
constexpr int kTensorInfoShapeField = 3;
constexpr int kTensorInfoCooSparseField = 4;
constexpr int kTensorInfoCompositeField = 5;
constexpr int kShapeDimField = 2;
constexpr int kShapeUnknownRankField = 3;
constexpr int kDimSizeField = 1;

struct RawTensorInfo {
  std::string tensor;
  int dtype = 0;
  Shape shape;
  bool unknown_rank = false;
  bool composite = false;  // sparse or ragged: not a plain tensor
};

Shape ParseShape(std::string_view bytes, bool* unknown_rank) {
  Shape shape;
  for (ProtoReader shape_reader(bytes); shape_reader.Next();) {
    if (shape_reader.field() == kShapeUnknownRankField) {
      *unknown_rank = shape_reader.Varint() != 0;
    } else if (shape_reader.field() == kShapeDimField) {
      std::int64_t size = -1;
      for (ProtoReader dim(shape_reader.Bytes()); dim.Next();) {
        if (dim.field() == kDimSizeField) size = static_cast<std::int64_t>(dim.Varint());
      }
      shape.push_back(size < 0 ? -1 : size);
    }
  }
  return shape;
}

RawTensorInfo ParseTensorInfo(std::string_view bytes) {
  RawTensorInfo info;
  for (ProtoReader reader(bytes); reader.Next();) {
    switch (reader.field()) {
      case kTensorInfoNameField: info.tensor = std::string(reader.Bytes()); break;
      case kTensorInfoDtypeField: info.dtype = static_cast<int>(reader.Varint()); break;
      case kTensorInfoShapeField: info.shape = ParseShape(reader.Bytes(), &info.unknown_rank); break;
      case kTensorInfoCooSparseField:
      case kTensorInfoCompositeField: info.composite = true; break;
      default: break;
    }
  }
  return info;
}

// A map<string, Message> field's entry: (key, serialized value).
std::pair<std::string, std::string_view> ParseMapEntry(std::string_view bytes) {
  std::pair<std::string, std::string_view> entry;
  for (ProtoReader reader(bytes); reader.Next();) {
    if (reader.field() == kMapKeyField) entry.first = std::string(reader.Bytes());
    if (reader.field() == kMapValueField) entry.second = reader.Bytes();
  }
  return entry;
}

std::vector<BoundTensor> BindAll(const std::map<std::string, RawTensorInfo>& infos,
                                 TF_Graph* graph, const std::string& origin) {
  std::vector<BoundTensor> bound;
  for (const auto& [key, raw] : infos) {  // std::map: key order
    if (raw.composite || raw.unknown_rank || !IsSupportedDType(raw.dtype)) {
      throw LoadError(Code::kUnimplemented,
                      origin + ": signature entry \"" + key +
                          "\" is not a dense tensor of known rank and supported dtype; freeze "
                          "the SavedModel into a .pb with `tfreeze freeze` instead");
    }
    BoundTensor tensor;
    tensor.info = TensorInfo{key, static_cast<DType>(raw.dtype), raw.shape};
    tensor.port = BindPort(graph, raw.tensor, origin);
    bound.push_back(tensor);
  }
  return bound;
}

std::set<std::string> MetaGraphTags(std::string_view meta_graph_def) {
  std::set<std::string> tags;
  for (ProtoReader reader(meta_graph_def); reader.Next();) {
    if (reader.field() != kMetaGraphMetaInfoField) continue;
    for (ProtoReader info(reader.Bytes()); info.Next();) {
      if (info.field() == kMetaInfoTagsField) tags.emplace(info.Bytes());
    }
  }
  return tags;
}

}  // namespace

std::string ReadSavedModelFile(const std::string& directory, const std::string& origin) {
  std::ifstream file(directory + "/saved_model.pb", std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file) {
    throw LoadError(Code::kInvalidArgument,
                    origin + ": saved_model.pb cannot be read (tfreeze reads binary SavedModels)");
  }
  return bytes.str();
}

std::string ReadMetaGraph(const std::string& directory, const std::vector<std::string>& tags,
                          const std::string& origin) {
  const std::string saved_model = ReadSavedModelFile(directory, origin);
  const std::set<std::string> wanted(tags.begin(), tags.end());
  std::string available;
  try {
    for (ProtoReader reader(saved_model); reader.Next();) {
      if (reader.field() != kSavedModelMetaGraphsField) continue;
      const std::string_view meta_graph = reader.Bytes();
      const std::set<std::string> found = MetaGraphTags(meta_graph);
      if (found == wanted) return std::string(meta_graph);  // as TensorFlow's loader matches
      std::string joined;
      for (const std::string& tag : found) joined += (joined.empty() ? "" : ",") + tag;
      available += (available.empty() ? "" : "; ") + joined;
    }
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const Error*>(&e) != nullptr) throw;
    throw LoadError(Code::kDataLoss, origin + ": unreadable saved_model.pb: " + e.what());
  }
  throw LoadError(Code::kNotFound, origin + " has no MetaGraph with exactly the requested tags; "
                                            "its tag sets are: " +
                                            (available.empty() ? "(none)" : available));
}

std::string_view MetaGraphGraphDef(std::string_view meta_graph_def) {
  std::string_view graph_def;
  for (ProtoReader reader(meta_graph_def); reader.Next();) {
    if (reader.field() == kMetaGraphGraphDefField) graph_def = reader.Bytes();
  }
  return graph_def;
}

bool IsSavedModelDir(const std::string& path) {
  std::error_code error;
  return std::filesystem::is_directory(path, error) &&
         (std::filesystem::exists(std::filesystem::path(path) / "saved_model.pb", error) ||
          std::filesystem::exists(std::filesystem::path(path) / "saved_model.pbtxt", error));
}

Signature ParseSavedModelSignature(std::string_view meta_graph_def, const std::string& key,
                                   TF_Graph* graph, const std::string& origin) {
  std::string available;
  try {
    for (ProtoReader meta(meta_graph_def); meta.Next();) {
      if (meta.field() != kMetaGraphSignatureDefField) continue;
      const auto [name, signature_def] = ParseMapEntry(meta.Bytes());
      if (name.rfind("__", 0) != 0) {  // "__saved_model_init_op" is TensorFlow's own
        available += (available.empty() ? "" : ", ") + name;
      }
      if (name != key) continue;
      std::map<std::string, RawTensorInfo> inputs;
      std::map<std::string, RawTensorInfo> outputs;
      for (ProtoReader reader(signature_def); reader.Next();) {
        if (reader.field() != kSignatureInputsField && reader.field() != kSignatureOutputsField) {
          continue;
        }
        auto& target = reader.field() == kSignatureInputsField ? inputs : outputs;
        const auto [entry_key, info] = ParseMapEntry(reader.Bytes());
        target[entry_key] = ParseTensorInfo(info);
      }
      Signature signature;
      signature.inputs = BindAll(inputs, graph, origin);
      signature.outputs = BindAll(outputs, graph, origin);
      return signature;
    }
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const Error*>(&e) != nullptr) throw;
    throw LoadError(Code::kDataLoss, origin + ": unreadable MetaGraphDef: " + e.what());
  }
  throw LoadError(Code::kNotFound, origin + " has no signature \"" + key +
                                       "\"; its signatures are: " +
                                       (available.empty() ? "(none)" : available));
}

}  // namespace tfreeze::internal
