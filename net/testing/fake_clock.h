// FakeClock: a Clock whose time moves only when a test says so.
//
// Starts at the epoch (or a given time). Advance() and SetTime() move it
// forward; moving it backwards is a programming error (asserted), because
// no Clock may go backwards. Not thread-safe. testonly.
#ifndef MOSHX_NET_TESTING_FAKE_CLOCK_H_
#define MOSHX_NET_TESTING_FAKE_CLOCK_H_

#include <cassert>

#include "net/clock.h"

namespace moshx::net::testing {

class FakeClock : public Clock {
 public:
  FakeClock() = default;
  explicit FakeClock(MonoTime start) : now_(start) {}

  MonoTime Now() const override { return now_; }

  void Advance(absl::Duration d) {
    assert(d >= absl::ZeroDuration());
    now_ += d;
  }
  void SetTime(MonoTime t) {
    assert(t >= now_);
    now_ = t;
  }

 private:
  MonoTime now_;
};

}  // namespace moshx::net::testing

#endif  // MOSHX_NET_TESTING_FAKE_CLOCK_H_
