// CongestionController: how fast the stream multiplexer may send, chosen so
// that bulk streams fill a clean link while the bottleneck queue stays short
// enough for the terminal's frames, which share that queue, to pass within
// about kDefaultQueueBudget of the path's bare round trip.
//
// Why this design (docs/streams.md has the longer version): a loss-based
// controller (Reno, CUBIC) fills the bottleneck buffer until it overflows,
// so a keystroke's echo queues behind up to a buffer's worth of bulk data —
// hundreds of ms on common links. A purely delay-based one (Vegas, LEDBAT)
// keeps queues short but adapts slowly and mistakes a longer path (a roam)
// for congestion. This one is model-based and paced, in the manner of BBR:
// it measures the delivery rate (bytes acknowledged per time, per the
// delivery-rate estimation method of draft-cheng-iccrg-delivery-rate-
// estimation) and the minimum RTT, paces at about the measured bottleneck
// rate, and caps bytes in flight at
//     bandwidth x (min_rtt + queue_budget) + a few packets,
// so at most `queue_budget` of our data waits in the bottleneck queue. Its
// bandwidth probes are sized to the same budget (gain 1 + budget/min_rtt,
// at most 1.25, for one round trip, followed by a draining round at the
// mirror gain).
//
// Reactions:
//  * Standing queue (even the smallest RTT of a round is above min_rtt +
//    budget): the bandwidth estimate is stale (the link got slower, or
//    someone else shares it): it is replaced by the round's measured rate
//    and the next round drains. If the queue persists kRebaselineRounds
//    rounds although we send below the measured rate, the path itself got
//    longer (a roam): min_rtt is re-measured and the model restarts.
//  * Loss: a round losing more than kLossThreshold of its packets takes
//    the bandwidth estimate down to what was delivered in that round (a
//    policer, a shallow buffer, a competing flow). Lower random loss — radio
//    noise — does not slow the sender: the retransmissions fill the gaps.
//  * Startup doubles the rate per round trip and ends when the rate stops
//    growing, when RTTs rise (HyStart-style), or on loss; then drains.
//  * Every 10 s without a new minimum RTT it spends max(200 ms, one round)
//    at half the bandwidth-delay product to re-measure the bare RTT.
//  * Persistent congestion (no ack across several probe timeouts, i.e. an
//    outage) and path changes restart the model from scratch.
//
// The pacer is a token bucket refilled at the pacing rate, with a burst of
// max(2 packets, 2 ms of data) so a loop that wakes a millisecond late still
// keeps up.
//
// Pure: takes `now` on every call, never reads a clock. Not thread-safe.
#ifndef MOSHX_NET_STREAM_CONGESTION_CONTROLLER_H_
#define MOSHX_NET_STREAM_CONGESTION_CONTROLLER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "net/clock.h"

namespace moshx::net::stream {

// State captured when a packet is sent, needed to turn its ack into a
// delivery-rate sample.
struct DeliverySnapshot {
  uint64_t delivered = 0;       // bytes delivered before it was sent
  MonoTime delivered_time;      // when `delivered` was last advanced
  MonoTime first_sent_time;     // send time of the packet that started the interval
  bool app_limited = false;     // sent while the sender ran out of data
};

class CongestionController {
 public:
  // The queueing delay this controller aims to stay under. The terminal's
  // frames see at most about this much extra delay from our bulk data; the
  // budget in issue 16 is 20 ms beyond one RTT, and half of it is left for
  // the pacing burst, ack aggregation and rate-estimate noise.
  static constexpr absl::Duration kDefaultQueueBudget = absl::Milliseconds(10);
  static constexpr double kLossThreshold = 0.10;
  static constexpr int kRebaselineRounds = 4;
  // Rounds over which the bandwidth estimate is the maximum sample.
  static constexpr size_t kBandwidthWindowRounds = 10;
  static constexpr absl::Duration kMinRttWindow = absl::Seconds(10);
  static constexpr absl::Duration kProbeRttTime = absl::Milliseconds(200);
  static constexpr double kStartupGain = 2.0;
  static constexpr size_t kInitialWindowPackets = 16;
  static constexpr size_t kMinWindowPackets = 4;

  enum class Mode { kStartup, kDrain, kProbeBandwidth, kProbeRtt };

  struct Stats {
    uint64_t rounds = 0;
    uint64_t standing_queue_cuts = 0;
    uint64_t loss_cuts = 0;
    uint64_t rebaselines = 0;
    uint64_t probe_rtts = 0;
    uint64_t restarts = 0;  // persistent congestion or path change
  };

  // `mss`: the largest packet the sender sends (bytes on the wire it counts).
  CongestionController(size_t mss, absl::Duration queue_budget = kDefaultQueueBudget);

  // --- Events from the sender -------------------------------------------------

  // An ack-eliciting packet of `bytes` is being sent with `in_flight` bytes
  // already outstanding. Store the result with the packet.
  DeliverySnapshot OnPacketSent(MonoTime now, size_t bytes, size_t in_flight);
  // The sender had room to send (window and pacing) but no data.
  void OnAppLimited(size_t in_flight);
  // For one incoming ACK: OnPacketAcked/OnPacketLost for each packet it
  // newly acknowledges or lets the sender declare lost, then EndAck with the
  // RTT sample (if the largest acknowledged packet was new) and the bytes
  // still in flight.
  void OnPacketAcked(MonoTime now, size_t bytes, MonoTime sent_time,
                     const DeliverySnapshot& snapshot);
  void OnPacketLost(size_t bytes);
  void EndAck(MonoTime now, std::optional<absl::Duration> rtt, size_t in_flight);
  // No ack for several probe timeouts: minimum window, model restarts.
  void OnPersistentCongestion(MonoTime now);
  // The path changed: forget bandwidth and RTT and start over.
  void Reset(MonoTime now);

  // --- Decisions ----------------------------------------------------------------

  // Bytes that may be in flight.
  size_t cwnd() const { return cwnd_; }
  // Bytes per second.
  double pacing_rate() const;
  // Earliest time a packet of `bytes` may leave (now if the bucket has it).
  MonoTime NextSendTime(MonoTime now, size_t bytes);
  // A packet of `bytes` left at `now` (paced or not: probes and control
  // packets also draw from the bucket, which may go negative).
  void OnPacedSend(MonoTime now, size_t bytes);

  Mode mode() const { return mode_; }
  double bandwidth() const;  // bytes per second; 0 before the first sample
  std::optional<absl::Duration> min_rtt() const { return min_rtt_; }
  const Stats& stats() const { return stats_; }

 private:
  void EndRound(MonoTime now, size_t in_flight);
  void UpdateMode(MonoTime now, size_t in_flight);
  void UpdateCwnd(size_t acked, size_t in_flight);
  void EnterProbeBandwidth(MonoTime now, int phase);
  void SetBandwidthEstimate(double bytes_per_second);
  double ProbeGain() const;
  double Bdp() const;  // bytes
  absl::Duration RttOrDefault() const;
  void Refill(MonoTime now);

  const size_t mss_;
  const absl::Duration queue_budget_;
  Mode mode_ = Mode::kStartup;
  double pacing_gain_ = kStartupGain;
  size_t cwnd_;
  Stats stats_;

  // Delivery-rate estimation.
  uint64_t delivered_ = 0;
  MonoTime delivered_time_;
  MonoTime first_sent_time_;
  uint64_t app_limited_until_ = 0;  // delivered_ value; 0 = not app-limited
  // The current ack's sample.
  bool rs_valid_ = false;
  uint64_t rs_prior_delivered_ = 0;
  MonoTime rs_prior_time_;
  absl::Duration rs_send_elapsed_;
  bool rs_app_limited_ = false;
  size_t rs_acked_ = 0;

  // Rounds: a round ends when a packet sent after the previous round ended
  // is acknowledged.
  uint64_t next_round_delivered_ = 0;
  bool round_start_ = false;
  uint64_t round_ = 0;
  std::array<double, kBandwidthWindowRounds> bw_by_round_{};
  std::optional<absl::Duration> round_min_rtt_;
  int round_rtt_samples_ = 0;
  double round_max_bw_ = 0;
  uint64_t round_acked_ = 0;
  uint64_t round_lost_ = 0;

  std::optional<absl::Duration> min_rtt_;
  MonoTime min_rtt_stamp_;
  double full_bw_ = 0;
  int full_bw_rounds_ = 0;
  int standing_queue_rounds_ = 0;
  int cycle_phase_ = 0;
  MonoTime cycle_stamp_;
  std::optional<MonoTime> probe_rtt_done_;
  uint64_t probe_rtt_round_ = 0;
  Mode mode_before_probe_rtt_ = Mode::kProbeBandwidth;

  // Pacer.
  double tokens_ = 0;
  MonoTime tokens_time_;
};

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_CONGESTION_CONTROLLER_H_
