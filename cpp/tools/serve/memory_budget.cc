#include "memory_budget.h"

#include <algorithm>
#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>  // malloc_trim
#endif

namespace tfreeze::serve {
namespace {

// Below this a request's memory is not worth a trim (which walks the heap).
constexpr std::size_t kTrimAfterBytes = std::size_t{16} << 20;

std::string Bytes(std::size_t bytes) { return std::to_string(bytes) + " bytes"; }

// Large blocks come from mmap and go back when freed, but glibc raises that
// threshold as they are freed (up to 32 MiB), so a large request's middling
// blocks stay in its arenas: this is what kept 0.8-1.5 GB resident after one
// 63 MB request.
void ReturnFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

MemoryRefusal::MemoryRefusal(int http_status, const std::string& message)
    : Error(http_status == 503 ? Code::kUnavailable : Code::kResourceExhausted, message),
      http_status_(http_status) {}

bool MemoryBudget::TryTake(std::size_t bytes) {
  std::size_t held = in_flight_.load(std::memory_order_relaxed);
  do {
    if (bytes > limits_.in_flight || held > limits_.in_flight - bytes) return false;
  } while (!in_flight_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

RequestMemory::~RequestMemory() {
  budget_.Give(reserved_);
  if (peak_ >= kTrimAfterBytes) ReturnFreedMemory();
}

bool RequestMemory::Room(std::size_t bytes) {
  const std::size_t wanted = held_ + bytes;
  if (wanted <= reserved_) return true;
  if (!budget_.TryTake(wanted - reserved_)) return false;
  reserved_ = wanted;
  return true;
}

void RequestMemory::Expect(std::size_t bytes, const std::string& what) {
  bytes = std::min(bytes, budget_.limits().per_request);  // an estimate: Take() enforces the cap
  if (bytes > held_ && !Room(bytes - held_)) throw Busy(bytes - held_, what);
}

void RequestMemory::Take(std::size_t bytes, const std::string& what) {
  const std::size_t cap = budget_.limits().per_request;
  if (bytes > cap || held_ > cap - bytes) {
    throw MemoryRefusal(413, "the request needs over " + Bytes(cap) + " of memory (" + what +
                                 " with what it holds already; --max-request-memory): send " +
                                 "fewer instances per request");
  }
  if (!Room(bytes)) throw Busy(bytes, what);
  held_ += bytes;
  peak_ = std::max(peak_, held_);
}

void RequestMemory::Count(std::size_t bytes) {
  if (held_ + bytes > reserved_) {
    budget_.Force(held_ + bytes - reserved_);
    reserved_ = held_ + bytes;
  }
  held_ += bytes;
  peak_ = std::max(peak_, held_);
}

void RequestMemory::Give(std::size_t bytes) {
  held_ -= std::min(bytes, held_);
  budget_.Give(reserved_ - held_);
  reserved_ = held_;
}

MemoryRefusal RequestMemory::Busy(std::size_t bytes, const std::string& what) const {
  return MemoryRefusal(503, "the server is busy: requests in flight hold " +
                                Bytes(budget_.in_flight()) + " of the " +
                                Bytes(budget_.limits().in_flight) +
                                " they may (--max-memory-in-flight), no room for " + what + " (" +
                                Bytes(bytes) + "); retry later");
}

MemoryBudget& UnlimitedBudget() {
  constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
  static MemoryBudget budget(MemoryLimits{kNoLimit, kNoLimit});
  return budget;
}

}  // namespace tfreeze::serve
