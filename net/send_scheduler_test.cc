#include "net/send_scheduler.h"

#include "gtest/gtest.h"

namespace moshx::net {
namespace {

constexpr absl::Duration kRto = absl::Milliseconds(300);
constexpr absl::Duration kInterval = absl::Milliseconds(50);

MonoTime AtMs(int64_t ms) { return MonoTime::FromEpoch(absl::Milliseconds(ms)); }

SendScheduler::Comparison Same() { return {false, false, false}; }
SendScheduler::Comparison Changed() { return {true, true, true}; }

TEST(SendSchedulerTest, StartsWithStateZeroAndImmediateAck) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  ASSERT_EQ(s.sent().size(), 1u);
  EXPECT_EQ(s.front().num, 0u);
  s.UpdateAssumed(AtMs(0), kRto);
  s.CalculateTimers(AtMs(0), Same(), kRto, kInterval);
  EXPECT_TRUE(s.Due(AtMs(0)));
  EXPECT_EQ(s.Decide(AtMs(0), /*diff_empty=*/true), SendScheduler::Action::kEmptyAck);
}

TEST(SendSchedulerTest, HeartbeatsUseNewStateNumbersEveryAckInterval) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  EXPECT_EQ(s.RecordEmptyAck(AtMs(0)), 1u);
  s.CalculateTimers(AtMs(1), Same(), kRto, kInterval);
  EXPECT_EQ(s.NextWakeup(), AtMs(3000));
  EXPECT_EQ(s.RecordEmptyAck(AtMs(3000)), 2u);
  EXPECT_EQ(s.back().num, 2u);
}

TEST(SendSchedulerTest, NewDataWaitsForMindelayAndFrameInterval) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);  // state 1 at t=0
  s.UpdateAssumed(AtMs(10), kRto);
  s.CalculateTimers(AtMs(10), Changed(), kRto, kInterval);
  // max(mindelay 10+8, back.send_time 0 + 50).
  EXPECT_EQ(s.next_send_time(), AtMs(50));
  s.CalculateTimers(AtMs(60), Changed(), kRto, kInterval);
  // The mindelay clock started at 10 ms and is kept.
  EXPECT_EQ(s.next_send_time(), AtMs(50));
  EXPECT_EQ(s.Decide(AtMs(60), false), SendScheduler::Action::kData);
}

TEST(SendSchedulerTest, MindelayCollectsABurst) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.CalculateTimers(AtMs(1000), Changed(), kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(1008));
}

// A long frame interval (SRTT/2 at 200 ms RTT): a flood's frames go out
// once per interval, but a state that answers input leaves one mindelay
// after the input, twice at most per input, and only within the window.
constexpr absl::Duration kLongInterval = absl::Milliseconds(100);

TEST(SendSchedulerTest, TheServerAnswersInputAfterTheMindelay) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.set_reply_to_input(true);
  s.RecordDataSend(AtMs(0), false);  // a flood frame at t=0
  s.CalculateTimers(AtMs(2), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(100));  // the flood waits for the interval
  s.OnNewRemoteState(AtMs(30), 5, /*carried_data=*/true);  // Ctrl-C arrives
  s.CalculateTimers(AtMs(30), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(38));
  s.RecordDataSend(AtMs(38), false);
  s.CalculateTimers(AtMs(40), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(48));  // the second reply: its own mindelay
  s.RecordDataSend(AtMs(48), false);
  s.CalculateTimers(AtMs(49), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(148));  // two per input: the interval again
  // A state without data (an ack, a heartbeat) is no input.
  s.OnNewRemoteState(AtMs(60), 6, /*carried_data=*/false);
  s.CalculateTimers(AtMs(60), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(148));
}

// The end of a long answer (the prompt after a flood, long after the
// input) leaves at once, one frame per MarkAnswerEnd(); then the interval
// rules again.
TEST(SendSchedulerTest, TheEndOfAnAnswerLeavesAtOnceOncePerMark) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.set_reply_to_input(true);
  s.RecordDataSend(AtMs(1000), false);  // a flood frame
  s.CalculateTimers(AtMs(1020), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(1100));
  s.MarkAnswerEnd(AtMs(1025));
  s.CalculateTimers(AtMs(1030), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(1025));
  // The deadline stays where the mark put it, however late the timers are
  // updated: a deadline of "now" at every update is never found due.
  s.CalculateTimers(AtMs(1031), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(1025));
  s.RecordDataSend(AtMs(1031), false);
  s.CalculateTimers(AtMs(1040), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(1131));  // used up
  // Nothing new to send (the answer already went out): the mark lapses, and
  // a later change waits for the interval as usual.
  SendScheduler q(AtMs(0), SendScheduler::kServerSendMindelay);
  q.RecordDataSend(AtMs(1000), false);
  q.MarkAnswerEnd(AtMs(1005));
  q.CalculateTimers(AtMs(1010), SendScheduler::Comparison{false, false, false}, kRto,
                    kLongInterval);
  EXPECT_EQ(q.next_send_time(), MonoTime::Infinite());
  q.CalculateTimers(AtMs(1020), Changed(), kRto, kLongInterval);
  EXPECT_EQ(q.next_send_time(), AtMs(1100));
}

// A flood after input (MarkLongAnswer): its first reply frame still leaves
// one mindelay after the input, the frames after it wait for the interval.
TEST(SendSchedulerTest, ALongAnswerLeavesOnlyItsFirstReplyFrameEarly) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.set_reply_to_input(true);
  s.RecordDataSend(AtMs(0), false);
  s.OnNewRemoteState(AtMs(30), 5, /*carried_data=*/true);
  s.MarkLongAnswer();  // found long before its first frame left
  s.CalculateTimers(AtMs(30), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(38));
  s.RecordDataSend(AtMs(38), false);
  s.CalculateTimers(AtMs(40), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(138));  // not 46: the interval
  // Found long after the first reply frame: the second one is not sent early.
  SendScheduler q(AtMs(0), SendScheduler::kServerSendMindelay);
  q.set_reply_to_input(true);
  q.RecordDataSend(AtMs(0), false);
  q.OnNewRemoteState(AtMs(30), 5, /*carried_data=*/true);
  q.CalculateTimers(AtMs(30), Changed(), kRto, kLongInterval);
  EXPECT_EQ(q.next_send_time(), AtMs(38));
  q.RecordDataSend(AtMs(38), false);
  q.MarkLongAnswer();
  q.CalculateTimers(AtMs(40), Changed(), kRto, kLongInterval);
  EXPECT_EQ(q.next_send_time(), AtMs(138));  // not 48
  // The end of the answer still leaves at once.
  q.MarkAnswerEnd(AtMs(60));
  q.CalculateTimers(AtMs(61), Changed(), kRto, kLongInterval);
  EXPECT_EQ(q.next_send_time(), AtMs(60));
}

TEST(SendSchedulerTest, AnInputReplyIsNeverLaterThanTheFrameIntervalNorOutsideItsWindow) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.set_reply_to_input(true);
  s.RecordDataSend(AtMs(0), false);
  s.OnNewRemoteState(AtMs(10), 5, /*carried_data=*/true);
  // Nothing changed until after the window: the interval rules.
  s.CalculateTimers(AtMs(58), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(100));
  // Off (the client's side, and mosh's rule): input changes nothing.
  SendScheduler c(AtMs(0), SendScheduler::kServerSendMindelay);
  c.RecordDataSend(AtMs(0), false);
  c.OnNewRemoteState(AtMs(30), 5, /*carried_data=*/true);
  c.CalculateTimers(AtMs(30), Changed(), kRto, kLongInterval);
  EXPECT_EQ(c.next_send_time(), AtMs(100));
}

// An empty ack just before new data (a client acking the server's flood
// when a key comes) does not hold the data back: the frame interval counts
// from the last data sent.
TEST(SendSchedulerTest, NewDataIsPacedFromTheLastDataSentNotFromAnAck) {
  SendScheduler s(AtMs(0), SendScheduler::kClientSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  s.RecordEmptyAck(AtMs(90));
  s.CalculateTimers(AtMs(95), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(100));  // not 190
  s.RecordDataSend(AtMs(100), false);
  s.RecordEmptyAck(AtMs(150));
  s.CalculateTimers(AtMs(250), Changed(), kRto, kLongInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(251));  // the mindelay only
}

TEST(SendSchedulerTest, AssumedFallsBackToFrontAfterRtoPlusAckDelay) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  s.UpdateAssumed(AtMs(399), kRto);
  EXPECT_EQ(s.assumed().num, 1u);
  s.UpdateAssumed(AtMs(400), kRto);
  EXPECT_EQ(s.assumed().num, 0u);
}

// The receiver acknowledges a state without data (a heartbeat) only with its
// next datagram, up to 3 s later: an old unacknowledged heartbeat is no sign
// of loss, and a state diffed from the front after it is assumed received
// (docs/protocol.md §6.4), instead of being resent every frame interval.
TEST(SendSchedulerTest, AnOldHeartbeatDoesNotHideANewerStateDiffedFromTheFront) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  EXPECT_EQ(s.RecordEmptyAck(AtMs(0)), 1u);
  s.UpdateAssumed(AtMs(1000), kRto);
  ASSERT_EQ(s.assumed().num, 0u);
  EXPECT_EQ(s.RecordDataSend(AtMs(1000), false), 2u);
  s.UpdateAssumed(AtMs(1100), kRto);
  EXPECT_EQ(s.assumed().num, 2u);
  s.UpdateAssumed(AtMs(1400), kRto);  // its own RTO + ack delay passed
  EXPECT_EQ(s.assumed().num, 0u);
}

// A state diffed from one that is presumed lost cannot be applied: it is
// not assumed, however recent (mosh's rule).
TEST(SendSchedulerTest, AStateDiffedFromAPresumedLostStateIsNotAssumed) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);  // 1, from 0
  s.UpdateAssumed(AtMs(350), kRto);
  ASSERT_EQ(s.assumed().num, 1u);
  s.RecordDataSend(AtMs(350), false);  // 2, from 1
  s.UpdateAssumed(AtMs(450), kRto);    // 1 is presumed lost
  EXPECT_EQ(s.assumed().num, 0u);
  s.RecordDataSend(AtMs(450), false);  // 3, from the front
  s.UpdateAssumed(AtMs(500), kRto);
  EXPECT_EQ(s.assumed().num, 3u);
}

TEST(SendSchedulerTest, RetransmitsAtFrameRateOnlyWhilePeerHeardRecently) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  SendScheduler::Comparison unacked{true, true, false};
  s.UpdateAssumed(AtMs(500), kRto);
  s.CalculateTimers(AtMs(500), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), MonoTime::Infinite());  // never heard
  s.OnNewRemoteState(AtMs(500), 1, false);
  s.CalculateTimers(AtMs(500), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(50));
  s.CalculateTimers(AtMs(10500), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), MonoTime::Infinite());
}

TEST(SendSchedulerTest, RetransmitsAtMostOnceASecondToAQuietPeer) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.OnNewRemoteState(AtMs(0), 1, false);
  s.RecordDataSend(AtMs(3990), false);
  SendScheduler::Comparison unacked{true, true, false};
  s.CalculateTimers(AtMs(3995), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(4040));  // heard 3.995 s ago: frame rate
  s.CalculateTimers(AtMs(4000), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(4990));  // quiet for 4 s: a second apart
  s.CalculateTimers(AtMs(4000), {true, false, false}, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(4990));  // also the RTO retransmission
  s.CalculateTimers(AtMs(4000), Changed(), kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(4040));  // a new state is not held back
  s.OnNewRemoteState(AtMs(4100), 2, false);
  s.CalculateTimers(AtMs(4100), unacked, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(4040));  // heard again: frame rate
}

TEST(SendSchedulerTest, WaitsRtoPlusAckDelayForAckOfAssumedState) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.OnNewRemoteState(AtMs(0), 1, false);
  s.RecordDataSend(AtMs(0), false);
  s.CalculateTimers(AtMs(10), {true, false, false}, kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(400));
}

TEST(SendSchedulerTest, DataAckDueWithinAckDelay) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordEmptyAck(AtMs(0));
  s.OnNewRemoteState(AtMs(1000), 5, /*carried_data=*/true);
  s.CalculateTimers(AtMs(1000), Same(), kRto, kInterval);
  EXPECT_EQ(s.next_ack_time(), AtMs(1100));
  EXPECT_EQ(s.ack_num(), 5u);
  s.RecordEmptyAck(AtMs(1100));
  s.OnInstructionSent(7);
  EXPECT_FALSE(s.pending_data_ack());
}

TEST(SendSchedulerTest, EmptyStatesAreNotAckedEarly) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordEmptyAck(AtMs(0));
  s.OnNewRemoteState(AtMs(1000), 5, /*carried_data=*/false);
  s.CalculateTimers(AtMs(1000), Same(), kRto, kInterval);
  EXPECT_EQ(s.next_ack_time(), AtMs(3000));
}

TEST(SendSchedulerTest, AckRemovesOlderStatesAndUnknownAcksAreIgnored) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  for (int i = 1; i <= 4; ++i) s.RecordDataSend(AtMs(i), false);
  s.ProcessAck(99);
  EXPECT_EQ(s.sent().size(), 5u);
  s.ProcessAck(3);
  ASSERT_EQ(s.sent().size(), 2u);
  EXPECT_EQ(s.front().num, 3u);
  EXPECT_EQ(s.back().num, 4u);
}

TEST(SendSchedulerTest, DataSendBecomesAssumed) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  EXPECT_EQ(s.assumed().num, 1u);
  EXPECT_FALSE(s.assumed_is_front());
}

TEST(SendSchedulerTest, ResendOfSameStateKeepsNumber) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  EXPECT_EQ(s.RecordDataSend(AtMs(0), false), 1u);
  EXPECT_EQ(s.RecordDataSend(AtMs(50), true), 1u);
  EXPECT_EQ(s.back().send_time, AtMs(50));
  EXPECT_EQ(s.sent().size(), 2u);
}

TEST(SendSchedulerTest, LogIsBoundedByDroppingSixteenthFromEnd) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  for (int i = 1; i <= 32; ++i) s.RecordDataSend(AtMs(i), false);
  ASSERT_EQ(s.sent().size(), 32u);  // 33 entries -> one dropped
  EXPECT_EQ(s.front().num, 0u);
  EXPECT_EQ(s.back().num, 32u);
  // Entry 33-16 = index 17 (state 17) was dropped.
  for (const auto& r : s.sent()) EXPECT_NE(r.num, 17u);
}

TEST(SendSchedulerTest, PreferFrontWhenDiffsAreSimilar) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  s.UpdateAssumed(AtMs(1), kRto);
  EXPECT_FALSE(s.PreferFront(2000, 100));
  EXPECT_FALSE(s.assumed_is_front());
  EXPECT_TRUE(s.PreferFront(150, 100));
  EXPECT_TRUE(s.assumed_is_front());
}

TEST(SendSchedulerTest, AnUrgentKeyIsNotPacedAndItsWindowEndsAfterItsFramesOrItsTime) {
  SendScheduler s(AtMs(0), SendScheduler::kClientSendMindelay);
  s.RecordDataSend(AtMs(0), false);  // a key typed just before
  EXPECT_FALSE(s.urgent(AtMs(10)));
  s.MarkUrgent(AtMs(10));            // then Ctrl-C
  s.CalculateTimers(AtMs(10), Changed(), kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(11));  // not 50: the frame interval
  for (int i = 0; i < SendScheduler::kUrgentFrames; ++i) {
    EXPECT_TRUE(s.urgent(AtMs(11 + i)));
    s.RecordDataSend(AtMs(11 + i), false);
  }
  EXPECT_FALSE(s.urgent(AtMs(20)));  // its frames used up
  s.CalculateTimers(AtMs(20), Changed(), kRto, kInterval);
  EXPECT_EQ(s.next_send_time(), AtMs(14 + 50));  // paced again

  s.MarkUrgent(AtMs(100));
  EXPECT_TRUE(s.urgent(AtMs(100) + SendScheduler::kUrgentWindow));
  EXPECT_FALSE(s.urgent(AtMs(101) + SendScheduler::kUrgentWindow));  // its time is over
}

TEST(SendSchedulerTest, AnUrgentFrameGoesFromTheFrontState) {
  SendScheduler s(AtMs(0), SendScheduler::kServerSendMindelay);
  s.RecordDataSend(AtMs(0), false);
  s.UpdateAssumed(AtMs(1), kRto);
  EXPECT_FALSE(s.PreferFront(2000, 100));
  EXPECT_TRUE(s.PreferFront(2000, 100, /*force=*/true));
  EXPECT_TRUE(s.assumed_is_front());
}

TEST(SendSchedulerTest, ShutdownUsesMaxNumberAndGivesUpAfterSixteenTries) {
  SendScheduler s(AtMs(0), SendScheduler::kClientSendMindelay);
  s.StartShutdown(AtMs(100));
  s.CalculateTimers(AtMs(100), Same(), kRto, kInterval);
  EXPECT_EQ(s.next_ack_time(), AtMs(50));  // back.send_time + interval
  for (int i = 0; i < 16; ++i) {
    EXPECT_FALSE(s.ShutdownAckTimedOut(AtMs(100 + i)));
    EXPECT_EQ(s.RecordEmptyAck(AtMs(100 + i)), kShutdownNum);
    s.OnInstructionSent(kShutdownNum);
  }
  EXPECT_TRUE(s.ShutdownAckTimedOut(AtMs(200)));
  EXPECT_FALSE(s.shutdown_acknowledged());
  s.ProcessAck(kShutdownNum);
  EXPECT_TRUE(s.shutdown_acknowledged());
}

TEST(SendSchedulerTest, ShutdownGivesUpAfterTenSeconds) {
  SendScheduler s(AtMs(0), SendScheduler::kClientSendMindelay);
  s.StartShutdown(AtMs(0));
  EXPECT_FALSE(s.ShutdownAckTimedOut(AtMs(9999)));
  EXPECT_TRUE(s.ShutdownAckTimedOut(AtMs(10000)));
}

TEST(SendSchedulerTest, ReceivedShutdownHurriesTheAck) {
  SendScheduler s(AtMs(0), SendScheduler::kClientSendMindelay);
  s.RecordEmptyAck(AtMs(0));
  s.OnNewRemoteState(AtMs(1000), kShutdownNum, false);
  s.CalculateTimers(AtMs(1000), Same(), kRto, kInterval);
  EXPECT_TRUE(s.Due(AtMs(1000)));
  EXPECT_EQ(s.Decide(AtMs(1000), true), SendScheduler::Action::kEmptyAck);
}

}  // namespace
}  // namespace moshx::net
