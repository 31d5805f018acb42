#include "tools/netem/link_model.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::netem {
namespace {

using ::testing::HasSubstr;
using Verdict = LinkModel::Verdict;

constexpr int64_t kMs = 1000000;

LinkConfig Spec(const char* text) {
  LinkConfig c;
  absl::Status st = ParseLinkSpec(text, &c);
  EXPECT_TRUE(st.ok()) << st;
  return c;
}

TEST(ParseLinkSpecTest, ReadsEveryKeyWithUnits) {
  LinkConfig c = Spec(
      "delay=25ms,jitter=2.5,reorder=1,loss=5%,rate=20mbit,queue=50ms,"
      "drop=udp+icmp");
  EXPECT_DOUBLE_EQ(c.delay_ms, 25);
  EXPECT_DOUBLE_EQ(c.jitter_ms, 2.5);
  EXPECT_TRUE(c.reorder);
  EXPECT_DOUBLE_EQ(c.loss, 0.05);
  EXPECT_DOUBLE_EQ(c.rate_bps, 20e6);
  EXPECT_DOUBLE_EQ(c.queue_ms, 50);
  EXPECT_EQ(c.drop_mask, (1u << int(Proto::kUdp)) | (1u << int(Proto::kIcmp)));

  EXPECT_DOUBLE_EQ(Spec("delay=0.1s").delay_ms, 100);
  EXPECT_DOUBLE_EQ(Spec("delay=500us").delay_ms, 0.5);
  EXPECT_DOUBLE_EQ(Spec("rate=500kbit").rate_bps, 500e3);
  EXPECT_DOUBLE_EQ(Spec("rate=1.5M").rate_bps, 1.5e6);
  EXPECT_DOUBLE_EQ(Spec("rate=1e6").rate_bps, 1e6);
  EXPECT_DOUBLE_EQ(Spec("rate=1gbit").rate_bps, 1e9);
  EXPECT_DOUBLE_EQ(Spec("queue=64kb").queue_bytes, 65536);
  EXPECT_DOUBLE_EQ(Spec("queue=3000").queue_bytes, 3000);
  EXPECT_EQ(Spec("drop=all").drop_mask, 15u);
}

TEST(ParseLinkSpecTest, ChangesOnlyTheKeysGivenAndCleanResets) {
  LinkConfig c = Spec("delay=10ms,loss=0.1");
  ASSERT_TRUE(ParseLinkSpec("loss=0", &c).ok());
  EXPECT_DOUBLE_EQ(c.delay_ms, 10);
  EXPECT_DOUBLE_EQ(c.loss, 0);
  // A byte limit replaces a time limit and back.
  ASSERT_TRUE(ParseLinkSpec("queue=50ms", &c).ok());
  ASSERT_TRUE(ParseLinkSpec("queue=1000", &c).ok());
  EXPECT_DOUBLE_EQ(c.queue_ms, 0);
  EXPECT_DOUBLE_EQ(c.queue_bytes, 1000);
  ASSERT_TRUE(ParseLinkSpec("clean", &c).ok());
  EXPECT_DOUBLE_EQ(c.delay_ms, 0);
  EXPECT_DOUBLE_EQ(c.queue_bytes, 0);
}

TEST(ParseLinkSpecTest, RejectsBadInputWithoutChangingTheConfig) {
  LinkConfig c = Spec("delay=10ms");
  for (const char* bad :
       {"delay=-1", "delay=abc", "delay=5m", "loss=1.5", "loss=-0.1",
        "loss=200%", "rate=20mbps", "rate=fast", "queue=lots", "drop=sctp",
        "reorder=yes", "color=red", "delay", "delay=", "loss=0.1,bogus=1"}) {
    absl::Status st = ParseLinkSpec(bad, &c);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_DOUBLE_EQ(c.delay_ms, 10) << bad;
    EXPECT_DOUBLE_EQ(c.loss, 0) << bad;
  }
  EXPECT_THAT(std::string(ParseLinkSpec("rate=1mbps", &c).message()),
              HasSubstr("ambiguous"));
}

TEST(ParseLinkSpecTest, SpecStringRoundTrips) {
  LinkConfig c = Spec("delay=12.5ms,jitter=1ms,loss=0.03,rate=7mbit,"
                      "queue=30ms,drop=tcp");
  LinkConfig back;
  ASSERT_TRUE(ParseLinkSpec(LinkSpecString(c), &back).ok())
      << LinkSpecString(c);
  EXPECT_EQ(LinkSpecString(back), LinkSpecString(c));
  EXPECT_DOUBLE_EQ(back.delay_ms, 12.5);
  EXPECT_DOUBLE_EQ(back.queue_ms, 30);
  EXPECT_EQ(back.drop_mask, 1u);
}

TEST(LinkModelTest, CleanLinkPassesAtOnce) {
  LinkModel link(1);
  LinkModel::Result r = link.Admit(100, Proto::kTcp, 5 * kMs);
  EXPECT_EQ(r.verdict, Verdict::kPass);
  EXPECT_EQ(r.leave_ns, 5 * kMs);
  EXPECT_TRUE(link.Leave(100, Proto::kTcp, 5 * kMs));
  EXPECT_EQ(link.stats().delivered.packets, 1u);
  EXPECT_EQ(link.stats().proto_delivered[int(Proto::kTcp)].bytes, 100u);
}

TEST(LinkModelTest, DelayAddsExactly) {
  LinkModel link(1);
  link.set_config(Spec("delay=25ms"));
  EXPECT_EQ(link.Admit(100, Proto::kUdp, 1 * kMs).leave_ns, 26 * kMs);
}

TEST(LinkModelTest, JitterStaysInBoundsAndKeepsOrderUnlessAsked) {
  LinkModel link(7);
  link.set_config(Spec("delay=50ms,jitter=10ms"));
  int64_t last = 0;
  for (int i = 0; i < 2000; ++i) {
    int64_t now = i * kMs / 10;  // a packet every 0.1 ms
    LinkModel::Result r = link.Admit(100, Proto::kUdp, now);
    ASSERT_EQ(r.verdict, Verdict::kPass);
    EXPECT_GE(r.leave_ns, last);  // order kept
    EXPECT_GE(r.leave_ns - now, 40 * kMs);
    // The order clamp can hold a packet behind an earlier late one.
    EXPECT_LE(r.leave_ns - now, 60 * kMs);
    last = r.leave_ns;
  }
  // Packets further apart than twice the jitter: the mean is the delay.
  LinkModel sparse(7);
  sparse.set_config(Spec("delay=50ms,jitter=10ms"));
  double sum = 0;
  for (int i = 0; i < 2000; ++i) {
    int64_t now = i * 25 * kMs;
    sum += (sparse.Admit(100, Proto::kUdp, now).leave_ns - now) / 1e6;
  }
  // Uniform on [40, 60]: sd 5.77 ms, of the mean of 2000: 0.13 ms.
  EXPECT_NEAR(sum / 2000, 50, 0.7);

  LinkModel reorder(7);
  reorder.set_config(Spec("delay=50ms,jitter=10ms,reorder=1"));
  int inversions = 0;
  last = 0;
  for (int i = 0; i < 2000; ++i) {
    int64_t now = i * kMs / 10;
    int64_t leave = reorder.Admit(100, Proto::kUdp, now).leave_ns;
    EXPECT_GE(leave - now, 40 * kMs);
    EXPECT_LE(leave - now, 60 * kMs);
    if (leave < last) ++inversions;
    last = std::max(last, leave);
  }
  EXPECT_GT(inversions, 100);
}

TEST(LinkModelTest, LossRateWithinStatisticalBounds) {
  LinkModel link(42);
  link.set_config(Spec("loss=0.1"));
  const int n = 20000;
  for (int i = 0; i < n; ++i) link.Admit(100, Proto::kUdp, i);
  // sd = sqrt(n p (1-p)) = 42.4; 5 sd.
  EXPECT_NEAR(static_cast<double>(link.stats().lost.packets), 2000, 212);
  EXPECT_EQ(link.stats().in.packets, static_cast<uint64_t>(n));
}

TEST(LinkModelTest, SameSeedReplaysDifferentSeedDiffers) {
  auto run = [](uint64_t seed) {
    LinkModel link(seed);
    link.set_config(Spec("loss=0.3,delay=10ms,jitter=5ms"));
    std::vector<int64_t> out;
    for (int i = 0; i < 500; ++i) {
      LinkModel::Result r = link.Admit(100, Proto::kUdp, i * kMs);
      out.push_back(r.verdict == Verdict::kPass ? r.leave_ns : -1);
    }
    return out;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(LinkModelTest, RateSpacesPacketsBySerializationTime) {
  LinkModel link(1);
  link.set_config(Spec("rate=20mbit,queue=1mb,delay=10ms"));
  // 1500 bytes at 20 Mbit/s: 600 us each. A burst of 10 at t=0.
  for (int i = 0; i < 10; ++i) {
    LinkModel::Result r = link.Admit(1500, Proto::kTcp, 0);
    ASSERT_EQ(r.verdict, Verdict::kPass);
    EXPECT_EQ(r.leave_ns, (i + 1) * 600000 + 10 * kMs);
  }
  EXPECT_EQ(link.QueuedBytes(0), 15000u);
  EXPECT_EQ(link.QueuedBytes(3 * kMs), 15000u - 5 * 1500);
  EXPECT_EQ(link.QueuedBytes(6 * kMs), 0u);
  // An idle link starts the next packet at once.
  EXPECT_EQ(link.Admit(1500, Proto::kTcp, 100 * kMs).leave_ns,
            100 * kMs + 600000 + 10 * kMs);
}

TEST(LinkModelTest, LongRunThroughputEqualsTheRate) {
  LinkModel link(1);
  link.set_config(Spec("rate=20mbit,queue=100ms"));
  // Offered 40 Mbit/s for 10 s: half gets through, the rest is dropped.
  int64_t last_leave = 0;
  uint64_t passed_bytes = 0;
  for (int64_t t = 0; t < 10000 * kMs; t += 300000) {  // 1500 B per 0.3 ms
    LinkModel::Result r = link.Admit(1500, Proto::kUdp, t);
    if (r.verdict == Verdict::kPass) {
      passed_bytes += 1500;
      last_leave = r.leave_ns;
    }
  }
  double mbit = passed_bytes * 8 / (last_leave / 1e9) / 1e6;
  EXPECT_NEAR(mbit, 20, 0.1);
  EXPECT_GT(link.stats().queue_drops.packets, 0u);
  // The backlog never exceeds 100 ms at 20 Mbit/s = 250000 bytes.
  EXPECT_LE(link.stats().max_queue_bytes, 250000u);
  EXPECT_GT(link.stats().max_queue_bytes, 250000u - 3000);
}

TEST(LinkModelTest, QueueByteLimitIsDropTail) {
  LinkModel link(1);
  link.set_config(Spec("rate=1mbit,queue=4000"));
  std::vector<Verdict> v;
  for (int i = 0; i < 4; ++i) v.push_back(link.Admit(1500, Proto::kUdp, 0).verdict);
  // 1500, 3000 fit; 4500 does not: the newcomers are dropped.
  EXPECT_EQ(v, (std::vector<Verdict>{Verdict::kPass, Verdict::kPass,
                                     Verdict::kQueueDrop, Verdict::kQueueDrop}));
  EXPECT_EQ(link.stats().queue_drops.packets, 2u);
  // An empty queue takes even a packet above the limit.
  LinkModel tiny(1);
  tiny.set_config(Spec("rate=1mbit,queue=100"));
  EXPECT_EQ(tiny.Admit(1500, Proto::kUdp, 0).verdict, Verdict::kPass);
}

TEST(LinkModelTest, FreezeBlackholesArrivalsAndDepartures) {
  LinkModel link(1);
  link.set_config(Spec("delay=10ms"));
  LinkModel::Result before = link.Admit(100, Proto::kUdp, 0);
  ASSERT_EQ(before.verdict, Verdict::kPass);
  link.FreezeUntil(1000 * kMs);
  EXPECT_EQ(link.Admit(100, Proto::kUdp, 5 * kMs).verdict, Verdict::kBlackholed);
  EXPECT_FALSE(link.Leave(100, Proto::kUdp, before.leave_ns));
  EXPECT_EQ(link.stats().blackholed.packets, 2u);
  EXPECT_EQ(link.Admit(100, Proto::kUdp, 1000 * kMs).verdict, Verdict::kPass);
}

TEST(LinkModelTest, ProtocolDropFiltersOnlyThatProtocol) {
  LinkModel link(1);
  link.set_config(Spec("drop=udp"));
  EXPECT_EQ(link.Admit(100, Proto::kUdp, 0).verdict, Verdict::kFiltered);
  EXPECT_EQ(link.Admit(100, Proto::kTcp, 0).verdict, Verdict::kPass);
  EXPECT_EQ(link.Admit(100, Proto::kIcmp, 0).verdict, Verdict::kPass);
  EXPECT_EQ(link.stats().filtered.packets, 1u);
  EXPECT_EQ(link.stats().proto_in[int(Proto::kUdp)].packets, 1u);
}

TEST(LinkModelTest, CountersBalance) {
  LinkModel link(3);
  link.set_config(Spec("loss=0.2,rate=5mbit,queue=3000,drop=icmp"));
  std::vector<int64_t> leaves;
  for (int i = 0; i < 1000; ++i) {
    Proto p = i % 10 == 0 ? Proto::kIcmp : Proto::kUdp;
    LinkModel::Result r = link.Admit(1000, p, i * 100000);
    if (r.verdict == Verdict::kPass) {
      EXPECT_TRUE(link.Leave(1000, p, r.leave_ns));
    }
  }
  const LinkStats& s = link.stats();
  EXPECT_EQ(s.in.packets, s.delivered.packets + s.filtered.packets +
                              s.blackholed.packets + s.lost.packets +
                              s.queue_drops.packets);
  EXPECT_EQ(s.filtered.packets, 100u);
  EXPECT_GT(s.queue_drops.packets, 0u);
}

}  // namespace
}  // namespace moshx::netem
