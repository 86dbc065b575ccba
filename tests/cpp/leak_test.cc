// Loading, running and freeing a model many times must not grow the process:
// every TF_Session, TF_Graph, TF_Status and TF_Tensor tfreeze makes is freed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "graph_builder.h"
#include "rss.h"
#include "tfreeze/model.h"

namespace tfreeze {
namespace {

void LoadRunFree(const std::string& graph, const Tensor& x) {
  Model model = Model::FromBytes(graph);
  std::vector<Tensor> outputs = model.Run({{"x", x}});
  ASSERT_FLOAT_EQ(outputs[0].data<float>()[0], 19);
}

// Cycles: TFREEZE_LEAK_CYCLES, default 2,000 (a cycle takes 5-10 ms on a busy
// 2-core machine, so 10,000 would take over a minute of the suite; `make soak`
// runs 10,000).
int Cycles() {
  const char* set = std::getenv("TFREEZE_LEAK_CYCLES");
  return set ? std::atoi(set) : 2000;
}

TEST(LeakTest, LoadRunFreeCyclesKeepResidentMemoryFlat) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so RSS grows by design; LeakSanitizer checks leaks in this build";
#endif
  const std::string graph = testing::AffineGraphDef();
  Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  // Warm-up: TensorFlow's one-off allocations (op registry, device, thread
  // pools, allocator arenas) happen in the first cycles.
  for (int i = 0; i < 200; ++i) LoadRunFree(graph, x);
  const std::int64_t before = testing::ResidentBytes();
  ASSERT_GT(before, 0) << "/proc/self/statm not readable";
  const int cycles = Cycles();
  for (int i = 0; i < cycles; ++i) LoadRunFree(graph, x);
  const std::int64_t growth = testing::ResidentBytes() - before;
  std::cout << "RSS growth over " << cycles << " cycles: " << growth / 1024 << " KiB\n";
  // Leaking one graph, session or status per cycle (each well over 2 KB)
  // would pass this bound within 2,000 cycles.
  EXPECT_LT(growth, 4 << 20) << "RSS grew by " << growth << " bytes over " << cycles << " cycles";
}

}  // namespace
}  // namespace tfreeze
