// How tfreeze-serve stops on SIGTERM or SIGINT: at once for idle connections,
// after at most --drain-timeout for requests in flight.
//
//   RequestTracker& tracker = RequestTracker::Leaked();
//   // each request: tracker.Begin(peer) once its head is read, End(peer) once answered
//   StopOnSignals({[&server] { server.stop(); }, &tracker, port, 10, "tfreeze-serve"});
//
// cpp-httplib's stop() only closes the listening socket: each pool thread then
// finishes its connection, and one waiting for a keep-alive client's next
// request waits the whole keep-alive timeout. httplib does not tell which
// connection is idle, so the tracker counts requests from their head to their
// reply, and the connections to the server's port that carry none are shut
// down, which wakes their threads.
#ifndef TFREEZE_TOOLS_SERVE_DRAIN_H_
#define TFREEZE_TOOLS_SERVE_DRAIN_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace tfreeze::serve {

// The peers ("address:port", as httplib's Request names them) whose
// connection is in the middle of a request, one per HTTP thread.
class RequestTracker {
 public:
  // Never destroyed: the signal watcher may still use it while the process exits.
  static RequestTracker& Leaked();

  void Begin(const std::string& peer);
  void End();

  // Shuts down the connections accepted on `port` that carry no request and
  // have nothing waiting to be read; returns how many carry a request.
  int CloseIdle(int port);

 private:
  bool IsBusy(const std::string& peer);

  std::mutex mutex_;
  std::map<std::thread::id, std::string> busy_;
};

struct StopPlan {
  std::function<void()> stop_accepting;
  RequestTracker* tracker = nullptr;
  int port = 0;
  int drain_seconds = 10;
  const char* tool = "";
};

// Installs the SIGTERM and SIGINT handlers and a thread that carries out
// `plan` on the first signal. The process then ends by itself once every
// request is answered, or is ended by that thread: exit 1 after the drain
// timeout with requests still in flight (they are cut off, a run that never
// returns included), or at once on a second signal.
void StopOnSignals(StopPlan plan);

}  // namespace tfreeze::serve

#endif  // TFREEZE_TOOLS_SERVE_DRAIN_H_
