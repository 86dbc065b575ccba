// The process's resident set size, for the leak test and the soak run.
#ifndef TFREEZE_TESTS_CPP_RSS_H_
#define TFREEZE_TESTS_CPP_RSS_H_

#include <unistd.h>

#include <cstdint>
#include <fstream>

namespace tfreeze::testing {

// Resident bytes now (Linux: /proc/self/statm); 0 where that is not readable.
inline std::int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return 0;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

}  // namespace tfreeze::testing

#endif  // TFREEZE_TESTS_CPP_RSS_H_
