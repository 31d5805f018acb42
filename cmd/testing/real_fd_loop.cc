#include "cmd/testing/real_fd_loop.h"

#include <poll.h>

#include <algorithm>
#include <vector>

namespace moshx::cmd::testing {

absl::Status RealFdLoop::WatchFd(int fd, uint32_t events, FdCallback callback) {
  // Simulated sockets belong to the network; it rejects anything else.
  if (network_->WatchFd(fd, events, callback).ok()) return absl::OkStatus();
  if (events == 0) {
    real_fds_.erase(fd);
  } else {
    real_fds_[fd] = Watch{events, std::move(callback)};
  }
  return absl::OkStatus();
}

void RealFdLoop::UnwatchFd(int fd) {
  real_fds_.erase(fd);
  network_->UnwatchFd(fd);
}

absl::Status RealFdLoop::RunOnce(absl::Duration timeout) {
  if (!real_fds_.empty()) {
    std::vector<pollfd> fds;
    for (const auto& [fd, w] : real_fds_) {
      short ev = 0;
      if (w.events & kReadable) ev |= POLLIN;
      if (w.events & kWritable) ev |= POLLOUT;
      fds.push_back(pollfd{fd, ev, 0});
    }
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(std::min(timeout, real_slice_)));
    if (poll(fds.data(), fds.size(), std::max(wait_ms, 0)) > 0) {
      for (const pollfd& p : fds) {
        uint32_t got = 0;
        if (p.revents & POLLIN) got |= kReadable;
        if (p.revents & POLLOUT) got |= kWritable;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) got |= kError;
        auto it = real_fds_.find(p.fd);
        if (got != 0 && it != real_fds_.end()) {
          FdCallback cb = it->second.callback;  // the callback may unwatch
          cb(got);
        }
      }
    }
    timeout = std::min(timeout, real_slice_);
  }
  return network_->RunOnce(timeout);
}

bool RealFdLoop::RunUntil(const std::function<bool()>& done, absl::Duration limit,
                          const std::function<void()>& after_each) {
  net::MonoTime end = network_->Now() + limit;
  while (!done()) {
    if (network_->Now() >= end) return false;
    // Fails only when poll(2) does; the deadline above still ends the wait.
    RunOnce(std::min(real_slice_, end - network_->Now())).IgnoreError();
    if (after_each) after_each();
  }
  return true;
}

}  // namespace moshx::cmd::testing
