// The interface every fuzz target implements, so that one source builds both
// as a libFuzzer binary (clang, `make fuzz`) and as a plain replay-and-mutate
// harness (any compiler, the seconds-long run in `make test`).
#ifndef TFREEZE_TESTS_FUZZ_FUZZ_TARGET_H_
#define TFREEZE_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tfreeze::fuzz {

// What one input did. Anything else (an exception that is not a
// tfreeze::Error, a crash, an abort inside TensorFlow) is a finding: the
// target lets it end the process.
enum class Outcome { kRan, kTypedError };

// Runs one input through the code under test.
Outcome FuzzOne(const std::uint8_t* data, std::size_t size);

// Valid inputs to start from when no corpus directory is given.
std::vector<std::string> BuiltinSeeds();

}  // namespace tfreeze::fuzz

#endif  // TFREEZE_TESTS_FUZZ_FUZZ_TARGET_H_
