// Monotonic time for the protocol, and the Clock interface that supplies it.
//
// MonoTime is a point on a monotonic clock (CLOCK_MONOTONIC in production,
// virtual time in tests). It is deliberately a type of its own, distinct from
// absl::Time: wall-clock jumps (NTP, suspend/resume of the wall clock) must
// never reach RTO, ack-delay or heartbeat arithmetic. Differences between two
// MonoTimes are absl::Durations.
//
// MonoTime::Infinite() is later than every finite time and stands for
// "never" in timer code (e.g. a scheduler with nothing to send).
//
// Nothing below cmd/ constructs a real clock: code that needs the time takes a
// `const Clock*` (or is handed `now` as an argument) so tests can drive it in
// virtual time (see net/testing/fake_clock.h and simulated_network.h).
//
// Thread-safety: MonoTime is a value type. Clock implementations document
// their own rules; SystemClock is thread-safe.
#ifndef MOSHX_NET_CLOCK_H_
#define MOSHX_NET_CLOCK_H_

#include <cstdint>

#include "absl/time/time.h"

namespace moshx::net {

class MonoTime {
 public:
  // The clock's epoch (an arbitrary fixed point; the origin of virtual time).
  constexpr MonoTime() = default;

  static constexpr MonoTime FromEpoch(absl::Duration since_epoch) {
    return MonoTime(since_epoch);
  }
  static constexpr MonoTime Infinite() {
    return MonoTime(absl::InfiniteDuration());
  }

  constexpr absl::Duration since_epoch() const { return since_epoch_; }
  bool is_infinite() const { return since_epoch_ == absl::InfiniteDuration(); }
  // Whole milliseconds since the epoch (truncated); used for 16-bit
  // timestamps on the wire (docs/protocol.md §4.1).
  int64_t ToMilliseconds() const {
    return absl::ToInt64Milliseconds(since_epoch_);
  }

  MonoTime& operator+=(absl::Duration d) {
    since_epoch_ += d;
    return *this;
  }
  friend MonoTime operator+(MonoTime t, absl::Duration d) { return t += d; }
  friend MonoTime operator-(MonoTime t, absl::Duration d) { return t += -d; }
  friend absl::Duration operator-(MonoTime a, MonoTime b) {
    return a.since_epoch_ - b.since_epoch_;
  }
  friend bool operator==(MonoTime a, MonoTime b) {
    return a.since_epoch_ == b.since_epoch_;
  }
  friend bool operator!=(MonoTime a, MonoTime b) { return !(a == b); }
  friend bool operator<(MonoTime a, MonoTime b) {
    return a.since_epoch_ < b.since_epoch_;
  }
  friend bool operator>(MonoTime a, MonoTime b) { return b < a; }
  friend bool operator<=(MonoTime a, MonoTime b) { return !(b < a); }
  friend bool operator>=(MonoTime a, MonoTime b) { return !(a < b); }

 private:
  constexpr explicit MonoTime(absl::Duration d) : since_epoch_(d) {}
  absl::Duration since_epoch_ = absl::ZeroDuration();
};

// Source of monotonic time. Implementations never go backwards.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_CLOCK_H_
