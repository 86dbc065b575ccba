// TF Serving's REST API for one tfreeze::Model, apart from any HTTP server:
// a request (method, path, body) in, a status code and a JSON body out.
//
//   tfreeze::serve::RestApi api(model, "digits", 1);
//   auto reply = api.Handle("POST", "/v1/models/digits:predict",
//                           R"({"instances": [[0.5, 1.0]]})");
//   // reply.status == 200, reply.body == {"predictions": [...]}
//
// Endpoints: GET /v1/models/NAME[/versions/V] (status),
// GET /v1/models/NAME[/versions/V]/metadata (signature),
// POST /v1/models/NAME[/versions/V]:predict (row "instances" or columnar
// "inputs"), GET /healthz. Errors are {"error": "..."} with the HTTP code TF
// Serving gives the same TensorFlow error code (400 bad input, 404 unknown
// model or version, ...). Handle() is safe to call from many threads.
//
// A large prediction is read without a DOM and answered in pieces, so one
// request holds about its decoded values at a time (predict_request.h,
// reply_writer.h); what it holds counts against a RequestMemory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <utility>

#include "memory_budget.h"
#include "reply_writer.h"
#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze::serve {

struct Reply {
  Reply() = default;
  Reply(int status_code, std::string json) : status(status_code), body(std::move(json)) {}

  int status = 200;
  std::string body;  // JSON, unless `stream` is set
  // Set instead of `body` for a large prediction: writes the JSON in pieces.
  // Holds the outputs, and their share of the request's memory, until it is
  // destroyed.
  std::function<bool(const ReplySink&)> stream;
};

// The HTTP status TF Serving answers a TensorFlow error code with.
int HttpStatus(Code code);

// {"error": "MESSAGE"}
std::string ErrorBody(const std::string& message);

class RestApi {
 public:
  RestApi(const Model& model, std::string name, std::int64_t version);

  // Replies whole (tests, callers without an HTTP server).
  Reply Handle(const std::string& method, const std::string& path, std::string body) const;
  // The server's: `memory` counts the body already (as it was read); the body
  // is freed once parsed, before the model runs, and a large prediction
  // comes back as a stream. A request refused for memory gets 413 or 503.
  Reply Handle(const std::string& method, const std::string& path, std::string body,
               std::shared_ptr<RequestMemory> memory) const;

 private:
  Reply Respond(const std::string& method, const std::string& path, std::string body,
                const std::shared_ptr<RequestMemory>& memory, bool may_stream) const;
  Reply Dispatch(const std::string& method, const std::string& path, std::string body,
                 const std::shared_ptr<RequestMemory>& memory, bool may_stream) const;
  void FindServable(const std::string& name, const std::string& version,
                    const std::string& label) const;
  std::string Status() const;
  std::string Metadata() const;
  Reply Predict(std::string body, const std::shared_ptr<RequestMemory>& memory,
                bool may_stream) const;

  const Model& model_;
  std::string name_;
  std::int64_t version_;
  std::regex predict_path_;
  std::regex status_path_;
};

}  // namespace tfreeze::serve
