#include "net/poll_event_loop.h"

#include <signal.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "net/system_clock.h"

namespace moshx::net {
namespace {

class PollEventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = PollEventLoop::Create(&clock_);
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
    ASSERT_EQ(pipe(fds_), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }

  SystemClock clock_;
  std::unique_ptr<PollEventLoop> loop_;
  int fds_[2];
};

TEST_F(PollEventLoopTest, WatchedFdCallbackRunsWhenReadable) {
  int calls = 0;
  ASSERT_TRUE(loop_->WatchFd(fds_[0], EventLoop::kReadable, [&](uint32_t ev) {
    ++calls;
    EXPECT_TRUE(ev & EventLoop::kReadable);
    char c;
    ASSERT_EQ(read(fds_[0], &c, 1), 1);
  }).ok());
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  ASSERT_TRUE(loop_->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(calls, 1);
  loop_->UnwatchFd(fds_[0]);
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(PollEventLoopTest, WatchIsLevelTriggered) {
  int calls = 0;
  ASSERT_TRUE(loop_->WatchFd(fds_[0], EventLoop::kReadable,
                             [&](uint32_t) { ++calls; }).ok());
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(calls, 2);  // not consumed -> reported again
}

TEST_F(PollEventLoopTest, NegativeFdIsRejected) {
  EXPECT_FALSE(loop_->WatchFd(-1, EventLoop::kReadable, [](uint32_t) {}).ok());
}

TEST_F(PollEventLoopTest, AlarmsFireInDeadlineOrderAndNotEarly) {
  std::vector<int> order;
  MonoTime start = clock_.Now();
  loop_->ScheduleAlarm(start + absl::Milliseconds(30), [&] { order.push_back(2); });
  loop_->ScheduleAlarm(start + absl::Milliseconds(10), [&] { order.push_back(1); });
  while (order.size() < 2) ASSERT_TRUE(loop_->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_GE(clock_.Now() - start, absl::Milliseconds(30));
}

TEST_F(PollEventLoopTest, CancelledAlarmDoesNotFire) {
  bool fired = false;
  auto id = loop_->ScheduleAlarm(clock_.Now(), [&] { fired = true; });
  EXPECT_TRUE(loop_->CancelAlarm(id));
  EXPECT_FALSE(loop_->CancelAlarm(id));
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_FALSE(fired);
  EXPECT_EQ(loop_->pending_alarms(), 0u);
}

TEST_F(PollEventLoopTest, AlarmRearmedForNowWaitsForNextIteration) {
  int fired = 0;
  std::function<void()> rearm = [&] {
    ++fired;
    loop_->ScheduleAlarm(clock_.Now(), rearm);
  };
  loop_->ScheduleAlarm(clock_.Now(), rearm);
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(fired, 1);
  ASSERT_TRUE(loop_->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(fired, 2);
}

TEST_F(PollEventLoopTest, SignalArrivesThroughSelfPipe) {
  int usr1 = 0, winch = 0;
  ASSERT_TRUE(loop_->WatchSignal(SIGUSR1, [&] { ++usr1; }).ok());
  ASSERT_TRUE(loop_->WatchSignal(SIGWINCH, [&] { ++winch; }).ok());
  ASSERT_EQ(raise(SIGUSR1), 0);  // would terminate the test without a handler
  ASSERT_EQ(raise(SIGUSR1), 0);
  ASSERT_TRUE(loop_->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(usr1, 1);  // merged
  EXPECT_EQ(winch, 0);
  ASSERT_EQ(raise(SIGWINCH), 0);
  ASSERT_TRUE(loop_->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(winch, 1);
}

TEST_F(PollEventLoopTest, OnlyOneLoopWatchesSignals) {
  ASSERT_TRUE(loop_->WatchSignal(SIGUSR2, [] {}).ok());
  auto other = PollEventLoop::Create(&clock_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->WatchSignal(SIGUSR2, [] {}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PollEventLoopTest, SignalDispositionRestoredOnDestruction) {
  ASSERT_TRUE(loop_->WatchSignal(SIGTERM, [] {}).ok());
  loop_.reset();
  struct sigaction current;
  ASSERT_EQ(sigaction(SIGTERM, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_DFL);
}

}  // namespace
}  // namespace moshx::net
