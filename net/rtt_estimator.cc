#include "net/rtt_estimator.h"

#include <algorithm>
#include <cmath>

namespace moshx::net {
namespace {

absl::Duration ClampMs(double ms, absl::Duration lo, absl::Duration hi) {
  return std::clamp(absl::Milliseconds(std::ceil(ms)), lo, hi);
}

}  // namespace

uint16_t Timestamp16(MonoTime now) {
  uint16_t ts = static_cast<uint16_t>(now.ToMilliseconds() & 0xFFFF);
  return ts == kNoTimestamp ? 0 : ts;
}

bool RttEstimator::AddSample(absl::Duration rtt) {
  if (rtt >= kMaxSample || rtt < absl::ZeroDuration()) return false;
  double r = absl::ToDoubleMilliseconds(rtt);
  if (!has_sample_) {
    srtt_ms_ = r;
    rttvar_ms_ = r / 2;
    has_sample_ = true;
    return true;
  }
  // RFC 6298 §2.3 with alpha = 1/8, beta = 1/4; RTTVAR first (uses old SRTT).
  rttvar_ms_ = 0.75 * rttvar_ms_ + 0.25 * std::fabs(srtt_ms_ - r);
  srtt_ms_ = 0.875 * srtt_ms_ + 0.125 * r;
  return true;
}

bool RttEstimator::AddReply(MonoTime now, uint16_t timestamp_reply) {
  if (timestamp_reply == kNoTimestamp) return false;
  uint16_t r = static_cast<uint16_t>(Timestamp16(now) - timestamp_reply);
  return AddSample(absl::Milliseconds(r));
}

absl::Duration RttEstimator::Rto() const {
  return ClampMs(srtt_ms_ + 4 * rttvar_ms_, kMinRto, kMaxRto);
}

absl::Duration RttEstimator::SendInterval() const {
  return ClampMs(srtt_ms_ / 2, kSendIntervalMin, kSendIntervalMax);
}

void TimestampEcho::OnReceived(MonoTime now, uint16_t timestamp,
                               bool congestion_experienced) {
  if (timestamp == kNoTimestamp) return;
  // A congestion mark makes the saved value older (smaller), so the reply is
  // smaller and the peer's RTT sample 500 ms larger. (Moving the arrival time
  // into the past instead would shrink the sample: it would go negative,
  // wrap past kMaxSample and be discarded, leaving the peer's SRTT as it was.)
  const int64_t penalty_ms = absl::ToInt64Milliseconds(kCongestionPenalty);
  saved_ = static_cast<uint16_t>(congestion_experienced ? timestamp - penalty_ms : timestamp);
  saved_at_ = now;
}

uint16_t TimestampEcho::TakeReply(MonoTime now) {
  if (!saved_.has_value() || now - saved_at_ >= kMaxHold) return kNoTimestamp;
  int64_t held_ms = absl::ToInt64Milliseconds(now - saved_at_);
  uint16_t reply = static_cast<uint16_t>(*saved_ + held_ms);
  saved_.reset();
  return reply;
}

}  // namespace moshx::net

