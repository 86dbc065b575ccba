#include "drain.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <vector>

namespace tfreeze::serve {
namespace {

using Clock = std::chrono::steady_clock;

// How often connections are looked at while draining: one that finishes its
// request is closed by httplib, one whose client stalls before its request's
// head is complete (so carries no request yet) is closed here.
constexpr int kSweepMilliseconds = 50;

// With no request left in flight the process ends by itself once httplib's
// threads have closed their connections; this bounds that wait too.
constexpr auto kCloseGrace = std::chrono::seconds(1);

int PortOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// "address:port" of the client on `fd` when it is a connection accepted on
// `port`, spelt as httplib spells Request::remote_addr (numeric host).
std::optional<std::string> PeerOn(int fd, int port) {
  sockaddr_storage local{}, peer{};
  socklen_t local_size = sizeof local, peer_size = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) return {};
  if (PortOf(local) != port) return {};
  // The listening socket (closed by now anyway) has no peer.
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) return {};
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&peer), peer_size, host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return {};
  }
  return std::string(host) + ":" + std::to_string(PortOf(peer));
}

// httplib keeps its sockets to itself: the open ones are found by number.
std::vector<int> OpenDescriptors() {
  std::vector<int> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    const std::string name = entry.path().filename().string();
    int fd = -1;
    const auto [end, failure] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (failure == std::errc() && end == name.data() + name.size()) found.push_back(fd);
  }
  return found;
}

// A request whose first bytes came but are not read yet is about to begin.
bool HasUnreadBytes(int fd) {
  int unread = 0;
  return ioctl(fd, FIONREAD, &unread) == 0 && unread > 0;
}

// The handler runs on whichever thread the signal lands on (TensorFlow starts
// its own), so it only writes the signal to a pipe the watcher reads.
int signal_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int signal) {
  const char byte = static_cast<char>(signal);
  [[maybe_unused]] const auto written = write(signal_pipe[1], &byte, 1);
}

// The signal that came within `milliseconds` (-1: however long), or 0.
// Retrying on EINTR is the caller's: the signal's byte is then in the pipe.
int NextSignal(int milliseconds) {
  pollfd readable{signal_pipe[0], POLLIN, 0};
  if (poll(&readable, 1, milliseconds) != 1) return 0;
  char signal = 0;
  return read(signal_pipe[0], &signal, 1) == 1 ? signal : 0;
}

std::string Requests(int count) {
  return std::to_string(count) + (count == 1 ? " request" : " requests");
}

[[noreturn]] void Exit(const StopPlan& plan, int code) {
  std::cerr << plan.tool << ": stopped" << std::endl;
  std::cout.flush();
  std::_Exit(code);  // threads stuck in a model run cannot be joined
}

// Closes idle connections until the drain time is up; once no request is in
// flight, the main thread's return from listen_after_bind ends the process
// first, normally.
[[noreturn]] void Drain(const StopPlan& plan) {
  plan.stop_accepting();
  const auto deadline = Clock::now() + std::chrono::seconds(plan.drain_seconds);
  for (;;) {
    const int in_flight = plan.tracker->CloseIdle(plan.port);
    const auto now = Clock::now();
    if (in_flight > 0 && now >= deadline) {
      std::cerr << plan.tool << ": --drain-timeout " << plan.drain_seconds << " s passed: cut off "
                << Requests(in_flight) << " in flight" << std::endl;
      Exit(plan, 1);
    }
    if (in_flight == 0 && now >= deadline + kCloseGrace) Exit(plan, 0);
    if (const int signal = NextSignal(kSweepMilliseconds); signal != 0) {
      std::cerr << plan.tool << ": " << strsignal(signal) << " again: cut off "
                << Requests(in_flight) << " in flight" << std::endl;
      Exit(plan, 1);
    }
  }
}

}  // namespace

RequestTracker& RequestTracker::Leaked() {
  static RequestTracker* const tracker = new RequestTracker;
  return *tracker;
}

// A thread serves one request at a time: its entry is replaced by its next
// request even when httplib skipped End (a reply it could not write).
void RequestTracker::Begin(const std::string& peer) {
  const std::lock_guard<std::mutex> lock(mutex_);
  busy_[std::this_thread::get_id()] = peer;
}

void RequestTracker::End() {
  const std::lock_guard<std::mutex> lock(mutex_);
  busy_.erase(std::this_thread::get_id());
}

bool RequestTracker::IsBusy(const std::string& peer) {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [thread, busy_peer] : busy_) {
    if (busy_peer == peer) return true;
  }
  return false;
}

// Counting only connections still open leaves out entries End missed.
int RequestTracker::CloseIdle(int port) {
  int in_flight = 0;
  for (const int fd : OpenDescriptors()) {
    const std::optional<std::string> peer = PeerOn(fd, port);
    if (!peer) continue;
    if (IsBusy(*peer)) {
      ++in_flight;
    } else if (!HasUnreadBytes(fd)) {
      shutdown(fd, SHUT_RDWR);  // its thread sees the end and closes it
    }
  }
  return in_flight;
}

void StopOnSignals(StopPlan plan) {
  if (pipe(signal_pipe) != 0) throw std::runtime_error("cannot create a pipe for signals");
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::thread([plan = std::move(plan)] {
    int signal = 0;
    while (signal == 0) signal = NextSignal(-1);  // 0 too when a signal interrupted poll
    std::cerr << plan.tool << ": " << strsignal(signal)
              << ": closing idle connections, finishing requests in flight for up to "
              << plan.drain_seconds << " s (--drain-timeout; again to stop now)" << std::endl;
    Drain(plan);
  }).detach();
}

}  // namespace tfreeze::serve
