#include "net/testing/simulated_network.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::net::testing {
namespace {

class SimulatedNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = net_.AddHost("10.0.0.1");
    b_ = net_.AddHost("10.0.0.2");
    auto sa = a_->Bind(1000);
    auto sb = b_->Bind(2000);
    ASSERT_TRUE(sa.ok() && sb.ok());
    sa_ = std::move(*sa);
    sb_ = std::move(*sb);
    ASSERT_TRUE(net_.WatchFd(sb_->fd(), EventLoop::kReadable, [this](uint32_t) {
      for (auto d = sb_->ReceiveFrom(); d.ok(); d = sb_->ReceiveFrom()) {
        arrivals_.push_back({net_.Now(), d->payload});
      }
    }).ok());
  }

  void SendNumbered(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(sa_->SendTo(sb_->local_address(), std::to_string(i)).ok());
    }
  }

  SimulatedNetwork net_{/*seed=*/42};
  SimulatedNetwork::Host* a_;
  SimulatedNetwork::Host* b_;
  std::unique_ptr<DatagramSocket> sa_, sb_;
  std::vector<std::pair<MonoTime, std::string>> arrivals_;
};

TEST_F(SimulatedNetworkTest, DeliversAfterConfiguredDelay) {
  LinkParams p;
  p.delay = absl::Milliseconds(50);
  net_.SetLink(a_, b_, p);
  ASSERT_TRUE(sa_->SendTo(sb_->local_address(), "hi").ok());
  net_.RunFor(absl::Milliseconds(49));
  EXPECT_TRUE(arrivals_.empty());
  net_.RunFor(absl::Milliseconds(1));
  ASSERT_EQ(arrivals_.size(), 1u);
  EXPECT_EQ(arrivals_[0].first, MonoTime::FromEpoch(absl::Milliseconds(50)));
  EXPECT_EQ(arrivals_[0].second, "hi");
}

TEST_F(SimulatedNetworkTest, BottleneckSerializesAtItsRateAndTailDrops) {
  LinkParams p;
  p.delay = absl::Milliseconds(10);
  p.rate_bits_per_second = 8e6;  // 1 byte per microsecond
  p.header_bytes = 0;
  p.queue_bytes = 3000;
  net_.SetLink(a_, b_, p);
  std::string kilobyte(1000, 'x');
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sa_->SendTo(sb_->local_address(), kilobyte).ok());
  net_.RunFor(absl::Seconds(1));
  // Three fit the 3000-byte queue; they leave 1 ms apart, then 10 ms delay.
  ASSERT_EQ(arrivals_.size(), 3u);
  EXPECT_EQ(arrivals_[0].first, MonoTime::FromEpoch(absl::Milliseconds(11)));
  EXPECT_EQ(arrivals_[1].first, MonoTime::FromEpoch(absl::Milliseconds(12)));
  EXPECT_EQ(arrivals_[2].first, MonoTime::FromEpoch(absl::Milliseconds(13)));
  EXPECT_EQ(net_.stats(a_, b_).queue_drops, 2u);
  // Once drained, the queue accepts again.
  ASSERT_TRUE(sa_->SendTo(sb_->local_address(), kilobyte).ok());
  net_.RunFor(absl::Seconds(1));
  EXPECT_EQ(arrivals_.size(), 4u);
}

TEST_F(SimulatedNetworkTest, SourceAddressIsTheSendersSocket) {
  Datagram got;
  ASSERT_TRUE(sa_->SendTo(sb_->local_address(), "x").ok());
  net_.UnwatchFd(sb_->fd());
  net_.RunFor(absl::Seconds(1));
  auto d = sb_->ReceiveFrom();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->from, sa_->local_address());
  EXPECT_EQ(d->from.ToString(), "10.0.0.1:1000");
}

TEST_F(SimulatedNetworkTest, IidLossRateMatchesWithinStatisticalBounds) {
  LinkParams p;
  p.loss = 0.3;
  net_.SetLink(a_, b_, p);
  const int n = 20000;
  SendNumbered(n);
  net_.RunFor(absl::Seconds(1));
  double delivered = arrivals_.size() / static_cast<double>(n);
  // Binomial sd = sqrt(0.3*0.7/20000) ~ 0.0032; allow 5 sd.
  EXPECT_NEAR(delivered, 0.7, 0.016);
  EXPECT_EQ(net_.stats(a_, b_).lost + arrivals_.size(), static_cast<uint64_t>(n));
}

TEST_F(SimulatedNetworkTest, GilbertElliottLossIsBursty) {
  LinkParams p;
  p.bursty = true;
  p.gilbert_elliott = {/*p_good_to_bad=*/0.05, /*p_bad_to_good=*/0.25,
                       /*loss_in_good=*/0.0, /*loss_in_bad=*/1.0};
  net_.SetLink(a_, b_, p);
  const int n = 20000;
  SendNumbered(n);
  net_.RunFor(absl::Seconds(1));
  // Stationary bad fraction = 0.05 / (0.05 + 0.25) = 1/6.
  double lost = 1 - arrivals_.size() / static_cast<double>(n);
  EXPECT_NEAR(lost, 1.0 / 6, 0.03);
  // Mean burst length 1/0.25 = 4 lost datagrams in a row, vs 1.2 for i.i.d.
  std::vector<bool> got(n, false);
  for (const auto& a : arrivals_) got[std::stoi(a.second)] = true;
  int bursts = 0, lost_count = 0;
  for (int i = 0; i < n; ++i) {
    if (!got[i]) {
      ++lost_count;
      if (i == 0 || got[i - 1]) ++bursts;
    }
  }
  EXPECT_GT(static_cast<double>(lost_count) / bursts, 3.0);
}

TEST_F(SimulatedNetworkTest, DuplicatesAtConfiguredRate) {
  LinkParams p;
  p.duplicate = 0.2;
  net_.SetLink(a_, b_, p);
  SendNumbered(10000);
  net_.RunFor(absl::Seconds(1));
  EXPECT_NEAR(arrivals_.size() / 10000.0, 1.2, 0.03);
  EXPECT_EQ(arrivals_.size(), 10000 + net_.stats(a_, b_).duplicated);
}

TEST_F(SimulatedNetworkTest, ReorderingDelaysSomeDatagramsPastLaterOnes) {
  LinkParams p;
  p.reorder = 0.25;
  p.reorder_delay = absl::Milliseconds(30);
  net_.SetLink(a_, b_, p);
  for (int i = 0; i < 1000; ++i) {
    SendNumbered(1);  // payload "0" each time; use time order instead
    net_.RunFor(absl::Milliseconds(1));
  }
  net_.RunFor(absl::Seconds(1));
  EXPECT_EQ(arrivals_.size(), 1000u);
  EXPECT_NEAR(net_.stats(a_, b_).reordered / 1000.0, 0.25, 0.05);
}

TEST_F(SimulatedNetworkTest, ReorderedSequenceArrivesOutOfOrder) {
  LinkParams p;
  p.jitter = absl::Milliseconds(20);
  net_.SetLink(a_, b_, p);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(sa_->SendTo(sb_->local_address(), std::to_string(i)).ok());
    net_.RunFor(absl::Milliseconds(1));
  }
  net_.RunFor(absl::Seconds(1));
  ASSERT_EQ(arrivals_.size(), 100u);
  int inversions = 0;
  for (size_t i = 1; i < arrivals_.size(); ++i) {
    if (std::stoi(arrivals_[i].second) < std::stoi(arrivals_[i - 1].second)) ++inversions;
  }
  EXPECT_GT(inversions, 10);
}

TEST_F(SimulatedNetworkTest, CongestionMarksAtConfiguredRate) {
  LinkParams p;
  p.congestion_mark = 0.5;
  net_.SetLink(a_, b_, p);
  net_.UnwatchFd(sb_->fd());
  SendNumbered(2000);
  net_.RunFor(absl::Seconds(1));
  int marked = 0, total = 0;
  for (auto d = sb_->ReceiveFrom(); d.ok(); d = sb_->ReceiveFrom()) {
    ++total;
    marked += d->congestion_experienced;
  }
  EXPECT_EQ(total, 2000);
  EXPECT_NEAR(marked / 2000.0, 0.5, 0.05);
}

TEST_F(SimulatedNetworkTest, MtuDropsOrFailsOversizeDatagrams) {
  LinkParams p;
  p.mtu = 100;
  net_.SetLink(a_, b_, p);
  EXPECT_TRUE(sa_->SendTo(sb_->local_address(), std::string(101, 'x')).ok());
  EXPECT_TRUE(sa_->SendTo(sb_->local_address(), std::string(100, 'y')).ok());
  p.mtu_behavior = MtuBehavior::kEmsgsize;
  net_.SetLink(a_, b_, p);
  absl::Status s = sa_->SendTo(sb_->local_address(), std::string(101, 'z'));
  EXPECT_TRUE(IsDatagramTooLarge(s)) << s;
  net_.RunFor(absl::Seconds(1));
  ASSERT_EQ(arrivals_.size(), 1u);
  EXPECT_EQ(arrivals_[0].second.size(), 100u);
  EXPECT_EQ(net_.stats(a_, b_).too_large, 2u);
}

TEST_F(SimulatedNetworkTest, RebindMovesTheHostAndItsSockets) {
  net_.Rebind(a_, "10.9.9.9");
  EXPECT_EQ(sa_->local_address().ToString(), "10.9.9.9:1000");
  Address old_b = sb_->local_address();
  ASSERT_TRUE(sa_->SendTo(old_b, "after move").ok());
  net_.RunFor(absl::Seconds(1));
  ASSERT_EQ(arrivals_.size(), 1u);
  // Traffic to the old address of a moved host goes nowhere.
  net_.Rebind(b_, "10.0.0.3");
  ASSERT_TRUE(sa_->SendTo(old_b, "lost").ok());
  net_.RunFor(absl::Seconds(1));
  EXPECT_EQ(arrivals_.size(), 1u);
  EXPECT_EQ(net_.unroutable(), 1u);
}

TEST_F(SimulatedNetworkTest, InjectedDatagramCarriesForgedSource) {
  Address forged = *Address::Parse("192.0.2.66", 4444);
  net_.UnwatchFd(sb_->fd());
  net_.Inject(forged, sb_->local_address(), "evil", absl::Milliseconds(5));
  net_.RunFor(absl::Milliseconds(5));
  auto d = sb_->ReceiveFrom();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->from, forged);
}

TEST_F(SimulatedNetworkTest, EphemeralPortsAreDistinctAndBindConflictsFail) {
  auto x = a_->Open(AddressFamily::kIPv4);
  auto y = a_->Open(AddressFamily::kIPv4);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_NE((*x)->local_address(), (*y)->local_address());
  EXPECT_FALSE(a_->Bind(1000).ok());
  EXPECT_FALSE(a_->Open(AddressFamily::kIPv6).ok());
}

TEST_F(SimulatedNetworkTest, AlarmsRunInVirtualTimeAndCanBeCancelled) {
  std::vector<int> fired;
  net_.ScheduleAlarm(MonoTime::FromEpoch(absl::Seconds(2)), [&] { fired.push_back(2); });
  auto id = net_.ScheduleAlarm(MonoTime::FromEpoch(absl::Seconds(1)), [&] { fired.push_back(1); });
  net_.ScheduleAlarm(MonoTime::FromEpoch(absl::Seconds(3)), [&] { fired.push_back(3); });
  EXPECT_TRUE(net_.CancelAlarm(id));
  net_.RunFor(absl::Milliseconds(2500));
  EXPECT_EQ(fired, (std::vector<int>{2}));
  EXPECT_EQ(net_.Now(), MonoTime::FromEpoch(absl::Milliseconds(2500)));
  net_.RunFor(absl::Seconds(1));
  EXPECT_EQ(fired, (std::vector<int>{2, 3}));
}

TEST_F(SimulatedNetworkTest, RunUntilStopsWhenPredicateHolds) {
  ASSERT_TRUE(sa_->SendTo(sb_->local_address(), "x").ok());
  EXPECT_TRUE(net_.RunUntil([&] { return !arrivals_.empty(); }, absl::Seconds(5)));
  EXPECT_EQ(net_.Now(), MonoTime::FromEpoch(absl::Milliseconds(10)));
  EXPECT_FALSE(net_.RunUntil([] { return false; }, absl::Seconds(5)));
  EXPECT_EQ(net_.Now(), MonoTime::FromEpoch(absl::Milliseconds(5010)));
}

TEST_F(SimulatedNetworkTest, SignalsAreDeliveredOnTheLoop) {
  int got = 0;
  ASSERT_TRUE(net_.WatchSignal(28, [&] { ++got; }).ok());
  net_.RaiseSignal(28);
  EXPECT_EQ(got, 0);
  ASSERT_TRUE(net_.RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(got, 1);
}

TEST(SimulatedNetworkReplayTest, SameSeedGivesIdenticalRun) {
  auto run = [](uint64_t seed) {
    SimulatedNetwork net(seed);
    auto* a = net.AddHost("10.0.0.1");
    auto* b = net.AddHost("10.0.0.2");
    LinkParams p;
    p.loss = 0.3;
    p.jitter = absl::Milliseconds(30);
    p.duplicate = 0.1;
    net.SetLink(a, b, p);
    auto sa = *a->Bind(1);
    auto sb = *b->Bind(2);
    std::vector<std::string> got;
    net.WatchFd(sb->fd(), EventLoop::kReadable, [&](uint32_t) {
      got.push_back(sb->ReceiveFrom()->payload);
    }).IgnoreError();
    for (int i = 0; i < 200; ++i) {
      sa->SendTo(sb->local_address(), std::to_string(i)).IgnoreError();
      net.RunFor(absl::Milliseconds(1));
    }
    net.RunFor(absl::Seconds(1));
    return got;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(SimulatedNetworkCostTest, IdleVirtualMinuteTakesFewSteps) {
  // A 3 s heartbeat each way for 60 virtual seconds: the loop must jump over
  // idle time, so the work is proportional to events, not to elapsed time.
  SimulatedNetwork net(1);
  int beats = 0;
  std::function<void()> beat = [&] {
    ++beats;
    net.ScheduleAlarm(net.Now() + absl::Seconds(3), beat);
  };
  net.ScheduleAlarm(net.Now(), beat);
  net.RunFor(absl::Seconds(60));
  EXPECT_EQ(beats, 21);
  EXPECT_LE(net.steps(), 25u);
}

}  // namespace
}  // namespace moshx::net::testing
