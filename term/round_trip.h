// term::RoundTrip: checks core::Diff against a real emulator.
//
// A RoundTrip holds a receiving Emulator that shows the framebuffer of the
// previous Step(). Step(next) computes core::Diff(current, next), resizes the
// receiver first if the size changes (as a Resize instruction would), feeds
// the diff, and compares the receiver's whole framebuffer with `next`. It also
// checks that the diff makes the receiver answer nothing (mosh clients abort
// on that) and that Diff(next, next) is empty. More than core::kMaxBells new
// bells in one step are expected to arrive as kMaxBells (core/diff.h).
//
// Used by //term:round_trip_test and //term:diff_round_trip_fuzzer.
// Not thread-safe.
#ifndef MOSHX_TERM_ROUND_TRIP_H_
#define MOSHX_TERM_ROUND_TRIP_H_

#include <string>

#include "core/framebuffer.h"
#include "term/emulator.h"

namespace moshx::term {

class RoundTrip {
 public:
  // The receiver starts as a fresh emulator of this size.
  RoundTrip(int width, int height);

  // Returns "" when the receiver ends up showing exactly `next`; otherwise a
  // readable report (the diff bytes, and both screens' ScreenText when they
  // differ there, else the first differing field).
  std::string Step(const core::Framebuffer& next);

  // The receiver's screen after the last Step().
  const core::Framebuffer& current() const { return current_; }

 private:
  Emulator receiver_;
  core::Framebuffer current_;
};

// Describes how two framebuffers differ ("" if equal), for test output.
std::string DescribeDifference(const core::Framebuffer& want,
                               const core::Framebuffer& got);

}  // namespace moshx::term

#endif  // MOSHX_TERM_ROUND_TRIP_H_
