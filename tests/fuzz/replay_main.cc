// A plain driver for a fuzz target, built by any compiler: runs the seeds (the
// target's built-in ones, then every file of the given corpus directories),
// then random mutations of them (bit flips, byte changes, inserts, deletes,
// truncation, splices) until the time is up, and prints the counts.
//
//   fuzz_load_replay --seconds 10 --seed 1 build/fuzz/corpus
//   fuzz_load_replay --write-seeds DIR     (the built-in seeds as files)
//
// Less clever than libFuzzer (no coverage feedback) but needs no clang, so the
// seconds-long run in `make test` uses it. A crash ends the process; the input
// being run is written first to fuzz-crash-input (or $TFREEZE_FUZZ_CRASH) so it
// can become a regression test.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace {

namespace fs = std::filesystem;
using tfreeze::fuzz::Outcome;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string Mutate(const std::vector<std::string>& pool, std::mt19937_64& rng) {
  std::string data = pool[rng() % pool.size()];
  int edits = 1 + rng() % 8;
  for (int i = 0; i < edits; ++i) {
    std::size_t at = data.empty() ? 0 : rng() % data.size();
    switch (rng() % 6) {
      case 0:  // flip one bit
        if (!data.empty()) data[at] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // set a byte to an interesting value
        if (!data.empty()) {
          static const char kValues[] = {0, 1, 0x7f, static_cast<char>(0x80),
                                         static_cast<char>(0xff)};
          data[at] = kValues[rng() % sizeof(kValues)];
        }
        break;
      case 2:  // insert random bytes
        data.insert(at, std::string(1 + rng() % 4, static_cast<char>(rng())));
        break;
      case 3:  // delete a run
        if (!data.empty()) data.erase(at, 1 + rng() % 8);
        break;
      case 4:  // truncate
        data.resize(at);
        break;
      default: {  // splice in a piece of another input
        const std::string& other = pool[rng() % pool.size()];
        if (other.empty()) break;
        std::size_t from = rng() % other.size();
        data.insert(at, other.substr(from, 1 + rng() % 64));
      }
    }
  }
  return data;
}

struct Counts {
  long executions = 0, ran = 0, typed_errors = 0;
};

void RunOne(const std::string& data, const fs::path& crash_file, Counts& counts) {
  WriteFile(crash_file, data);  // left behind only if this input kills us
  Outcome outcome = tfreeze::fuzz::FuzzOne(
      reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  ++counts.executions;
  ++(outcome == Outcome::kRan ? counts.ran : counts.typed_errors);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::uint64_t seed = 1;
  std::vector<fs::path> corpus_dirs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--write-seeds" && i + 1 < argc) {
      fs::path dir = argv[++i];
      fs::create_directories(dir);
      int n = 0;
      for (const std::string& s : tfreeze::fuzz::BuiltinSeeds())
        WriteFile(dir / ("builtin-" + std::to_string(n++)), s);
      return 0;
    } else {
      corpus_dirs.emplace_back(arg);
    }
  }
  std::vector<std::string> pool = tfreeze::fuzz::BuiltinSeeds();
  for (const fs::path& dir : corpus_dirs) {
    if (!fs::is_directory(dir)) continue;  // the Python-made corpus is optional
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) pool.push_back(ReadFile(entry.path()));
  }
  const char* crash_env = std::getenv("TFREEZE_FUZZ_CRASH");
  fs::path crash_file = crash_env ? crash_env : "fuzz-crash-input";
  Counts counts;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& data : pool) RunOne(data, crash_file, counts);
  std::mt19937_64 rng(seed);
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) RunOne(Mutate(pool, rng), crash_file, counts);
  fs::remove(crash_file);
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "seeds " << pool.size() << ", executions " << counts.executions << " in "
            << elapsed << " s: ran " << counts.ran << ", typed errors " << counts.typed_errors
            << ", crashes 0\n";
  return 0;
}
