// PollEventLoop: the production EventLoop, built on poll(2).
//
// Signals use the self-pipe technique: the process-wide handler installed by
// WatchSignal() only write()s the signal number to a nonblocking pipe; the
// loop reads the pipe and runs the callbacks on the loop thread. Because a
// signal handler cannot know which loop to wake, at most one PollEventLoop
// at a time may watch signals (a second one gets FailedPrecondition); the
// loop restores the previous signal dispositions when destroyed.
//
// Alarms are kept in deadline order; RunOnce() shortens its poll timeout to
// the earliest alarm (rounded up to whole milliseconds, so an alarm never
// fires early) and runs every alarm whose deadline has passed.
//
// Construction cannot fail except for pipe creation; use Create().
// `clock` must outlive the loop. Not thread-safe.
#ifndef MOSHX_NET_POLL_EVENT_LOOP_H_
#define MOSHX_NET_POLL_EVENT_LOOP_H_

#include <signal.h>

#include <map>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "net/clock.h"
#include "net/event_loop.h"

namespace moshx::net {

class PollEventLoop : public EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<PollEventLoop>> Create(const Clock* clock);
  ~PollEventLoop() override;

  PollEventLoop(const PollEventLoop&) = delete;
  PollEventLoop& operator=(const PollEventLoop&) = delete;

  absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) override;
  void UnwatchFd(int fd) override;
  AlarmId ScheduleAlarm(MonoTime deadline, std::function<void()> callback) override;
  bool CancelAlarm(AlarmId id) override;
  absl::Status WatchSignal(int signo, std::function<void()> callback) override;
  absl::Status RunOnce(absl::Duration timeout) override;

  size_t pending_alarms() const { return alarms_.size(); }

 private:
  struct FdWatch {
    uint32_t events;
    std::shared_ptr<FdCallback> callback;  // shared: survives re-watch mid-call
  };
  struct SignalWatch {
    std::function<void()> callback;
    struct sigaction previous;
  };

  PollEventLoop(const Clock* clock, int read_fd, int write_fd);
  int PollTimeoutMs(absl::Duration timeout) const;
  void DrainSignalPipe();
  void RunDueAlarms();

  const Clock* const clock_;
  const int pipe_read_fd_;
  const int pipe_write_fd_;
  absl::flat_hash_map<int, FdWatch> fds_;
  // (deadline, id) -> callback; id breaks ties in scheduling order.
  std::map<std::pair<MonoTime, AlarmId>, std::function<void()>> alarms_;
  absl::flat_hash_map<AlarmId, MonoTime> alarm_deadlines_;
  AlarmId next_alarm_id_ = 1;
  std::map<int, SignalWatch> signals_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_POLL_EVENT_LOOP_H_
