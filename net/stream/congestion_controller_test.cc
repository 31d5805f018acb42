#include "net/stream/congestion_controller.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "gtest/gtest.h"

namespace moshx::net::stream {
namespace {

constexpr size_t kMss = 1200;

// A sender that always has data, a FIFO bottleneck of `rate` bytes/s and a
// fixed propagation RTT, in virtual time; no loss.
class PipeModel {
 public:
  PipeModel(double rate, absl::Duration rtt) : rate_(rate), rtt_(rtt) {}

  void set_rate(double rate) { rate_ = rate; }
  // Queueing delay a packet entering the bottleneck now would see.
  absl::Duration QueueDelay() const {
    return link_free_ > now_ ? link_free_ - now_ : absl::ZeroDuration();
  }

  void Run(CongestionController& cc, absl::Duration duration,
           absl::Duration* worst_queue_after = nullptr, MonoTime after = MonoTime()) {
    MonoTime end = now_ + duration;
    while (now_ < end) {
      // Deliver acks that are due.
      while (!acks_.empty() && acks_.begin()->first <= now_) {
        Packet p = acks_.begin()->second;
        acks_.erase(acks_.begin());
        in_flight_ -= kMss;
        cc.OnPacketAcked(now_, kMss, p.sent, p.snapshot);
        cc.EndAck(now_, now_ - p.sent, in_flight_);
      }
      // Send what window and pacing allow.
      while (in_flight_ + kMss <= cc.cwnd() && cc.NextSendTime(now_, kMss) <= now_) {
        Packet p{now_, cc.OnPacketSent(now_, kMss, in_flight_)};
        cc.OnPacedSend(now_, kMss);
        in_flight_ += kMss;
        link_free_ = std::max(link_free_, now_) + absl::Seconds(kMss / rate_);
        acks_.emplace(link_free_ + rtt_, p);
        if (worst_queue_after != nullptr && now_ >= after) {
          *worst_queue_after = std::max(*worst_queue_after, QueueDelay());
        }
      }
      now_ += absl::Microseconds(100);
    }
  }
  MonoTime now() const { return now_; }

 private:
  struct Packet {
    MonoTime sent;
    DeliverySnapshot snapshot;
  };
  double rate_;
  absl::Duration rtt_;
  MonoTime now_;
  MonoTime link_free_;
  size_t in_flight_ = 0;
  std::multimap<MonoTime, Packet> acks_;
};

TEST(CongestionControllerTest, FindsTheBottleneckRateAndKeepsItsQueueWithinBudget) {
  CongestionController cc(kMss);
  PipeModel pipe(/*rate=*/2.5e6, absl::Milliseconds(50));  // 20 Mbit/s
  absl::Duration worst = absl::ZeroDuration();
  pipe.Run(cc, absl::Seconds(8), &worst, MonoTime::FromEpoch(absl::Seconds(2)));
  EXPECT_EQ(cc.mode(), CongestionController::Mode::kProbeBandwidth);
  EXPECT_NEAR(cc.bandwidth(), 2.5e6, 0.1 * 2.5e6);
  ASSERT_TRUE(cc.min_rtt().has_value());
  EXPECT_LE(*cc.min_rtt(), absl::Milliseconds(52));
  std::printf("worst queue after startup: %s\n", absl::FormatDuration(worst).c_str());
  EXPECT_LE(worst, CongestionController::kDefaultQueueBudget + absl::Milliseconds(5));
}

TEST(CongestionControllerTest, DrainsTheQueueWhenTheLinkSlowsDown) {
  CongestionController cc(kMss);
  PipeModel pipe(2.5e6, absl::Milliseconds(50));
  pipe.Run(cc, absl::Seconds(5));
  pipe.set_rate(0.6e6);
  pipe.Run(cc, absl::Seconds(3));
  EXPECT_GE(cc.stats().standing_queue_cuts + cc.stats().loss_cuts, 1u);
  absl::Duration worst = absl::ZeroDuration();
  pipe.Run(cc, absl::Seconds(3), &worst, pipe.now());
  EXPECT_LE(worst, absl::Milliseconds(20));
  EXPECT_NEAR(cc.bandwidth(), 0.6e6, 0.15 * 0.6e6);
}

TEST(CongestionControllerTest, PacesAtTheRateWithABoundedBurst) {
  CongestionController cc(kMss);
  MonoTime now = MonoTime::FromEpoch(absl::Seconds(1));
  double rate = cc.pacing_rate();
  ASSERT_GT(rate, 0);
  int sent_at_once = 0;
  while (cc.NextSendTime(now, kMss) <= now) {
    cc.OnPacedSend(now, kMss);
    ++sent_at_once;
  }
  EXPECT_GE(sent_at_once, 1);
  EXPECT_LE(sent_at_once, 2 + static_cast<int>(rate * 0.002 / kMss) + 1);
  MonoTime next = cc.NextSendTime(now, kMss);
  EXPECT_GT(next, now);
  EXPECT_LE(next - now, absl::Seconds(kMss / rate) + absl::Microseconds(2));
}

TEST(CongestionControllerTest, PersistentCongestionRestartsFromTheMinimumWindow) {
  CongestionController cc(kMss);
  PipeModel pipe(2.5e6, absl::Milliseconds(50));
  pipe.Run(cc, absl::Seconds(3));
  cc.OnPersistentCongestion(pipe.now());
  EXPECT_EQ(cc.cwnd(), CongestionController::kMinWindowPackets * kMss);
  EXPECT_EQ(cc.mode(), CongestionController::Mode::kStartup);
  EXPECT_FALSE(cc.min_rtt().has_value());
}

}  // namespace
}  // namespace moshx::net::stream
