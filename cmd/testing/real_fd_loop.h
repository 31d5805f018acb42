// RealFdLoop: an EventLoop for in-process session tests that mixes a
// SimulatedNetwork (virtual time, simulated sockets, alarms) with real file
// descriptors such as a pty running /bin/sh.
//
// Simulated sockets, alarms and signals go to the network. Other fds are
// polled for real: each RunOnce() first waits up to `real_slice` of real time
// for them, dispatches what is ready, then advances virtual time by at most
// the same slice (or to the next virtual event), so a real shell and the
// virtual network move forward together at roughly the same pace.
//
// testonly; single-threaded.
#ifndef MOSHX_CMD_TESTING_REAL_FD_LOOP_H_
#define MOSHX_CMD_TESTING_REAL_FD_LOOP_H_

#include <functional>
#include <map>

#include "net/event_loop.h"
#include "net/testing/simulated_network.h"

namespace moshx::cmd::testing {

class RealFdLoop : public net::EventLoop {
 public:
  explicit RealFdLoop(net::testing::SimulatedNetwork* network,
                      absl::Duration real_slice = absl::Milliseconds(1))
      : network_(network), real_slice_(real_slice) {}

  absl::Status WatchFd(int fd, uint32_t events, FdCallback callback) override;
  void UnwatchFd(int fd) override;
  AlarmId ScheduleAlarm(net::MonoTime deadline, std::function<void()> callback) override {
    return network_->ScheduleAlarm(deadline, std::move(callback));
  }
  bool CancelAlarm(AlarmId id) override { return network_->CancelAlarm(id); }
  absl::Status WatchSignal(int signo, std::function<void()> callback) override {
    return network_->WatchSignal(signo, std::move(callback));
  }
  absl::Status RunOnce(absl::Duration timeout) override;

  // Runs until `done` or `limit` of virtual time passed; true if `done`.
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit,
                const std::function<void()>& after_each = nullptr);

 private:
  struct Watch {
    uint32_t events;
    FdCallback callback;
  };
  net::testing::SimulatedNetwork* const network_;
  const absl::Duration real_slice_;
  std::map<int, Watch> real_fds_;
};

}  // namespace moshx::cmd::testing

#endif  // MOSHX_CMD_TESTING_REAL_FD_LOOP_H_
