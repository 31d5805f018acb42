// The real-world pieces of one moshx process, built the same way by
// `moshx serve` and by the client on a terminal: the monotonic clock, the
// poll(2) event loop on it, and the non-cryptographic random generator
// (chaff lengths, timing jitter) seeded from BoringSSL's RAND_bytes. This is
// the only place cmd/ builds them; everything below cmd/ receives them as
// net::Clock*, net::EventLoop* and absl::BitGenRef.
//
// One ProcessRuntime per process (the loop installs signal handlers); it
// must outlive every user of its clock, loop and generator. Not thread-safe.
#ifndef MOSHX_CMD_SYS_PROCESS_H_
#define MOSHX_CMD_SYS_PROCESS_H_

#include <memory>
#include <random>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "net/poll_event_loop.h"
#include "net/system_clock.h"

namespace moshx::sys {

class ProcessRuntime {
 public:
  // Errors: the loop could not be created (the errno of pipe/fcntl).
  static absl::StatusOr<std::unique_ptr<ProcessRuntime>> Create();

  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  net::SystemClock* clock() { return &clock_; }
  net::PollEventLoop* loop() { return loop_.get(); }
  absl::BitGenRef rng() { return absl::BitGenRef(rng_); }
  // The wall clock, for what must differ between runs of moshx: the first
  // sequence number (net::TimeBasedFirstSequence, docs/protocol.md §3.3).
  absl::Time WallNow() const { return absl::Now(); }

 private:
  ProcessRuntime() = default;

  net::SystemClock clock_;
  std::unique_ptr<net::PollEventLoop> loop_;
  std::mt19937_64 rng_;
};

// A server outlives the ssh session that started it: SIGHUP (that session
// ending) and SIGPIPE (a reader gone) must not end it. Process-wide; call
// first thing, before anything those signals could interrupt.
void IgnoreHangupAndBrokenPipe();

// Gives the pages of freed heap memory back to the system (glibc's
// malloc_trim(0): also the free pages between live blocks, which free(3)
// keeps). A few hundred microseconds on a heap of a few MiB; call it after
// a burst, not per allocation (ServerSessionOptions::release_free_memory).
void ReleaseFreeHeapMemory();

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_PROCESS_H_
