// EventLoop: the single-threaded reactor every moshx process runs on.
//
// One loop per process drives everything: readable file descriptors (UDP
// sockets, the tty, the pty), one-shot alarms at MonoTimes, and POSIX signals
// (delivered as ordinary callbacks on the loop thread, never inside a signal
// handler). The production implementation is PollEventLoop (poll(2) plus a
// self-pipe); tests use net::testing::SimulatedNetwork, which implements the
// same interface in virtual time.
//
// Callbacks run on the thread that calls RunOnce(), one at a time. They may
// call any method of the loop, including watching/unwatching descriptors and
// scheduling/cancelling alarms (a cancelled alarm that has not run yet will
// not run). Watches are level-triggered: a readable descriptor's callback runs
// on every RunOnce() until the data is consumed.
//
// Ownership: the loop does not own descriptors; whoever watches a descriptor
// must UnwatchFd() it before closing it. Callbacks are owned by the loop until
// unwatched/fired/cancelled.
//
// Thread-safety: none; all calls on the loop thread.
#ifndef MOSHX_NET_EVENT_LOOP_H_
#define MOSHX_NET_EVENT_LOOP_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/clock.h"

namespace moshx::net {

class EventLoop {
 public:
  // Bits for WatchFd's `events` and the callback's argument.
  static constexpr uint32_t kReadable = 1;
  static constexpr uint32_t kWritable = 2;
  // Reported only (POLLERR/POLLHUP/POLLNVAL); cannot be requested.
  static constexpr uint32_t kError = 4;

  using FdCallback = std::function<void(uint32_t events)>;
  using AlarmId = uint64_t;  // 0 is never a valid id.

  virtual ~EventLoop() = default;

  // Calls `callback` whenever `fd` has any of `events`. Watching an fd that is
  // already watched replaces its events and callback. Returns InvalidArgument
  // for a negative fd or an fd this loop cannot watch (the simulated loop
  // only knows its own sockets).
  virtual absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) = 0;
  // Stops watching `fd`; a no-op if it is not watched.
  virtual void UnwatchFd(int fd) = 0;

  // Runs `callback` once, at the first RunOnce() at or after `deadline`.
  // Alarms with equal deadlines run in scheduling order.
  virtual AlarmId ScheduleAlarm(MonoTime deadline,
                                std::function<void()> callback) = 0;
  // Returns true if the alarm was pending and is now cancelled.
  virtual bool CancelAlarm(AlarmId id) = 0;

  // Calls `callback` on the loop thread after `signo` was delivered to the
  // process (several deliveries between two RunOnce() calls may be merged
  // into one call). Replaces an earlier callback for the same signal.
  virtual absl::Status WatchSignal(int signo, std::function<void()> callback) = 0;

  // Waits up to `timeout` (shortened to the next alarm's deadline; zero polls
  // without waiting; absl::InfiniteDuration() waits for the next event), then
  // runs the callbacks of everything that became ready. Returns an error only
  // if the underlying wait failed for a reason other than EINTR.
  virtual absl::Status RunOnce(absl::Duration timeout) = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_EVENT_LOOP_H_
