// tfreeze-serve: a frozen model behind TF Serving's REST API.
//
//   tfreeze-serve digits.pb [--name digits] [--port 8501]
//   curl -d '{"instances": [[...]]}' localhost:8501/v1/models/digits:predict
//
// cpp-httplib accepts connections and hands each to a pool thread; every
// request runs the one shared tfreeze::Model (Run is safe from many threads).
// What requests hold in memory is capped, each and all together
// (memory_budget.h). SIGTERM or SIGINT stops accepting, closes idle
// keep-alive connections and gives requests in flight --drain-timeout to
// finish (drain.h).
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "drain.h"
#include "memory_budget.h"
#include "rest_api.h"
#include "tfreeze/tfreeze.h"
#include "tool_options.h"

namespace {

constexpr const char* kTool = "tfreeze-serve";

struct ServeOptions {
  std::string name;  // default: the model file's name without .pb
  std::string host = "127.0.0.1";
  int port = 8501;
  std::int64_t version = 1;
  std::size_t max_body_bytes = 64 << 20;
  int timeout_seconds = 30;
  int keep_alive_seconds = 5;
  int drain_seconds = 10;  // well inside Kubernetes' 30 s grace period
  int http_threads = 8;
  tfreeze::serve::MemoryLimits memory;
};

void AddServeOptions(CLI::App& app, ServeOptions& serve) {
  app.add_option("--name", serve.name, "model name in the URLs (default: the file name without .pb)");
  app.add_option("--host", serve.host, "address to listen on (0.0.0.0: every interface)")
      ->capture_default_str();
  app.add_option("--port", serve.port, "TCP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--model-version", serve.version, "the version number the model is served as")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-request-bytes", serve.max_body_bytes,
                 "larger request bodies are refused with 413")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--request-timeout", serve.timeout_seconds,
                 "seconds a client may stall while sending a request or reading the reply")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--keep-alive-timeout", serve.keep_alive_seconds,
                 "seconds an idle keep-alive connection stays open, holding an HTTP thread "
                 "(0: close after every reply)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--drain-timeout", serve.drain_seconds,
                 "seconds requests in flight get to finish after SIGTERM before they are cut "
                 "off (0: none)")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--http-threads", serve.http_threads, "requests handled at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-request-memory", serve.memory.per_request,
                 "bytes one request may hold at once, its body and decoded inputs (over: 413)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-memory-in-flight", serve.memory.in_flight,
                 "bytes all requests in flight may hold together (over: 503, to retry later)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void CheckMemoryLimits(const tfreeze::serve::MemoryLimits& limits) {
  if (limits.in_flight < limits.per_request) {
    throw tfreeze::Error(tfreeze::Code::kInvalidArgument,
                         "--max-memory-in-flight (" + std::to_string(limits.in_flight) +
                             ") is below --max-request-memory (" +
                             std::to_string(limits.per_request) +
                             "): a request that large could never be served");
  }
}

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
// into Debian's library: defining it here changes nothing). When more
// clients than that connect at once, the kernel's queue overflows into SYN
// cookies, and a connection whose cookie fails to check is reset: 1 request
// in 5,000 from 50 keep-alive clients (which reconnect every 5 requests,
// httplib's keep-alive count), with SyncookiesFailed counting each one.
class Server : public httplib::Server {
 public:
  // On a bound socket, listen() again only changes the backlog (Linux); the
  // kernel caps it at net.core.somaxconn.
  void WidenBacklog() {
    if (::listen(svr_sock_, SOMAXCONN) != 0) {
      throw tfreeze::Error(tfreeze::Code::kInternal,
                           std::string("cannot widen the listen backlog: ") + std::strerror(errno));
    }
  }
};

// Why binding failed, from the system (httplib only says that it did).
std::string BindFailure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int lookup = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (lookup != 0) return "cannot resolve host \"" + host + "\": " + gai_strerror(lookup);
  std::string reason = "unknown reason";
  const int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd >= 0) {
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    reason = bind(fd, found->ai_addr, found->ai_addrlen) != 0 ? std::strerror(errno)
                                                               : "it was taken meanwhile";
    close(fd);
  }
  freeaddrinfo(found);
  return "cannot listen on " + host + ":" + std::to_string(port) + ": " + reason +
         (port != 0 ? "; choose another with --port (0: any free port)" : "");
}

// The Content-Length a request declares; 0 when it has none (chunked).
std::size_t DeclaredLength(const httplib::Request& request) {
  const std::string text = request.get_header_value("Content-Length");
  std::size_t length = 0;
  std::from_chars(text.data(), text.data() + text.size(), length);
  return length;
}

// What a request is expected to hold per byte of its body: the body and its
// decoded values, which for float32 values of a few digits take about as
// many bytes as their text (3.5M rows of 4: a 63 MB body, 56 MB of values).
constexpr std::size_t kExpectedBytesPerBodyByte = 2;

// Reads the body, counted against `memory` as it comes (a declared length
// at once, with room for its values). A body refused for memory is still
// read to its end and dropped, so the client gets the 503 (or 413) rather
// than a reset, and the connection can carry its next request. False when
// httplib could not read it (it set the status: 413 over
// --max-request-bytes, 400).
bool ReadBody(const httplib::ContentReader& read, std::size_t declared, std::size_t max_bytes,
              tfreeze::serve::RequestMemory& memory, std::string& body,
              std::optional<tfreeze::serve::MemoryRefusal>& refusal) {
  std::size_t counted = 0;
  const auto refusing = [&](const auto& take) {
    if (refusal) return true;
    try {
      take();
    } catch (const tfreeze::serve::MemoryRefusal& e) {
      refusal = e;
      std::string().swap(body);
    }
    return refusal.has_value();
  };
  const auto count = [&](std::size_t bytes) {
    return refusing([&] {
      if (bytes > counted) memory.Take(bytes - counted, "the request body");
      counted = std::max(counted, bytes);
    });
  };
  if (declared <= max_bytes) {  // a larger one httplib refuses as it reads
    const bool refused = refusing([&] {
      memory.Expect(kExpectedBytesPerBodyByte * declared, "the request body and its values");
    });
    if (!refused && !count(declared)) body.reserve(declared);
  }
  return read([&](const char* data, std::size_t size) {
    if (!count(body.size() + size)) body.append(data, size);
    return true;
  });
}

// Sends a streamed reply with chunked transfer encoding, as it is written.
void SetStream(httplib::Response& response,
               std::function<bool(const tfreeze::serve::ReplySink&)> stream) {
  response.set_chunked_content_provider(
      "application/json", [stream](std::size_t, httplib::DataSink& sink) {
        try {
          const bool sent = stream(
              [&sink](std::string_view piece) { return sink.write(piece.data(), piece.size()); });
          if (sent) sink.done();
          return sent;
        } catch (const std::exception&) {  // httplib does not catch while writing
          return false;                    // the client sees the connection close
        }
      });
}

void Answer(const httplib::Request& request, httplib::Response& response,
            tfreeze::serve::Reply reply) {
  response.status = reply.status;
  if (reply.status == 503) response.set_header("Retry-After", "1");
  if (reply.stream && request.version == "HTTP/1.1") {
    return SetStream(response, std::move(reply.stream));
  }
  if (reply.stream) {  // HTTP/1.0 has no chunked encoding: the reply whole
    reply.stream([&reply](std::string_view piece) {
      reply.body += piece;
      return true;
    });
  }
  response.body = std::move(reply.body);  // set_content would copy it
  response.set_header("Content-Type", "application/json");
}

// A request is in flight from its head, read, to its reply, written: httplib
// calls the logger once the reply is out (and skips it when it could not be
// written; the tracker copes).
void TrackRequests(Server& server, tfreeze::serve::RequestTracker& tracker) {
  server.set_pre_routing_handler([&tracker](const httplib::Request& request, httplib::Response&) {
    tracker.Begin(request.remote_addr + ":" + std::to_string(request.remote_port));
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger(
      [&tracker](const httplib::Request&, const httplib::Response&) { tracker.End(); });
}

void Configure(Server& server, const tfreeze::serve::RestApi& api,
               tfreeze::serve::MemoryBudget& budget, const ServeOptions& serve) {
  // Bodies are read through a content reader: httplib's own reading would
  // refuse form-encoded bodies over 8 KB with 413, and `curl -d` labels its
  // JSON as a form. The reader still enforces --max-request-bytes.
  const auto read_then_reply = [&api, &budget, &serve](const httplib::Request& request,
                                                       httplib::Response& response,
                                                       const httplib::ContentReader& read) {
    if (request.is_multipart_form_data()) {
      return Answer(request, response,
                    {400, tfreeze::serve::ErrorBody("send JSON, not a multipart form")});
    }
    auto memory = std::make_shared<tfreeze::serve::RequestMemory>(budget);
    std::string body;
    std::optional<tfreeze::serve::MemoryRefusal> refusal;
    if (!ReadBody(read, DeclaredLength(request), serve.max_body_bytes, *memory, body, refusal)) {
      return;  // the status says why (413, 400)
    }
    if (refusal) {
      return Answer(request, response,
                    {refusal->http_status(), tfreeze::serve::ErrorBody(refusal->what())});
    }
    Answer(request, response, api.Handle(request.method, request.path, std::move(body), memory));
  };
  server.Get(".*", [&api](const httplib::Request& request, httplib::Response& response) {
    Answer(request, response, api.Handle(request.method, request.path, request.body));
  });
  server.Post(".*", read_then_reply);
  server.Put(".*", read_then_reply);
  server.Patch(".*", read_then_reply);
  server.Delete(".*", read_then_reply);
  // Errors httplib answers itself (413 body too large, 400 unreadable
  // request) get TF Serving's {"error": ...} body too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [&serve](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message =
        response.status == 413
            ? "the request body is over " + std::to_string(serve.max_body_bytes) +
                  " bytes (--max-request-bytes)"
            : "HTTP " + std::to_string(response.status) + ": the request could not be read";
    response.set_content(tfreeze::serve::ErrorBody(message), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  // httplib writes a reply's head and body separately: without TCP_NODELAY,
  // Nagle's algorithm holds the body until the client's delayed ACK (~40 ms).
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(serve.max_body_bytes);
  server.set_read_timeout(serve.timeout_seconds);
  server.set_write_timeout(serve.timeout_seconds);
  // Each idle keep-alive connection holds a pool thread while it waits.
  server.set_keep_alive_timeout(std::max(serve.keep_alive_seconds, 1));
  if (serve.keep_alive_seconds == 0) server.set_keep_alive_max_count(1);
  TrackRequests(server, tfreeze::serve::RequestTracker::Leaked());
  const int threads = serve.http_threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

void Announce(const std::string& name, const ServeOptions& serve, int port, bool json) {
  const std::string url = "http://" + serve.host + ":" + std::to_string(port);
  if (json) {
    std::cout << nlohmann::json{{"model", name}, {"version", serve.version}, {"host", serve.host},
                                {"port", port}, {"url", url}}
                     .dump()
              << std::endl;
  } else {
    std::cout << kTool << ": serving \"" << name << "\" (version " << serve.version << ") at "
              << url << "/v1/models/" << name << " (Ctrl-C to stop)" << std::endl;
  }
}

int Serve(const tfreeze::tools::ToolOptions& tool, ServeOptions serve) {
  CheckMemoryLimits(serve.memory);
  const tfreeze::Model model = tfreeze::Model::Load(tool.model_path, tool.ToOptions());
  if (serve.name.empty()) serve.name = std::filesystem::path(tool.model_path).stem().string();
  const tfreeze::serve::RestApi api(model, serve.name, serve.version);
  tfreeze::serve::MemoryBudget budget(serve.memory);

  Server server;
  Configure(server, api, budget, serve);
  const int port = serve.port == 0 ? server.bind_to_any_port(serve.host)
                                   : (server.bind_to_port(serve.host, serve.port) ? serve.port : -1);
  if (port < 0) throw tfreeze::Error(tfreeze::Code::kUnavailable, BindFailure(serve.host, serve.port));
  server.WidenBacklog();
  tfreeze::serve::StopOnSignals({[&server] { server.stop(); },
                                 &tfreeze::serve::RequestTracker::Leaked(), port,
                                 serve.drain_seconds, kTool});
  Announce(serve.name, serve, port, tool.json);
  server.listen_after_bind();  // returns once stopped and every request is answered
  std::cerr << kTool << ": stopped" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("TF_CPP_MIN_LOG_LEVEL", "2", /*overwrite=*/0);  // TF_CPP_MIN_LOG_LEVEL=0 shows TF's log
  CLI::App app{"Serve a tfreeze .pb over TF Serving's REST API (predict, status, metadata)."};
  tfreeze::tools::ToolOptions tool;
  ServeOptions serve;
  tfreeze::tools::AddToolOptions(app, tool, "model", "--threads");
  AddServeOptions(app, serve);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string(kTool) + ": error: " + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  tfreeze::tools::EnsureConfigEnvironment(tool, kTool, argv);
  return tfreeze::tools::RunReportingErrors(kTool, [&] { return Serve(tool, serve); });
}
