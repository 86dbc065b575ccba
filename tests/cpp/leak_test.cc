// Loading, running and freeing a model many times must not grow the process:
// every TF_Session, TF_Graph, TF_Status and TF_Tensor tfreeze makes is freed.
#include <gtest/gtest.h>

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

TEST(LeakTest, TenThousandLoadRunFreeCyclesKeepResidentMemoryFlat) {
  const std::string graph = testing::AffineGraphDef();
  Tensor x = Tensor::FromVector<float>({1, 3}, {1, 1, 1});
  // Warm-up: TensorFlow's one-off allocations (op registry, device, thread
  // pools, allocator arenas) happen in the first cycles.
  for (int i = 0; i < 500; ++i) LoadRunFree(graph, x);
  const std::int64_t before = testing::ResidentBytes();
  ASSERT_GT(before, 0) << "/proc/self/statm not readable";
  for (int i = 0; i < 10000; ++i) LoadRunFree(graph, x);
  const std::int64_t growth = testing::ResidentBytes() - before;
  // A leak of one small graph (~1 KB) per cycle alone would add ~10 MB.
  EXPECT_LT(growth, 4 << 20) << "RSS grew by " << growth << " bytes over 10,000 cycles";
}

}  // namespace
}  // namespace tfreeze
