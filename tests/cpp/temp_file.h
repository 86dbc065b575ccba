// A temporary file of the running test, at a path no other test shares. CTest
// runs each test in its own process, two at a time, and other checkouts on the
// machine may run theirs at once: a fixed name under /tmp is a race.
#ifndef TFREEZE_TESTS_CPP_TEMP_FILE_H_
#define TFREEZE_TESTS_CPP_TEMP_FILE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace tfreeze::testing {

// The path is under ::testing::TempDir(), named after the test and the process
// and ending in `name` (messages that show the path still end in it), e.g.
// /tmp/tfreeze_OptionsFileTest.ReadsTheExecutorOptions_4711_tuned.json. The file,
// if anything made it, is removed when the object goes out of scope.
//
//   const TempFile config("tuned.json");
//   std::ofstream(config.path()) << text;
class TempFile {
 public:
  explicit TempFile(const std::string& name) : path_(UniquePath(name)) {}
  ~TempFile() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove(path_, ignored);
  }
  TempFile(TempFile&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile& operator=(TempFile&&) = delete;

  const std::string& path() const { return path_; }

 private:
  static std::string UniquePath(const std::string& name) {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string owner = test ? std::string(test->test_suite_name()) + "." + test->name() : "none";
    for (char& c : owner) {
      if (c == '/') c = '_';  // parameterized tests: Suite/Name.Test/0
    }
    std::string dir = ::testing::TempDir();
    if (!dir.empty() && dir.back() != '/') dir += '/';
    return dir + "tfreeze_" + owner + "_" + std::to_string(getpid()) + "_" + name;
  }

  std::string path_;
};

}  // namespace tfreeze::testing

#endif  // TFREEZE_TESTS_CPP_TEMP_FILE_H_
