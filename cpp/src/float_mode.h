// The floating-point mode a run executes in. TensorFlow's own thread pools set
// flush-to-zero and denormals-are-zero on every thread they start
// (tsl/platform/threadpool.cc), so with its default executor every kernel runs
// with denormals flushed. The single-threaded executor and caller-thread runs
// execute kernels in the calling thread instead, whose mode is whatever the
// process left there: off by default, on after any library built with
// -ffast-math has loaded. Without this guard the same .pb gave 1e-40 or 0 for a
// denormal depending on the executor and on what the process loaded earlier
// (docs/parity.md, "Flush-to-zero").
#ifndef TFREEZE_SRC_FLOAT_MODE_H_
#define TFREEZE_SRC_FLOAT_MODE_H_

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace tfreeze::internal {

// Sets flush-to-zero and denormals-are-zero on this thread for the scope's
// life, as TensorFlow's pool threads have them, and restores the caller's mode.
// x86-64 only; elsewhere a no-op (TensorFlow's default executor still flushes).
class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals();
  ~ScopedFlushDenormals();
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
#if defined(__SSE2__)
  static constexpr unsigned kModeBits = 0x8000 | 0x0040;  // MXCSR.FTZ | MXCSR.DAZ
  unsigned saved_;
#endif
};

#if defined(__SSE2__)
inline ScopedFlushDenormals::ScopedFlushDenormals() : saved_(_mm_getcsr()) {
  _mm_setcsr(saved_ | kModeBits);
}
// Only the two mode bits go back: exception flags the run raised stay raised.
inline ScopedFlushDenormals::~ScopedFlushDenormals() {
  _mm_setcsr((_mm_getcsr() & ~kModeBits) | (saved_ & kModeBits));
}
#else
inline ScopedFlushDenormals::ScopedFlushDenormals() = default;
inline ScopedFlushDenormals::~ScopedFlushDenormals() = default;
#endif

}  // namespace tfreeze::internal

#endif  // TFREEZE_SRC_FLOAT_MODE_H_
