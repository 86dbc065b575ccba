#include "predict_request.h"

#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "json_tensors.h"
#include "tensor_builder.h"
#include "tfreeze/errors.h"

namespace tfreeze::serve {
namespace {

using nlohmann::json;

std::string JoinNames(const std::vector<TensorInfo>& infos) {
  std::string names;
  for (const auto& info : infos) names += (names.empty() ? "" : ", ") + info.name;
  return names;
}

// One JSON event, as the sections below see it.
struct Event {
  enum Kind { kOpen, kClose, kKey, kValue } kind;
  int depth;  // of the value (kOpen, kValue), of the closed container, or inside the object (kKey)
  bool is_object = false;
  const std::string* key = nullptr;
  json* value = nullptr;
};

// nlohmann's SAX handler for a predict body; see ReadPredictRequest for the
// order in which faults are told.
class PredictReader {
 public:
  PredictReader(const Model& model, RequestMemory& memory)
      : model_(model), memory_(memory), builders_(model.inputs().size()) {}

  bool null() { return OnValue(json(nullptr)); }
  bool boolean(bool value) { return OnValue(json(value)); }
  bool number_integer(std::int64_t value) { return OnValue(json(value)); }
  bool number_unsigned(std::uint64_t value) { return OnValue(json(value)); }
  bool number_float(double value, const std::string&) { return OnValue(json(value)); }
  bool string(std::string& value) { return OnValue(json(std::move(value))); }
  bool binary(json::binary_t&) { return OnValue(json()); }  // not in JSON text
  bool start_object(std::size_t) { return Dispatch({Event::kOpen, depth_++, true}); }
  bool start_array(std::size_t) { return Dispatch({Event::kOpen, depth_++, false}); }
  bool end_object() { return Dispatch({Event::kClose, --depth_}); }
  bool end_array() { return Dispatch({Event::kClose, --depth_}); }
  bool key(std::string& key) { return Dispatch({Event::kKey, depth_, false, &key}); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    parse_error_ = ParseErrorMessage(e.what());
    return false;
  }

  PredictRequest Finish();

 private:
  enum class Section { kOther, kSignature, kInstances, kInputs };
  enum class Form { kUnknown, kPlain, kNamed };

  bool OnValue(json value) {
    Event event{Event::kValue, depth_};
    event.value = &value;
    return Dispatch(event);
  }
  bool Dispatch(const Event& event);
  void StartSection(const std::string& key);
  void Signature(const Event& event);
  void Instances(const Event& event);
  void Inputs(const Event& event);
  // The first event of an instance, or the one after an instance's "{".
  void StartInstance(const Event& event);
  void ResolveInstanceObject(const Event& event);
  void NamedInstanceKey(const std::string& key);
  void EndNamedInstance();
  void ResolveInputsObject(const Event& event);
  void NamedInputKey(const std::string& key);
  // Feeds the value being read; true when the event ended it.
  bool Forward(const Event& event);
  void EndValue();

  std::optional<std::size_t> FindInput(const std::string& name) const;
  std::size_t InputIndex(const std::string& name) const;
  TensorBuilder& OnlyInput(const char* key);
  TensorBuilder& NewBuilder(std::size_t index, bool stacked);
  void RequireAll(const std::vector<bool>& given, const std::string& where) const;
  [[noreturn]] void Refuse(const std::string& message) const { throw InputError(message); }
  std::string Instance() const { return "instance " + std::to_string(instances_); }

  const Model& model_;
  RequestMemory& memory_;
  int depth_ = 0;  // containers open in the text
  Section section_ = Section::kOther;
  // Faults, told in this order after parsing (see ReadPredictRequest).
  std::string parse_error_;
  bool not_object_ = false;
  std::string signature_error_;
  bool has_instances_ = false;
  bool has_inputs_ = false;
  std::exception_ptr value_error_;
  // The values of the section being read.
  std::vector<std::unique_ptr<TensorBuilder>> builders_;  // by input index
  ValueReader reader_;
  bool in_value_ = false;             // reader_ has a value
  TensorBuilder* reading_ = nullptr;  // which goes here (none: an unknown name's, skipped)
  bool pending_object_ = false;       // after a "{" that may be {"b64": ...}
  Form form_ = Form::kUnknown;
  std::int64_t instances_ = 0;        // instances read whole
  std::vector<bool> named_;           // inputs the current instance (or 'inputs') names
  std::set<std::string> keys_;        // the names the current instance gives, known or not
  std::set<std::string> first_keys_;  // and those instance 0 gave
};

bool PredictReader::Dispatch(const Event& event) {
  if (event.depth == 0) {
    if (event.kind != Event::kClose) not_object_ = not_object_ || !event.is_object;
    return true;
  }
  if (not_object_) return true;
  if (event.kind == Event::kKey && event.depth == 1) {
    StartSection(*event.key);
    return true;
  }
  const bool values = section_ == Section::kInstances || section_ == Section::kInputs;
  if (values && value_error_) return true;
  try {
    if (section_ == Section::kSignature) Signature(event);
    if (section_ == Section::kInstances) Instances(event);
    if (section_ == Section::kInputs) Inputs(event);
  } catch (...) {
    value_error_ = std::current_exception();
    for (auto& builder : builders_) builder.reset();  // their memory back at once
  }
  return true;
}

void PredictReader::StartSection(const std::string& key) {
  section_ = key == "signature_name" ? Section::kSignature
             : key == "instances"    ? Section::kInstances
             : key == "inputs"       ? Section::kInputs
                                     : Section::kOther;
  if (section_ == Section::kSignature) signature_error_.clear();  // the last one counts
  if (section_ != Section::kInstances && section_ != Section::kInputs) return;
  (section_ == Section::kInstances ? has_instances_ : has_inputs_) = true;
  for (auto& builder : builders_) builder.reset();  // a repeated key: the last one counts
  if (has_instances_ && has_inputs_) {
    value_error_ = std::make_exception_ptr(InputError("both given"));  // told as a form fault
    return;
  }
  value_error_ = nullptr;
  in_value_ = false;
  pending_object_ = false;
  form_ = Form::kUnknown;
  instances_ = 0;
  first_keys_.clear();
}

void PredictReader::Signature(const Event& event) {
  if (event.depth != 1 || event.kind == Event::kClose) return;
  if (event.kind != Event::kValue || !event.value->is_string()) {
    signature_error_ = "'signature_name' must be a string";
    return;
  }
  const auto& name = event.value->get_ref<const std::string&>();
  if (!name.empty() && name != "serving_default") {
    signature_error_ = "Serving signature name: \"" + name +
                       "\" not found in signature def; this model has one: serving_default";
  }
}

void PredictReader::Instances(const Event& event) {
  const char* kNotAList = "'instances' must be a non-empty list (one item per instance)";
  if (in_value_) {
    if (Forward(event)) EndValue();
  } else if (pending_object_) {
    ResolveInstanceObject(event);
  } else if (event.depth == 1 && event.kind == Event::kClose) {
    if (instances_ == 0) Refuse(kNotAList);
    for (const auto& key : first_keys_) InputIndex(key);  // unknown names, told last as before
  } else if (event.depth == 1) {
    if (event.kind != Event::kOpen || event.is_object) Refuse(kNotAList);
  } else if (event.depth == 2 && event.kind == Event::kClose) {
    EndNamedInstance();
  } else if (event.depth == 2) {
    StartInstance(event);
  } else if (event.depth == 3 && event.kind == Event::kKey) {
    NamedInstanceKey(*event.key);
  }
}

void PredictReader::StartInstance(const Event& event) {
  if (event.kind == Event::kOpen && event.is_object) {
    pending_object_ = true;  // named inputs, or one {"b64": ...} value
    return;
  }
  if (form_ == Form::kNamed) {
    Refuse(Instance() + " does not name the same inputs as instance 0 (every instance must)");
  }
  form_ = Form::kPlain;
  reading_ = &OnlyInput("instances");
  reading_->StartInstance();
  reader_.Start(reading_);
  in_value_ = true;
  if (Forward(event)) EndValue();
}

void PredictReader::ResolveInstanceObject(const Event& event) {
  pending_object_ = false;
  const bool b64 = event.kind == Event::kKey && *event.key == "b64";
  if (b64 && form_ != Form::kNamed) {
    form_ = Form::kPlain;
    reading_ = &OnlyInput("instances");
    reading_->StartInstance();
    in_value_ = true;
    return reader_.StartAfterB64Key(reading_);
  }
  if (form_ == Form::kPlain) Refuse(Instance() + " is an object, instance 0 is not");
  if (b64)
    Refuse(Instance() + " does not name the same inputs as instance 0 (every instance must)");
  form_ = Form::kNamed;
  named_.assign(builders_.size(), false);
  keys_.clear();
  if (event.kind == Event::kKey) return NamedInstanceKey(*event.key);
  EndNamedInstance();  // {}
}

void PredictReader::NamedInstanceKey(const std::string& key) {
  const char* kNotTheSame = " does not name the same inputs as instance 0 (every instance must)";
  if (!keys_.insert(key).second) Refuse(Instance() + " names input \"" + key + "\" twice");
  if (instances_ > 0 && first_keys_.count(key) == 0) Refuse(Instance() + kNotTheSame);
  const std::optional<std::size_t> index = FindInput(key);
  reading_ = nullptr;  // an unknown name: its value is skipped, the name told at the end
  if (index) {
    named_[*index] = true;
    if (instances_ == 0) NewBuilder(*index, /*stacked=*/true);
    reading_ = builders_[*index].get();
    reading_->StartInstance();
  }
  reader_.Start(reading_);
  in_value_ = true;
}

void PredictReader::EndNamedInstance() {
  if (instances_ == 0) {
    RequireAll(named_, "instance 0");
    first_keys_ = keys_;
  } else if (keys_ != first_keys_) {
    Refuse(Instance() + " does not name the same inputs as instance 0 (every instance must)");
  }
  ++instances_;
}

void PredictReader::Inputs(const Event& event) {
  if (in_value_) {
    if (Forward(event)) EndValue();
  } else if (pending_object_) {
    ResolveInputsObject(event);
  } else if (event.depth == 1 && event.kind == Event::kOpen && event.is_object) {
    pending_object_ = true;  // named inputs, or one {"b64": ...} value
  } else if (event.depth == 1 && event.kind == Event::kClose) {
    RequireAll(named_, "'inputs'");  // the end of the object of named inputs
  } else if (event.depth == 1) {
    reading_ = &OnlyInput("inputs");
    reader_.Start(reading_);
    in_value_ = true;
    if (Forward(event)) EndValue();
  } else if (event.depth == 2 && event.kind == Event::kKey) {
    NamedInputKey(*event.key);
  }
}

void PredictReader::ResolveInputsObject(const Event& event) {
  pending_object_ = false;
  named_.assign(builders_.size(), false);
  if (event.kind == Event::kKey && *event.key == "b64") {
    reading_ = &OnlyInput("inputs");
    in_value_ = true;
    return reader_.StartAfterB64Key(reading_);
  }
  if (event.kind == Event::kKey) return NamedInputKey(*event.key);
  RequireAll(named_, "'inputs'");  // {}
}

void PredictReader::NamedInputKey(const std::string& key) {
  const std::size_t index = InputIndex(key);
  named_[index] = true;
  reading_ = &NewBuilder(index, /*stacked=*/false);  // a repeated name: the last one counts
  reader_.Start(reading_);
  in_value_ = true;
}

bool PredictReader::Forward(const Event& event) {
  switch (event.kind) {
    case Event::kOpen:
      return reader_.Open(event.is_object);
    case Event::kClose:
      return reader_.Close();
    case Event::kKey:
      reader_.Key(*event.key);
      return false;
    case Event::kValue:
      return reader_.Value(std::move(*event.value));
  }
  return false;
}

void PredictReader::EndValue() {
  in_value_ = false;
  if (section_ != Section::kInstances) return;
  if (reading_ != nullptr) reading_->EndInstance();
  if (form_ == Form::kPlain) ++instances_;
}

std::optional<std::size_t> PredictReader::FindInput(const std::string& name) const {
  const auto& inputs = model_.inputs();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name == name) return i;
  }
  return std::nullopt;
}

std::size_t PredictReader::InputIndex(const std::string& name) const {
  const auto index = FindInput(name);
  if (!index) {
    Refuse("unknown input \"" + name +
           "\"; this model's inputs are: " + JoinNames(model_.inputs()));
  }
  return *index;
}

TensorBuilder& PredictReader::OnlyInput(const char* key) {
  const bool instances = std::string(key) == "instances";
  if (model_.inputs().size() != 1) {
    Refuse(std::string(key) + " holds plain values, but this model has several inputs (" +
           JoinNames(model_.inputs()) + "): name them in " +
           (instances ? "one object per instance" : "an object"));
  }
  if (builders_[0] == nullptr) NewBuilder(0, /*stacked=*/instances);
  return *builders_[0];
}

TensorBuilder& PredictReader::NewBuilder(std::size_t index, bool stacked) {
  builders_[index] = std::make_unique<TensorBuilder>(model_.inputs()[index], memory_, stacked);
  return *builders_[index];
}

void PredictReader::RequireAll(const std::vector<bool>& given, const std::string& where) const {
  const auto& inputs = model_.inputs();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].optional && !given[i]) {
      Refuse("missing input \"" + inputs[i].name + "\" in " + where +
             "; this model's inputs are: " + JoinNames(inputs));
    }
  }
}

PredictRequest PredictReader::Finish() {
  if (!parse_error_.empty()) throw InputError(parse_error_);
  if (not_object_) throw InputError("the request body must be a JSON object");
  if (!signature_error_.empty()) throw InputError(signature_error_);
  if (has_instances_ == has_inputs_) {
    throw InputError(has_instances_ ? "give either 'instances' or 'inputs', not both"
                                    : "Missing 'inputs' or 'instances' key");
  }
  if (value_error_) std::rethrow_exception(value_error_);
  PredictRequest request;
  request.row_format = has_instances_;
  for (std::size_t i = 0; i < builders_.size(); ++i) {
    if (builders_[i] == nullptr) continue;
    request.names.push_back(model_.inputs()[i].name);
    request.tensors.push_back(builders_[i]->Finish());
    request.bytes += builders_[i]->bytes();
    builders_[i].reset();
  }
  return request;
}

}  // namespace

std::vector<Feed> PredictRequest::Feeds() const {
  std::vector<Feed> feeds;
  for (std::size_t i = 0; i < names.size(); ++i) feeds.emplace_back(names[i], tensors[i]);
  return feeds;
}

PredictRequest ReadPredictRequest(std::string_view body, const Model& model,
                                  RequestMemory& memory) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InputError("JSON Parse error: the request body is empty");
  }
  PredictReader reader(model, memory);
  ParseJsonEvents(body, &reader);
  return reader.Finish();
}

}  // namespace tfreeze::serve
