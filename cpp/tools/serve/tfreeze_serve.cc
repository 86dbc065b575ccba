// tfreeze-serve: a frozen model behind TF Serving's REST API.
//
//   tfreeze-serve digits.pb [--name digits] [--port 8501]
//   curl -d '{"instances": [[...]]}' localhost:8501/v1/models/digits:predict
//
// cpp-httplib accepts connections and hands each to a pool thread; every
// request runs the one shared tfreeze::Model (Run is safe from many threads).
// SIGTERM or SIGINT stops accepting, lets requests in flight finish, exits 0.
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

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
  int http_threads = 8;
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
  app.add_option("--http-threads", serve.http_threads, "requests handled at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

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

void Configure(httplib::Server& server, const tfreeze::serve::RestApi& api,
               const ServeOptions& serve) {
  const auto reply = [&api](const httplib::Request& request, const std::string& body,
                            httplib::Response& response) {
    const auto answer = api.Handle(request.method, request.path, body);
    response.status = answer.status;
    response.set_content(answer.body, "application/json");
  };
  // Bodies are read through a content reader: httplib's own reading would
  // refuse form-encoded bodies over 8 KB with 413, and `curl -d` labels its
  // JSON as a form. The reader still enforces --max-request-bytes.
  const auto read_then_reply = [reply](const httplib::Request& request,
                                       httplib::Response& response,
                                       const httplib::ContentReader& read) {
    if (request.is_multipart_form_data()) {
      response.status = 400;
      return response.set_content(tfreeze::serve::ErrorBody("send JSON, not a multipart form"),
                                  "application/json");
    }
    std::string body;
    const bool complete = read([&body](const char* data, std::size_t size) {
      body.append(data, size);
      return true;
    });
    if (complete) reply(request, body, response);  // else the status says why (413, 400)
  };
  server.Get(".*", [reply](const httplib::Request& request, httplib::Response& response) {
    reply(request, request.body, response);
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
  server.set_keep_alive_timeout(serve.timeout_seconds);
  const int threads = serve.http_threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

// SIGTERM/SIGINT may reach any thread (TensorFlow starts its own), so the
// handler only writes the signal to a pipe; a watcher thread reads it and
// stops the server gracefully. A second signal ends the process at once.
int signal_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int signal) {
  const char byte = static_cast<char>(signal);
  [[maybe_unused]] const auto written = write(signal_pipe[1], &byte, 1);
}

void WatchSignals(httplib::Server& server) {
  if (pipe(signal_pipe) != 0) throw std::runtime_error("cannot create a pipe for signals");
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::thread([&server] {
    char signal = 0;
    if (read(signal_pipe[0], &signal, 1) != 1) return;
    std::cerr << kTool << ": " << strsignal(signal)
              << ": finishing requests in flight, then stopping (again to stop now)" << std::endl;
    server.stop();
    if (read(signal_pipe[0], &signal, 1) == 1) std::_Exit(1);
  }).detach();
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
  const tfreeze::Model model = tfreeze::Model::Load(tool.model_path, tool.ToOptions());
  if (serve.name.empty()) serve.name = std::filesystem::path(tool.model_path).stem().string();
  const tfreeze::serve::RestApi api(model, serve.name, serve.version);

  httplib::Server server;
  Configure(server, api, serve);
  const int port = serve.port == 0 ? server.bind_to_any_port(serve.host)
                                   : (server.bind_to_port(serve.host, serve.port) ? serve.port : -1);
  if (port < 0) throw tfreeze::Error(tfreeze::Code::kUnavailable, BindFailure(serve.host, serve.port));
  WatchSignals(server);
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
