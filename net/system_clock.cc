#include "net/system_clock.h"

#include <time.h>

namespace moshx::net {

MonoTime SystemClock::Now() const {
  struct timespec ts;
  // CLOCK_MONOTONIC cannot fail on Linux with a valid pointer.
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return MonoTime::FromEpoch(absl::Seconds(ts.tv_sec) +
                             absl::Nanoseconds(ts.tv_nsec));
}

}  // namespace moshx::net
