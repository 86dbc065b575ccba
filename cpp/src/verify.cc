// Model::Verify: replays the test vectors stored in the file.
#include <cmath>

#include "model_impl.h"
#include "status.h"
#include "tfreeze/errors.h"

namespace tfreeze {
namespace {

Tensor StoredTensor(TF_Graph* graph, const std::string& node) {
  TF_Operation* op = TF_GraphOperationByName(graph, node.c_str());
  if (op == nullptr) {
    throw LoadError(Code::kDataLoss, "the signature lists test vectors but node \"" + node +
                                         "\" is missing");
  }
  internal::StatusPtr status = internal::NewStatus();
  TF_Tensor* value = nullptr;
  TF_OperationGetAttrTensor(op, "value", &value, status.get());
  internal::ThrowIfError<LoadError>(status.get(), "unreadable test vector \"" + node + "\"");
  return Tensor::Adopt(value);
}

template <typename T>
std::vector<double> Widen(const Tensor& tensor) {
  const T* values = tensor.data<T>();
  std::vector<double> wide(static_cast<std::size_t>(tensor.num_elements()));
  for (std::size_t i = 0; i < wide.size(); ++i) {
    if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
      wide[i] = values[i].ToFloat();
    } else {
      wide[i] = static_cast<double>(values[i]);
    }
  }
  return wide;
}

std::vector<double> AsDoubles(const Tensor& tensor) {
  switch (tensor.dtype()) {
    case DType::kFloat32: return Widen<float>(tensor);
    case DType::kFloat64: return Widen<double>(tensor);
    case DType::kFloat16: return Widen<Float16>(tensor);
    case DType::kBFloat16: return Widen<BFloat16>(tensor);
    case DType::kInt8: return Widen<std::int8_t>(tensor);
    case DType::kInt16: return Widen<std::int16_t>(tensor);
    case DType::kInt32: return Widen<std::int32_t>(tensor);
    case DType::kInt64: return Widen<std::int64_t>(tensor);
    case DType::kUInt8: return Widen<std::uint8_t>(tensor);
    case DType::kUInt16: return Widen<std::uint16_t>(tensor);
    case DType::kUInt32: return Widen<std::uint32_t>(tensor);
    case DType::kUInt64: return Widen<std::uint64_t>(tensor);
    case DType::kBool: return Widen<bool>(tensor);
    case DType::kString: break;
  }
  throw DTypeError("no numeric view of " + DTypeName(tensor.dtype()));
}

// Same rule as numpy.allclose (and tfreeze.compare): |a - e| <= atol + rtol * |e|.
void Compare(const Tensor& actual, const Tensor& expected, double rtol, double atol,
             OutputCheck* check) {
  check->shape_ok = actual.shape() == expected.shape() && actual.dtype() == expected.dtype();
  if (!check->shape_ok) {
    check->max_abs = check->max_rel = INFINITY;
    return;
  }
  if (actual.dtype() == DType::kString) {
    check->passed = actual.ToStrings() == expected.ToStrings();
    check->max_abs = check->max_rel = check->passed ? 0 : INFINITY;
    return;
  }
  const std::vector<double> a = AsDoubles(actual);
  const std::vector<double> e = AsDoubles(expected);
  check->passed = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(e[i])) {
      check->passed = check->passed && std::isnan(a[i]) && std::isnan(e[i]);
      continue;
    }
    const double diff = std::abs(a[i] - e[i]);
    check->max_abs = std::max(check->max_abs, diff);
    if (std::abs(e[i]) > atol) check->max_rel = std::max(check->max_rel, diff / std::abs(e[i]));
    if (diff > atol + rtol * std::abs(e[i])) check->passed = false;
  }
}

// The freezer stores none when told not to verify, or when it did not run the
// graph. (Files from before 0.1 also stored none for models with optional inputs.)
std::string WhyNoTestVectors() {
  return "`tfreeze freeze` stores them unless run with --no-verify, or when the graph held "
         "unsafe ops it did not run; freeze it again to add them";
}

}  // namespace

VerifyReport Model::Verify() const {
  const internal::Signature& signature = impl_->signature;
  if (signature.verify.cases == 0) {
    throw Error(Code::kFailedPrecondition, "this model file carries no test vectors; " +
                                               WhyNoTestVectors());
  }
  VerifyReport report;
  report.cases = signature.verify.cases;
  report.rtol = signature.verify.rtol;
  report.atol = signature.verify.atol;
  report.passed = true;
  for (int c = 0; c < report.cases; ++c) {
    std::vector<Tensor> inputs;
    std::vector<Feed> feeds;
    inputs.reserve(signature.inputs.size());
    for (std::size_t i = 0; i < signature.inputs.size(); ++i) {
      const std::string node = internal::VerifyNode(c, "input", static_cast<int>(i));
      // An optional input the freezer left unfed has no node: leave it unfed.
      if (signature.inputs[i].info.optional &&
          TF_GraphOperationByName(impl_->graph.get(), node.c_str()) == nullptr) {
        continue;
      }
      inputs.push_back(StoredTensor(impl_->graph.get(), node));  // reserved: no reallocation
      feeds.emplace_back(signature.inputs[i].info.name, inputs.back());
    }
    const std::vector<Tensor> outputs = Run(feeds);
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      const Tensor expected =
          StoredTensor(impl_->graph.get(), internal::VerifyNode(c, "output", static_cast<int>(j)));
      OutputCheck check;
      check.name = signature.outputs[j].info.name;
      check.test_case = c;
      Compare(outputs[j], expected, report.rtol, report.atol, &check);
      report.passed = report.passed && check.passed;
      report.checks.push_back(check);
    }
  }
  return report;
}

}  // namespace tfreeze
