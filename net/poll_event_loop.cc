#include "net/poll_event_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "absl/status/status.h"

namespace moshx::net {
namespace {

// Write end of the self-pipe of the one loop that watches signals (-1: none).
std::atomic<int> g_signal_pipe_fd{-1};

// Async-signal-safe: only write(2), errno preserved.
void OnSignal(int signo) {
  int saved_errno = errno;
  int fd = g_signal_pipe_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    (void)!write(fd, &byte, 1);  // full pipe: signal already pending, fine
  }
  errno = saved_errno;
}

absl::Status SetNonblockCloexec(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
      fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    return absl::ErrnoToStatus(errno, "fcntl");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PollEventLoop>> PollEventLoop::Create(
    const Clock* clock) {
  int fds[2];
  if (pipe(fds) != 0) return absl::ErrnoToStatus(errno, "pipe");
  for (int fd : fds) {
    absl::Status s = SetNonblockCloexec(fd);
    if (!s.ok()) {
      close(fds[0]);
      close(fds[1]);
      return s;
    }
  }
  return std::unique_ptr<PollEventLoop>(new PollEventLoop(clock, fds[0], fds[1]));
}

PollEventLoop::PollEventLoop(const Clock* clock, int read_fd, int write_fd)
    : clock_(clock), pipe_read_fd_(read_fd), pipe_write_fd_(write_fd) {}

PollEventLoop::~PollEventLoop() {
  for (auto& [signo, watch] : signals_) sigaction(signo, &watch.previous, nullptr);
  if (!signals_.empty()) g_signal_pipe_fd.store(-1);
  close(pipe_read_fd_);
  close(pipe_write_fd_);
}

absl::Status PollEventLoop::WatchFd(int fd, uint32_t events, FdCallback callback) {
  if (fd < 0) return absl::InvalidArgumentError("WatchFd: negative fd");
  fds_[fd] = FdWatch{events, std::make_shared<FdCallback>(std::move(callback))};
  return absl::OkStatus();
}

void PollEventLoop::UnwatchFd(int fd) { fds_.erase(fd); }

EventLoop::AlarmId PollEventLoop::ScheduleAlarm(MonoTime deadline,
                                                std::function<void()> callback) {
  AlarmId id = next_alarm_id_++;
  alarms_.emplace(std::make_pair(deadline, id), std::move(callback));
  alarm_deadlines_[id] = deadline;
  return id;
}

bool PollEventLoop::CancelAlarm(AlarmId id) {
  auto it = alarm_deadlines_.find(id);
  if (it == alarm_deadlines_.end()) return false;
  alarms_.erase(std::make_pair(it->second, id));
  alarm_deadlines_.erase(it);
  return true;
}

absl::Status PollEventLoop::WatchSignal(int signo, std::function<void()> callback) {
  int owner = g_signal_pipe_fd.load();
  if (owner >= 0 && owner != pipe_write_fd_) {
    return absl::FailedPreconditionError(
        "another PollEventLoop already watches signals");
  }
  if (signo <= 0 || signo >= 256) return absl::InvalidArgumentError("bad signal");
  auto it = signals_.find(signo);
  if (it != signals_.end()) {
    it->second.callback = std::move(callback);
    return absl::OkStatus();
  }
  g_signal_pipe_fd.store(pipe_write_fd_);
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  SignalWatch watch{std::move(callback), {}};
  if (sigaction(signo, &action, &watch.previous) != 0) {
    return absl::ErrnoToStatus(errno, "sigaction");
  }
  signals_.emplace(signo, std::move(watch));
  return absl::OkStatus();
}

int PollEventLoop::PollTimeoutMs(absl::Duration timeout) const {
  if (!alarms_.empty()) {
    absl::Duration until_alarm = alarms_.begin()->first.first - clock_->Now();
    timeout = std::min(timeout, std::max(until_alarm, absl::ZeroDuration()));
  }
  if (timeout == absl::InfiniteDuration()) return -1;
  // Round up: waking early would only cost a spurious iteration, but an
  // alarm that sees a not-yet-due deadline would spin with timeout 0.
  double ms = std::ceil(absl::ToDoubleMilliseconds(timeout));
  return static_cast<int>(std::min(ms, 24.0 * 3600 * 1000));
}

void PollEventLoop::DrainSignalPipe() {
  unsigned char buf[64];
  std::vector<int> fired;
  ssize_t n;
  while ((n = read(pipe_read_fd_, buf, sizeof(buf))) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (std::find(fired.begin(), fired.end(), buf[i]) == fired.end()) {
        fired.push_back(buf[i]);
      }
    }
  }
  for (int signo : fired) {
    auto it = signals_.find(signo);
    if (it != signals_.end()) {
      auto callback = it->second.callback;  // copy: callback may re-watch
      callback();
    }
  }
}

void PollEventLoop::RunDueAlarms() {
  MonoTime now = clock_->Now();
  // Snapshot first: alarms that callbacks schedule for `now` wait for the next
  // RunOnce(), so a callback that re-arms itself cannot starve the poll.
  std::vector<std::pair<MonoTime, AlarmId>> due;
  for (auto it = alarms_.begin(); it != alarms_.end() && it->first.first <= now; ++it) {
    due.push_back(it->first);
  }
  for (const auto& key : due) {
    auto it = alarms_.find(key);
    if (it == alarms_.end()) continue;  // cancelled by an earlier callback
    std::function<void()> callback = std::move(it->second);
    alarms_.erase(it);
    alarm_deadlines_.erase(key.second);
    callback();
  }
}

absl::Status PollEventLoop::RunOnce(absl::Duration timeout) {
  std::vector<pollfd> pfds;
  pfds.push_back({pipe_read_fd_, POLLIN, 0});
  for (const auto& [fd, watch] : fds_) {
    short events = 0;
    if (watch.events & kReadable) events |= POLLIN;
    if (watch.events & kWritable) events |= POLLOUT;
    pfds.push_back({fd, events, 0});
  }
  int n = poll(pfds.data(), pfds.size(), PollTimeoutMs(timeout));
  if (n < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
  if (n > 0) {
    if (pfds[0].revents & POLLIN) DrainSignalPipe();
    for (size_t i = 1; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      auto it = fds_.find(pfds[i].fd);
      if (it == fds_.end()) continue;  // unwatched by an earlier callback
      uint32_t events = 0;
      if (pfds[i].revents & POLLIN) events |= kReadable;
      if (pfds[i].revents & POLLOUT) events |= kWritable;
      if (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) events |= kError;
      std::shared_ptr<FdCallback> callback = it->second.callback;
      (*callback)(events);
    }
  }
  RunDueAlarms();
  return absl::OkStatus();
}

}  // namespace moshx::net
