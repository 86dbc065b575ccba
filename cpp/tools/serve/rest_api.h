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
#pragma once

#include <cstdint>
#include <regex>
#include <string>
#include <string_view>

#include "tfreeze/errors.h"
#include "tfreeze/model.h"

namespace tfreeze::serve {

struct Reply {
  int status = 200;
  std::string body;  // JSON
};

// The HTTP status TF Serving answers a TensorFlow error code with.
int HttpStatus(Code code);

// {"error": "MESSAGE"}
std::string ErrorBody(const std::string& message);

class RestApi {
 public:
  RestApi(const Model& model, std::string name, std::int64_t version);

  Reply Handle(const std::string& method, const std::string& path, std::string_view body) const;

 private:
  std::string Dispatch(const std::string& method, const std::string& path,
                       std::string_view body) const;
  void FindServable(const std::string& name, const std::string& version,
                    const std::string& label) const;
  std::string Status() const;
  std::string Metadata() const;
  std::string Predict(std::string_view body) const;

  const Model& model_;
  std::string name_;
  std::int64_t version_;
  std::regex predict_path_;
  std::regex status_path_;
};

}  // namespace tfreeze::serve
