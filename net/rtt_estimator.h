// Round-trip time estimation and the timestamp echo that feeds it
// (docs/protocol.md §4).
//
// Every datagram carries a 16-bit timestamp (sender's ms clock mod 65536) and
// a 16-bit timestamp_reply echoing the peer's most recent timestamp, advanced
// by how long it was held. TimestampEcho keeps the one timestamp to echo;
// RttEstimator turns replies into SRTT/RTTVAR (RFC 6298 arithmetic in
// doubles, as mosh does) and derives the retransmission timeout and the
// frame interval from them.
//
// Both classes are pure: they never read a clock; callers pass `now`.
// Value types, not thread-safe.
#ifndef MOSHX_NET_RTT_ESTIMATOR_H_
#define MOSHX_NET_RTT_ESTIMATOR_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "net/clock.h"
#include "net/packet_format.h"  // kNoTimestamp: 0xFFFF = "none" (docs/protocol.md §3.5)

namespace moshx::net {

// The 16-bit wire timestamp for `now`: ms mod 65536, with the reserved value
// 0xFFFF replaced by 0.
uint16_t Timestamp16(MonoTime now);

class RttEstimator {
 public:
  // Before any sample mosh assumes a slow path: SRTT 1 s, RTTVAR 0.5 s, which
  // gives the maximal RTO (1 s) and frame interval (250 ms) until measured.
  static constexpr double kInitialSrttMs = 1000;
  static constexpr double kInitialRttvarMs = 500;
  // RTO clamp: 50 ms keeps a LAN from retransmitting on scheduling noise;
  // 1 s caps the wait so a roaming user sees recovery within a second.
  static constexpr absl::Duration kMinRto = absl::Milliseconds(50);
  static constexpr absl::Duration kMaxRto = absl::Milliseconds(1000);
  // Frame interval clamp: 20 ms (50 frames/s) is as fast as a human can see;
  // 250 ms keeps interactivity on terrible links while pacing to ~2 frames
  // per RTT on normal ones (interval = SRTT/2).
  static constexpr absl::Duration kSendIntervalMin = absl::Milliseconds(20);
  static constexpr absl::Duration kSendIntervalMax = absl::Milliseconds(250);
  // Replies implying an RTT of 5 s or more are discarded: they come from a
  // suspended process or a wrapped 16-bit clock, not from the path.
  static constexpr absl::Duration kMaxSample = absl::Milliseconds(5000);

  // Adds one measured round trip. Samples >= kMaxSample are ignored.
  // Returns whether the sample was used.
  bool AddSample(absl::Duration rtt);
  // Computes R = (Timestamp16(now) - reply) mod 65536 and adds it.
  bool AddReply(MonoTime now, uint16_t timestamp_reply);

  bool has_sample() const { return has_sample_; }
  double srtt_ms() const { return srtt_ms_; }
  double rttvar_ms() const { return rttvar_ms_; }
  absl::Duration srtt() const { return absl::Milliseconds(srtt_ms_); }

  // ceil(SRTT + 4 RTTVAR) ms clamped to [kMinRto, kMaxRto].
  absl::Duration Rto() const;
  // ceil(SRTT / 2) ms clamped to [kSendIntervalMin, kSendIntervalMax].
  absl::Duration SendInterval() const;

 private:
  bool has_sample_ = false;
  double srtt_ms_ = kInitialSrttMs;
  double rttvar_ms_ = kInitialRttvarMs;
};

// Holds the peer's latest timestamp until it is echoed (at most once, and
// only within kMaxHold of its arrival).
class TimestampEcho {
 public:
  // Older timestamps would make the peer's RTT sample meaningless.
  static constexpr absl::Duration kMaxHold = absl::Milliseconds(1000);
  // ECN congestion-experienced marks make the echoed timestamp 500 ms older,
  // so the peer measures a 500 ms longer round trip and its SRTT and frame
  // interval grow (docs/protocol.md §4.4).
  static constexpr absl::Duration kCongestionPenalty = absl::Milliseconds(500);

  // Records a timestamp from an in-order datagram. kNoTimestamp is ignored.
  void OnReceived(MonoTime now, uint16_t timestamp, bool congestion_experienced);
  // The timestamp_reply for a datagram sent at `now`: the held timestamp
  // advanced by the hold time, or kNoTimestamp. Consumes the held value.
  uint16_t TakeReply(MonoTime now);

 private:
  std::optional<uint16_t> saved_;
  MonoTime saved_at_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_RTT_ESTIMATOR_H_
