// The result of replaying the test vectors a frozen file carries.
//
//   tfreeze::VerifyReport report = model.Verify();
//   if (!report.passed) std::cerr << report.checks[0].max_abs << "\n";
#ifndef TFREEZE_VERIFY_H_
#define TFREEZE_VERIFY_H_

#include <string>
#include <vector>

namespace tfreeze {

// One output of one stored case: this runtime's result vs the source model's.
struct OutputCheck {
  std::string name;
  int test_case = 0;
  bool shape_ok = false;
  double max_abs = 0;  // max |actual - expected|
  double max_rel = 0;  // max |actual - expected| / |expected| where |expected| > atol
  bool passed = false;  // shape equal and |actual - expected| <= atol + rtol * |expected|
};

struct VerifyReport {
  bool passed = false;
  int cases = 0;
  double rtol = 0;  // the tolerances the file was frozen with
  double atol = 0;
  std::vector<OutputCheck> checks;
};

}  // namespace tfreeze

#endif  // TFREEZE_VERIFY_H_
