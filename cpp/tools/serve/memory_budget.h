// How much memory requests may hold: each one (--max-request-memory) and all
// of those in flight together (--max-memory-in-flight). What is counted is
// what the server allocates for a request: its body, its decoded inputs, and
// its outputs until the reply is written. TensorFlow's work inside a run is
// not (it is the model's, and bounded by the inputs).
//
//   MemoryBudget budget(MemoryLimits{});
//   RequestMemory memory(budget);
//   memory.Expect(2 * body_size, "the request");  // MemoryRefusal 503: no room now
//   memory.Take(body_size, "the request body");   // MemoryRefusal 413: too large
//   ...                                           // all given back with `memory`
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "tfreeze/errors.h"

namespace tfreeze::serve {

struct MemoryLimits {
  // One request's body and decoded inputs at once; 4x the default body
  // limit, room for float32 values written as "0," (2 bytes for 4).
  std::size_t per_request = std::size_t{256} << 20;
  // Every request in flight together: a few large ones at a time, however
  // many request threads there are.
  std::size_t in_flight = std::size_t{1} << 30;
};

// A request refused for memory: 413 when it alone is over its limit, 503
// when the server holds too much for other requests (retry later).
class MemoryRefusal : public Error {
 public:
  MemoryRefusal(int http_status, const std::string& message);
  int http_status() const { return http_status_; }

 private:
  int http_status_;
};

// Shared by every request; safe from many threads.
class MemoryBudget {
 public:
  explicit MemoryBudget(MemoryLimits limits) : limits_(limits) {}

  const MemoryLimits& limits() const { return limits_; }
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  friend class RequestMemory;
  bool TryTake(std::size_t bytes);
  void Force(std::size_t bytes) { in_flight_.fetch_add(bytes, std::memory_order_relaxed); }
  void Give(std::size_t bytes) { in_flight_.fetch_sub(bytes, std::memory_order_relaxed); }

  const MemoryLimits limits_;
  std::atomic<std::size_t> in_flight_{0};
};

// One request's share; gives everything back when destroyed, and then hands
// freed memory back to the system if the request held a lot (glibc keeps it
// otherwise: the RSS would stay at the request's peak).
class RequestMemory {
 public:
  explicit RequestMemory(MemoryBudget& budget) : budget_(budget) {}
  ~RequestMemory();
  RequestMemory(const RequestMemory&) = delete;
  RequestMemory& operator=(const RequestMemory&) = delete;

  // Takes room in the budget for what the request expects to hold (its body
  // and decoded values), so that a request let in is not refused halfway
  // when others fill the budget: Take() draws on it first. Without this,
  // eight large requests at once under a tight limit each got halfway and
  // all were refused. MemoryRefusal (503) when there is no room.
  void Expect(std::size_t bytes, const std::string& what);
  // Counts `bytes` more for `what` (e.g. "the request body"), or throws
  // MemoryRefusal and counts nothing.
  void Take(std::size_t bytes, const std::string& what);
  // Counts memory already allocated (a run's outputs): never refuses, but
  // the requests that come after see it.
  void Count(std::size_t bytes);
  // Gives back `bytes`, and the room of an expectation not used up.
  void Give(std::size_t bytes);

  std::size_t held() const { return held_; }

 private:
  // Takes room for `held_ + bytes`; false when the budget has none.
  bool Room(std::size_t bytes);
  MemoryRefusal Busy(std::size_t bytes, const std::string& what) const;

  MemoryBudget& budget_;
  std::size_t held_ = 0;      // counted as in use
  std::size_t reserved_ = 0;  // taken from the budget: held_, or more after Expect()
  std::size_t peak_ = 0;
};

// A budget without limits, for callers that do not pass one (tests, tools).
MemoryBudget& UnlimitedBudget();

}  // namespace tfreeze::serve
