#include "net/send_scheduler.h"

#include <algorithm>

namespace moshx::net {

SendScheduler::SendScheduler(MonoTime now, absl::Duration send_mindelay)
    : send_mindelay_(send_mindelay),
      next_ack_time_(now),
      next_send_time_(now),
      last_data_send_(now) {
  sent_.push_back({now, 0, 0});
}

void SendScheduler::UpdateAssumed(MonoTime now, absl::Duration rto) {
  static_assert(kMaxSentStates < 64, "usable states are a 64-bit mask");
  assumed_ = 0;
  uint64_t usable = 1;  // bit i: the receiver can have applied sent_[i]
  bool all_recent = true;
  for (size_t i = 1; i < sent_.size(); ++i) {
    if (now - sent_[i].send_time >= rto + kAckDelay) {
      all_recent = false;
      continue;
    }
    bool ref_usable = false;
    for (size_t j = i; j-- > 0 && sent_[j].num >= sent_[i].ref;) {
      if (sent_[j].num == sent_[i].ref) {
        ref_usable = (usable >> j) & 1;
        break;
      }
    }
    if (all_recent || ref_usable) {
      usable |= uint64_t{1} << i;
      assumed_ = i;
    }
  }
}

MonoTime SendScheduler::QuietRetryFloor(MonoTime now) const {
  if (last_heard_.has_value() && *last_heard_ + kQuietPeerAfter > now) {
    return MonoTime::FromEpoch(absl::ZeroDuration());
  }
  return back().send_time + kQuietRetryInterval;
}

bool SendScheduler::HeardRecently(MonoTime now) const {
  return last_heard_.has_value() && *last_heard_ + kActiveRetryTimeout > now;
}

void SendScheduler::CalculateTimers(MonoTime now, const Comparison& c,
                                    absl::Duration rto,
                                    absl::Duration send_interval) {
  if (pending_data_ack_ && next_ack_time_ > now + kAckDelay) {
    next_ack_time_ = now + kAckDelay;
  }
  MonoTime frame_time = back().send_time + send_interval;
  if (!c.differs_from_back) answer_end_.reset();  // the answer went out already
  if (c.differs_from_back) {
    if (!mindelay_clock_) mindelay_clock_ = now;
    // New data is paced against the last data sent: an empty ack or
    // heartbeat just before a key (an ack of the server's flood, say) does
    // not hold the key back for a frame interval (issue 19).
    next_send_time_ =
        std::max(*mindelay_clock_ + send_mindelay_, last_data_send_ + send_interval);
    if (reply_frames_left_ > 0) {  // a reply to input (kInputReplyFrames)
      const MonoTime reply = std::max({std::max(input_time_, *mindelay_clock_) + send_mindelay_,
                                       back().send_time + send_mindelay_});
      if (reply < next_send_time_ && reply <= input_time_ + kInputReplyWindow) {
        next_send_time_ = reply;
      }
    }
    // The end of an answer: the pty's quiet time already collected it.
    if (answer_end_) next_send_time_ = std::min(next_send_time_, *answer_end_);
    // The first urgent frame (the interrupting key itself) is not paced
    // behind the frame interval of keys typed just before it.
    if (urgent_frames_left_ == kUrgentFrames && now <= urgent_until_) {
      next_send_time_ = std::min(next_send_time_, *mindelay_clock_ + send_mindelay_);
    }
  } else if (c.differs_from_assumed && HeardRecently(now)) {
    next_send_time_ = frame_time;
    if (mindelay_clock_) {
      next_send_time_ = std::max(next_send_time_, *mindelay_clock_ + send_mindelay_);
    }
    next_send_time_ = std::max(next_send_time_, QuietRetryFloor(now));
  } else if (c.differs_from_front && HeardRecently(now)) {
    next_send_time_ = std::max(back().send_time + rto + kAckDelay, QuietRetryFloor(now));
  } else {
    next_send_time_ = MonoTime::Infinite();
  }
  if (shutdown_in_progress_ || ack_num_ == kShutdownNum) {
    next_ack_time_ = frame_time;
  }
}

SendScheduler::Action SendScheduler::Decide(MonoTime now, bool diff_empty) const {
  if (!Due(now)) return Action::kNothing;
  if (!diff_empty) return Action::kData;
  return now >= next_ack_time_ ? Action::kEmptyAck : Action::kNothing;
}

bool SendScheduler::PreferFront(size_t front_size, size_t assumed_size, bool force) {
  if (assumed_ == 0) return false;
  // Resending from the acknowledged state costs little and survives the
  // loss of any unacknowledged intermediate state.
  bool prefer = force || front_size <= assumed_size ||
                (front_size < 1000 && front_size - assumed_size < 100);
  if (prefer) assumed_ = 0;
  return prefer;
}

void SendScheduler::AddSent(MonoTime now, uint64_t num, uint64_t ref) {
  if (num == back().num) {  // a resend: refresh, no duplicate
    sent_.back().send_time = now;
    sent_.back().ref = ref;
    return;
  }
  sent_.push_back({now, num, ref});
  if (sent_.size() > kMaxSentStates) {
    size_t victim = sent_.size() - 16;
    sent_.erase(sent_.begin() + victim);
    if (assumed_ >= victim && assumed_ > 0) --assumed_;
  }
}

uint64_t SendScheduler::RecordEmptyAck(MonoTime now) {
  uint64_t num = shutdown_in_progress_ ? kShutdownNum : back().num + 1;
  AddSent(now, num, assumed().num);
  next_ack_time_ = now + kAckInterval;
  next_send_time_ = MonoTime::Infinite();
  mindelay_clock_.reset();
  return num;
}

void SendScheduler::ClearSendTimer() {
  next_send_time_ = MonoTime::Infinite();
  mindelay_clock_.reset();
}

uint64_t SendScheduler::RecordDataSend(MonoTime now, bool same_as_back) {
  uint64_t num = same_as_back ? back().num : back().num + 1;
  if (shutdown_in_progress_) num = kShutdownNum;
  AddSent(now, num, assumed().num);
  assumed_ = sent_.size() - 1;  // the receiver will most likely have it
  last_data_send_ = now;
  if (reply_frames_left_ > 0 && now <= input_time_ + kInputReplyWindow) --reply_frames_left_;
  if (urgent(now)) --urgent_frames_left_;
  answer_end_.reset();
  next_ack_time_ = now + kAckInterval;
  next_send_time_ = MonoTime::Infinite();
  mindelay_clock_.reset();
  return num;
}

void SendScheduler::OnInstructionSent(uint64_t new_num) {
  if (new_num == kShutdownNum) ++shutdown_tries_;
  pending_data_ack_ = false;
  last_sent_ack_num_ = ack_num_;
}

void SendScheduler::ProcessAck(uint64_t ack_num) {
  auto it = std::find_if(sent_.begin(), sent_.end(),
                         [&](const SentRecord& r) { return r.num == ack_num; });
  if (it == sent_.end()) return;
  size_t removed = static_cast<size_t>(it - sent_.begin());
  sent_.erase(sent_.begin(), it);
  assumed_ = assumed_ >= removed ? assumed_ - removed : 0;
}

void SendScheduler::OnNewRemoteState(MonoTime now, uint64_t num, bool carried_data) {
  ack_num_ = num;
  last_heard_ = now;
  if (carried_data) pending_data_ack_ = true;
  if (carried_data && reply_to_input_) {
    input_time_ = now;
    reply_frames_left_ = kInputReplyFrames;
  }
}

void SendScheduler::StartShutdown(MonoTime now) {
  if (shutdown_in_progress_) return;
  shutdown_in_progress_ = true;
  shutdown_start_ = now;
}

bool SendScheduler::ShutdownAckTimedOut(MonoTime now) const {
  return shutdown_in_progress_ &&
         (shutdown_tries_ >= kShutdownRetries ||
          now - shutdown_start_ >= kActiveRetryTimeout);
}

}  // namespace moshx::net
