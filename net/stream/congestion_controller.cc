#include "net/stream/congestion_controller.h"

#include <algorithm>

namespace moshx::net::stream {
namespace {
// Used before the first RTT sample (a typical wide-area path).
constexpr absl::Duration kDefaultRtt = absl::Milliseconds(100);
// Startup's delay exit: RTT rise that ends startup (HyStart's bounds).
constexpr absl::Duration kMinDelayRise = absl::Milliseconds(4);
constexpr int kDelaySamples = 8;
// A round with this much loss ends startup (BBRv2's threshold).
constexpr double kStartupLossThreshold = 0.02;
constexpr int kFullBandwidthRounds = 3;
constexpr double kFullBandwidthGrowth = 1.25;
constexpr int kCyclePhases = 8;
}  // namespace

CongestionController::CongestionController(size_t mss, absl::Duration queue_budget)
    : mss_(mss), queue_budget_(queue_budget), cwnd_(kInitialWindowPackets * mss) {
  tokens_ = 2.0 * mss_;
}

double CongestionController::bandwidth() const {
  return *std::max_element(bw_by_round_.begin(), bw_by_round_.end());
}

void CongestionController::SetBandwidthEstimate(double bytes_per_second) {
  bw_by_round_.fill(0);
  bw_by_round_[round_ % kBandwidthWindowRounds] = bytes_per_second;
}

absl::Duration CongestionController::RttOrDefault() const {
  return min_rtt_.value_or(kDefaultRtt);
}

double CongestionController::Bdp() const {
  return bandwidth() * absl::ToDoubleSeconds(RttOrDefault());
}

double CongestionController::ProbeGain() const {
  double p = absl::FDivDuration(queue_budget_, RttOrDefault());
  return std::clamp(p, 0.05, 0.25);
}

double CongestionController::pacing_rate() const {
  double bw = bandwidth();
  if (bw <= 0) {
    return kStartupGain * static_cast<double>(cwnd_) / absl::ToDoubleSeconds(RttOrDefault());
  }
  return pacing_gain_ * bw;
}

DeliverySnapshot CongestionController::OnPacketSent(MonoTime now, size_t /*bytes*/,
                                                    size_t in_flight) {
  if (in_flight == 0) {
    first_sent_time_ = now;
    delivered_time_ = now;
  }
  return {delivered_, delivered_time_, first_sent_time_, app_limited_until_ > 0};
}

void CongestionController::OnAppLimited(size_t in_flight) {
  app_limited_until_ = std::max<uint64_t>(delivered_ + in_flight, 1);
}

void CongestionController::OnPacketAcked(MonoTime now, size_t bytes, MonoTime sent_time,
                                         const DeliverySnapshot& s) {
  delivered_ += bytes;
  delivered_time_ = now;
  rs_acked_ += bytes;
  round_acked_ += bytes;
  if (!rs_valid_ || s.delivered >= rs_prior_delivered_) {
    rs_valid_ = true;
    rs_prior_delivered_ = s.delivered;
    rs_prior_time_ = s.delivered_time;
    rs_send_elapsed_ = sent_time - s.first_sent_time;
    rs_app_limited_ = s.app_limited;
    first_sent_time_ = sent_time;
  }
  if (s.delivered >= next_round_delivered_) round_start_ = true;
  if (app_limited_until_ > 0 && delivered_ > app_limited_until_) app_limited_until_ = 0;
}

void CongestionController::OnPacketLost(size_t bytes) { round_lost_ += bytes; }

void CongestionController::EndAck(MonoTime now, std::optional<absl::Duration> rtt,
                                  size_t in_flight) {
  if (rtt.has_value()) {
    if (!min_rtt_.has_value() || *rtt <= *min_rtt_) {
      min_rtt_ = *rtt;
      min_rtt_stamp_ = now;
    }
    round_min_rtt_ = std::min(round_min_rtt_.value_or(*rtt), *rtt);
    ++round_rtt_samples_;
  }
  if (rs_valid_) {
    absl::Duration interval = std::max(rs_send_elapsed_, delivered_time_ - rs_prior_time_);
    // Shorter intervals measure ack bunching, not the bottleneck.
    absl::Duration floor = min_rtt_.value_or(absl::Milliseconds(1));
    if (interval >= floor && interval > absl::ZeroDuration()) {
      double rate = static_cast<double>(delivered_ - rs_prior_delivered_) /
                    absl::ToDoubleSeconds(interval);
      if (!rs_app_limited_ || rate >= bandwidth()) {
        double& slot = bw_by_round_[round_ % kBandwidthWindowRounds];
        slot = std::max(slot, rate);
      }
      round_max_bw_ = std::max(round_max_bw_, rate);
    }
  }
  size_t acked = rs_acked_;
  rs_valid_ = false;
  rs_acked_ = 0;
  if (round_start_) {
    round_start_ = false;
    next_round_delivered_ = delivered_;
    EndRound(now, in_flight);
  }
  UpdateMode(now, in_flight);
  UpdateCwnd(acked, in_flight);
}

void CongestionController::EndRound(MonoTime now, size_t /*in_flight*/) {
  ++stats_.rounds;
  double total = static_cast<double>(round_acked_ + round_lost_);
  double loss = total > 0 ? static_cast<double>(round_lost_) / total : 0;
  bool lossy = round_lost_ >= 3 * mss_;
  bool standing = min_rtt_.has_value() && round_min_rtt_.has_value() &&
                  *round_min_rtt_ > *min_rtt_ + queue_budget_;
  if (mode_ == Mode::kStartup) {
    if (bandwidth() >= full_bw_ * kFullBandwidthGrowth) {
      full_bw_ = bandwidth();
      full_bw_rounds_ = 0;
    } else {
      ++full_bw_rounds_;
    }
    if (full_bw_rounds_ >= kFullBandwidthRounds || (lossy && loss > kStartupLossThreshold)) {
      mode_ = Mode::kDrain;
      pacing_gain_ = 1 / kStartupGain;
    }
  } else if (mode_ == Mode::kProbeBandwidth) {
    if (lossy && loss > kLossThreshold) {
      ++stats_.loss_cuts;
      SetBandwidthEstimate(std::min(bandwidth(), round_max_bw_ > 0 ? round_max_bw_
                                                                   : bandwidth() / 2));
      EnterProbeBandwidth(now, 1);
    } else if (standing) {
      ++standing_queue_rounds_;
      if (standing_queue_rounds_ >= kRebaselineRounds) {
        // The queue outlived a cut and a drain: the path itself got longer.
        ++stats_.rebaselines;
        min_rtt_ = round_min_rtt_;
        min_rtt_stamp_ = now;
        standing_queue_rounds_ = 0;
        full_bw_ = 0;
        full_bw_rounds_ = 0;
        mode_ = Mode::kStartup;
        pacing_gain_ = kStartupGain;
      } else if (standing_queue_rounds_ == 1) {
        ++stats_.standing_queue_cuts;
        if (round_max_bw_ > 0) SetBandwidthEstimate(std::min(bandwidth(), round_max_bw_));
        EnterProbeBandwidth(now, 1);
      }
    } else {
      standing_queue_rounds_ = 0;
    }
  }
  ++round_;
  bw_by_round_[round_ % kBandwidthWindowRounds] = 0;
  round_min_rtt_.reset();
  round_rtt_samples_ = 0;
  round_max_bw_ = 0;
  round_acked_ = 0;
  round_lost_ = 0;
}

void CongestionController::EnterProbeBandwidth(MonoTime now, int phase) {
  mode_ = Mode::kProbeBandwidth;
  cycle_phase_ = phase;
  cycle_stamp_ = now;
  double p = ProbeGain();
  pacing_gain_ = phase == 0 ? 1 + p : phase == 1 ? 1 - p : 1;
}

void CongestionController::UpdateMode(MonoTime now, size_t in_flight) {
  if (mode_ == Mode::kStartup && min_rtt_.has_value() && round_min_rtt_.has_value() &&
      round_rtt_samples_ >= kDelaySamples) {
    absl::Duration rise = std::clamp(*min_rtt_ / 8, kMinDelayRise, queue_budget_);
    if (*round_min_rtt_ > *min_rtt_ + rise) {
      full_bw_ = bandwidth();
      mode_ = Mode::kDrain;
      pacing_gain_ = 1 / kStartupGain;
    }
  }
  if (mode_ == Mode::kDrain && static_cast<double>(in_flight) <= Bdp()) {
    EnterProbeBandwidth(now, 2);
  }
  if (mode_ == Mode::kProbeBandwidth) {
    if (now - cycle_stamp_ > RttOrDefault()) {
      EnterProbeBandwidth(now, (cycle_phase_ + 1) % kCyclePhases);
    }
    if (min_rtt_.has_value() && now - min_rtt_stamp_ > kMinRttWindow) {
      ++stats_.probe_rtts;
      mode_ = Mode::kProbeRtt;
      pacing_gain_ = 1;
      probe_rtt_done_.reset();
      round_min_rtt_.reset();  // this probe's minimum becomes min_rtt
    }
  }
  if (mode_ == Mode::kProbeRtt) {
    size_t probe_cwnd = std::max(kMinWindowPackets * mss_, static_cast<size_t>(Bdp() / 2));
    if (!probe_rtt_done_.has_value()) {
      if (in_flight <= probe_cwnd) {
        probe_rtt_done_ = now + std::max(kProbeRttTime, RttOrDefault());
        probe_rtt_round_ = round_ + 1;
      }
    } else if (now >= *probe_rtt_done_ && round_ >= probe_rtt_round_) {
      if (round_min_rtt_.has_value()) min_rtt_ = *round_min_rtt_;
      min_rtt_stamp_ = now;
      EnterProbeBandwidth(now, 2);
    }
  }
}

void CongestionController::UpdateCwnd(size_t acked, size_t /*in_flight*/) {
  const size_t min_window = kMinWindowPackets * mss_;
  double bw = bandwidth();
  switch (mode_) {
    case Mode::kStartup:
      cwnd_ += acked;
      if (bw > 0) {
        cwnd_ = std::min(cwnd_, std::max(static_cast<size_t>(2 * Bdp()) + 4 * mss_,
                                         kInitialWindowPackets * mss_));
      }
      break;
    case Mode::kDrain:
      break;
    case Mode::kProbeRtt:
      cwnd_ = std::max(min_window, static_cast<size_t>(Bdp() / 2));
      break;
    case Mode::kProbeBandwidth: {
      double seconds = absl::ToDoubleSeconds(RttOrDefault() + queue_budget_);
      size_t target = std::max(min_window, static_cast<size_t>(bw * seconds) + 4 * mss_);
      cwnd_ = cwnd_ < target ? std::min(cwnd_ + acked, target) : target;
      break;
    }
  }
  cwnd_ = std::max(cwnd_, min_window);
}

void CongestionController::OnPersistentCongestion(MonoTime now) {
  Reset(now);
  cwnd_ = kMinWindowPackets * mss_;
}

void CongestionController::Reset(MonoTime now) {
  ++stats_.restarts;
  mode_ = Mode::kStartup;
  pacing_gain_ = kStartupGain;
  cwnd_ = kInitialWindowPackets * mss_;
  bw_by_round_.fill(0);
  min_rtt_.reset();
  round_min_rtt_.reset();
  round_rtt_samples_ = 0;
  round_max_bw_ = 0;
  round_acked_ = 0;
  round_lost_ = 0;
  full_bw_ = 0;
  full_bw_rounds_ = 0;
  standing_queue_rounds_ = 0;
  app_limited_until_ = 0;
  next_round_delivered_ = delivered_;
  tokens_ = 2.0 * mss_;
  tokens_time_ = now;
}

void CongestionController::Refill(MonoTime now) {
  double rate = pacing_rate();
  double burst = std::max(2.0 * mss_, rate * 0.002);
  if (now > tokens_time_) {
    tokens_ = std::min(burst, tokens_ + rate * absl::ToDoubleSeconds(now - tokens_time_));
    tokens_time_ = now;
  }
  tokens_ = std::min(tokens_, burst);
}

MonoTime CongestionController::NextSendTime(MonoTime now, size_t bytes) {
  Refill(now);
  if (tokens_ >= static_cast<double>(bytes)) return now;
  double wait = (static_cast<double>(bytes) - tokens_) / pacing_rate();
  return now + std::max(absl::Microseconds(1), absl::Seconds(wait));
}

void CongestionController::OnPacedSend(MonoTime now, size_t bytes) {
  Refill(now);
  double burst = std::max(2.0 * mss_, pacing_rate() * 0.002);
  tokens_ = std::max(tokens_ - static_cast<double>(bytes), -burst);
}

}  // namespace moshx::net::stream
