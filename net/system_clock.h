// SystemClock: the production Clock, backed by clock_gettime(CLOCK_MONOTONIC).
//
// Only cmd/ (and this class's own test) construct it; everything else takes a
// `const Clock*`. The epoch is the kernel's CLOCK_MONOTONIC origin (boot).
// Thread-safe and stateless.
#ifndef MOSHX_NET_SYSTEM_CLOCK_H_
#define MOSHX_NET_SYSTEM_CLOCK_H_

#include "net/clock.h"

namespace moshx::net {

class SystemClock : public Clock {
 public:
  MonoTime Now() const override;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_SYSTEM_CLOCK_H_
