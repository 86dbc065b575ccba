// libFuzzer's entry point for a target (clang -fsanitize=fuzzer).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tfreeze::fuzz::FuzzOne(data, size);
  return 0;
}
