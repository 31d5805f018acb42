#include "net/rtt_estimator.h"

#include "gtest/gtest.h"

namespace moshx::net {
namespace {

MonoTime AtMs(int64_t ms) { return MonoTime::FromEpoch(absl::Milliseconds(ms)); }

TEST(RttEstimatorTest, InitialValuesGiveMaxRtoAndSlowFrames) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.srtt_ms(), 1000);
  EXPECT_EQ(rtt.rttvar_ms(), 500);
  EXPECT_EQ(rtt.Rto(), absl::Milliseconds(1000));            // 3000 clamped
  EXPECT_EQ(rtt.SendInterval(), absl::Milliseconds(250));    // 500 clamped
}

TEST(RttEstimatorTest, FirstSampleSetsSrttAndHalfVariance) {
  RttEstimator rtt;
  ASSERT_TRUE(rtt.AddSample(absl::Milliseconds(100)));
  EXPECT_EQ(rtt.srtt_ms(), 100);
  EXPECT_EQ(rtt.rttvar_ms(), 50);
  EXPECT_EQ(rtt.Rto(), absl::Milliseconds(300));
  EXPECT_EQ(rtt.SendInterval(), absl::Milliseconds(50));
}

TEST(RttEstimatorTest, LaterSamplesFollowRfc6298) {
  RttEstimator rtt;
  rtt.AddSample(absl::Milliseconds(100));
  rtt.AddSample(absl::Milliseconds(200));
  // RTTVAR = 0.75*50 + 0.25*|100-200| = 62.5; SRTT = 0.875*100 + 0.125*200.
  EXPECT_DOUBLE_EQ(rtt.rttvar_ms(), 62.5);
  EXPECT_DOUBLE_EQ(rtt.srtt_ms(), 112.5);
  EXPECT_EQ(rtt.Rto(), absl::Milliseconds(363));  // ceil(112.5 + 250)
  EXPECT_EQ(rtt.SendInterval(), absl::Milliseconds(57));  // ceil(56.25)
}

TEST(RttEstimatorTest, RtoAndIntervalAreClamped) {
  RttEstimator rtt;
  rtt.AddSample(absl::Milliseconds(1));
  EXPECT_EQ(rtt.Rto(), absl::Milliseconds(50));
  EXPECT_EQ(rtt.SendInterval(), absl::Milliseconds(20));
  RttEstimator slow;
  slow.AddSample(absl::Milliseconds(4000));
  EXPECT_EQ(slow.Rto(), absl::Milliseconds(1000));
  EXPECT_EQ(slow.SendInterval(), absl::Milliseconds(250));
}

TEST(RttEstimatorTest, IgnoresSamplesOfFiveSecondsOrMore) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.AddSample(absl::Milliseconds(5000)));
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_TRUE(rtt.AddSample(absl::Milliseconds(4999)));
}

TEST(RttEstimatorTest, ReplyArithmeticWrapsModulo65536) {
  RttEstimator rtt;
  // now = 65536 + 30 ms -> timestamp16 = 30; reply 65516 -> R = 50 ms.
  EXPECT_TRUE(rtt.AddReply(AtMs(65536 + 30), 65516));
  EXPECT_EQ(rtt.srtt_ms(), 50);
  EXPECT_FALSE(rtt.AddReply(AtMs(100), kNoTimestamp));
}

TEST(TimestampTest, ReservedValueMapsToZero) {
  EXPECT_EQ(Timestamp16(AtMs(0xFFFF)), 0);
  EXPECT_EQ(Timestamp16(AtMs(0x1FFFE)), 0xFFFE);
  EXPECT_EQ(Timestamp16(AtMs(0x10005)), 5);
}

TEST(TimestampEchoTest, EchoesOnceAdvancedByHoldTime) {
  TimestampEcho echo;
  EXPECT_EQ(echo.TakeReply(AtMs(0)), kNoTimestamp);
  echo.OnReceived(AtMs(1000), 500, false);
  EXPECT_EQ(echo.TakeReply(AtMs(1040)), 540);
  EXPECT_EQ(echo.TakeReply(AtMs(1050)), kNoTimestamp);  // consumed
}

TEST(TimestampEchoTest, DoesNotEchoAfterOneSecond) {
  TimestampEcho echo;
  echo.OnReceived(AtMs(1000), 500, false);
  EXPECT_EQ(echo.TakeReply(AtMs(2000)), kNoTimestamp);
  echo.OnReceived(AtMs(3000), 7, false);
  EXPECT_EQ(echo.TakeReply(AtMs(3999)), 7 + 999);
}

TEST(TimestampEchoTest, CongestionMakesTheEchoFiveHundredMillisecondsOlder) {
  TimestampEcho echo;
  echo.OnReceived(AtMs(1000), 100, true);
  EXPECT_EQ(echo.TakeReply(AtMs(1010)), static_cast<uint16_t>(100 - 500 + 10));
}

TEST(TimestampEchoTest, CongestionMarkLengthensThePeersSampleOnAMeasuredPath) {
  // A 100 ms path (110 ms minus the 10 ms the receiver held the timestamp).
  RttEstimator sender;
  TimestampEcho receiver;
  for (int t = 0; t < 10000; t += 1000) {
    receiver.OnReceived(AtMs(t + 50), Timestamp16(AtMs(t)), false);
    ASSERT_TRUE(sender.AddReply(AtMs(t + 110), receiver.TakeReply(AtMs(t + 60))));
  }
  EXPECT_NEAR(sender.srtt_ms(), 100, 1);
  // The same path with every datagram marked: each sample is 500 ms longer,
  // so SRTT climbs towards 600 ms (the frame interval to its maximum).
  for (int t = 10000; t < 40000; t += 1000) {
    receiver.OnReceived(AtMs(t + 50), Timestamp16(AtMs(t)), true);
    ASSERT_TRUE(sender.AddReply(AtMs(t + 110), receiver.TakeReply(AtMs(t + 60))));
  }
  EXPECT_GT(sender.srtt_ms(), 580);
  EXPECT_EQ(sender.SendInterval(), RttEstimator::kSendIntervalMax);
}

TEST(TimestampEchoTest, NoTimestampIsNotSaved) {
  TimestampEcho echo;
  echo.OnReceived(AtMs(1000), kNoTimestamp, false);
  EXPECT_EQ(echo.TakeReply(AtMs(1001)), kNoTimestamp);
}

}  // namespace
}  // namespace moshx::net
