// SendScheduler: the sender half of SSP (docs/protocol.md §6.4) without the states.
//
// It keeps the log of sent state numbers and send times, decides which sent
// state the receiver is assumed to hold, and computes when the next data
// frame, retransmission or heartbeat is due. The states themselves live in
// the Transport<> template, which answers three questions before each timer
// computation (does the current state differ from the front, assumed and back
// states of the log?) and mirrors removals from the log (see sent()).
//
// Sent-state log: sent()[0] is the "front", the newest state the receiver
// acknowledged (initially state 0); sent().back() is the last state sent;
// assumed() is the state we guess the receiver already has: the newest one
// sent less than RTO + kAckDelay ago (benefit of the doubt) that the receiver
// can have applied, else the front (UpdateAssumed()).
// Log numbers are strictly increasing; kShutdownNum is the largest.
//
// Pure: never reads a clock, all methods take `now`. Not thread-safe.
#ifndef MOSHX_NET_SEND_SCHEDULER_H_
#define MOSHX_NET_SEND_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "absl/time/time.h"
#include "net/clock.h"

namespace moshx::net {

// The state number reserved for "this side is shutting down" (U64MAX).
inline constexpr uint64_t kShutdownNum = ~uint64_t{0};

class SendScheduler {
 public:
  // How long a receiver may wait before acknowledging a state that carried
  // data: long enough to piggyback the ack on its own reply, short enough
  // that the sender's RTO (>= 50 ms + this) does not fire spuriously.
  static constexpr absl::Duration kAckDelay = absl::Milliseconds(100);
  // Heartbeat: an idle side sends a new (empty) state this often, so each
  // side knows within seconds that the other is alive ("Last contact") and
  // NAT bindings stay open.
  static constexpr absl::Duration kAckInterval = absl::Milliseconds(3000);
  // Retransmit at the frame rate only while the peer was heard this
  // recently; beyond that it is probably gone and heartbeats suffice. Also
  // the shutdown give-up time.
  static constexpr absl::Duration kActiveRetryTimeout = absl::Milliseconds(10000);
  // A peer silent for longer than a heartbeat interval plus an RTT's worth
  // (its heartbeat or more was lost, or it is gone: a laptop asleep) gets
  // retransmissions at most once per kQuietRetryInterval instead of at the
  // frame rate, so a server with nobody listening wakes at most once a
  // second (issue 19). New states still go out at the frame rate.
  static constexpr absl::Duration kQuietPeerAfter = absl::Milliseconds(4000);
  static constexpr absl::Duration kQuietRetryInterval = absl::Milliseconds(1000);
  // Shutdown packets sent before giving up (mosh's SHUTDOWN_RETRIES).
  static constexpr int kShutdownRetries = 16;
  // Collect further changes this long before sending a new state, so a burst
  // of output becomes one frame. mosh: 8 ms on the server, 1 ms on the
  // client (keystrokes should leave at once).
  static constexpr absl::Duration kServerSendMindelay = absl::Milliseconds(8);
  static constexpr absl::Duration kClientSendMindelay = absl::Milliseconds(1);
  // Replies to input (issue 19, docs/protocol.md §6.4): once a new state
  // from the peer carried data (the user typed, pasted or resized), up to
  // kInputReplyFrames new states go out send_mindelay after the input (and
  // after each other) instead of waiting for the frame interval (SRTT/2,
  // 20..250 ms), within kInputReplyWindow of it: the screen's answer — an
  // echo, the prompt after Ctrl-C during a flood — leaves as soon as the
  // mindelay has collected it. At most that many extra frames per state the
  // peer sends, so a flood's frame rate stays the link's otherwise. Off
  // unless set_reply_to_input(true) (the server's side).
  static constexpr int kInputReplyFrames = 2;
  static constexpr absl::Duration kInputReplyWindow = absl::Milliseconds(50);
  // A long answer (issue 19, docs/protocol.md §6.4): the owner calls
  // MarkLongAnswer() when the change that followed input is a flood (the
  // server: more output than two of its screens hold). Its first reply
  // frame still leaves early (the flood's start); the ones after it would
  // only carry states that the next frame overwrites, so the rest waits for
  // the frame interval or for the answer's end (MarkAnswerEnd), as mosh's
  // server does.
  // The end of an answer (issue 19, docs/protocol.md §6.4): the server's
  // owner calls MarkAnswerEnd() when the output that followed input has
  // stopped (the pty quiet for a while: the prompt after a long command's
  // output). The next data frame then leaves at once instead of waiting
  // for the frame interval, one frame per call, so the last screen of a
  // long answer (`seq 1 3000000` then the prompt) does not wait up to an
  // interval (250 ms at 500 ms RTT, half that on average) after the output
  // ended.
  // Urgent states (issue 19, docs/protocol.md §6.4): after MarkUrgent() (the
  // client: a key that interrupts, such as Ctrl-C; the server: such a key
  // arrived), the data frames sent within kUrgentWindow, at most
  // kUrgentFrames of them, are diffed from the acknowledged front state (so
  // they do not depend on a frame in flight that may be lost) and sent
  // kUrgentCopies times: all but one back to back, the last
  // kUrgentCopyDelay later (a burst of loss takes back-to-back copies
  // together). So a lost datagram does not cost the key or its answer a
  // retransmission timeout (RTO + 100 ms); at 29% loss each way the key and
  // the prompt after it both arrive at once in about 84% of cases instead
  // of 50%. Duplicates are harmless to any SSP receiver (mosh's included):
  // a state number it already holds is ignored.
  static constexpr int kUrgentCopies = 3;
  static constexpr int kUrgentFrames = 4;
  static constexpr absl::Duration kUrgentWindow = absl::Milliseconds(200);
  static constexpr absl::Duration kUrgentCopyDelay = absl::Milliseconds(10);
  // Sent-state log limit: beyond 32 entries the 16th from the end is
  // dropped, bounding memory while keeping both recent and acked states.
  static constexpr size_t kMaxSentStates = 32;

  struct SentRecord {
    MonoTime send_time;
    uint64_t num;
    // The state its diff was computed from (its last send's, for a resend).
    uint64_t ref = 0;
  };

  // How the current local state compares with states of the log.
  struct Comparison {
    bool differs_from_front;
    bool differs_from_assumed;
    bool differs_from_back;
  };

  // What Tick() should send now.
  enum class Action { kNothing, kEmptyAck, kData };

  SendScheduler(MonoTime now, absl::Duration send_mindelay);
  // See kInputReplyFrames.
  void set_reply_to_input(bool on) { reply_to_input_ = on; }
  // The next data frame may leave from `now` on (see "The end of an answer"
  // above); a send of data uses the mark up. The deadline is this `now`,
  // fixed: one computed as "the time of each CalculateTimers()" would move
  // with every reading of the clock and never be found due (a busy loop of
  // wake-ups that never send).
  void MarkAnswerEnd(MonoTime now) { answer_end_ = now; }
  // The answer to the latest input is long: at most its first reply frame
  // leaves early (see kInputReplyFrames and "A long answer" above).
  void MarkLongAnswer() {
    reply_frames_left_ = reply_frames_left_ == kInputReplyFrames ? 1 : 0;
  }
  // Starts (or restarts) an urgent window at `now` (see kUrgentCopies).
  void MarkUrgent(MonoTime now) {
    urgent_until_ = now + kUrgentWindow;
    urgent_frames_left_ = kUrgentFrames;
  }
  // True if a data frame sent at `now` is urgent.
  bool urgent(MonoTime now) const { return urgent_frames_left_ > 0 && now <= urgent_until_; }

  // --- Sent-state log ---------------------------------------------------
  const std::deque<SentRecord>& sent() const { return sent_; }
  const SentRecord& front() const { return sent_.front(); }
  const SentRecord& back() const { return sent_.back(); }
  const SentRecord& assumed() const { return sent_[assumed_]; }
  bool assumed_is_front() const { return assumed_ == 0; }

  // Recomputes assumed() from send times (call before Comparison is built):
  // the newest state sent less than RTO + kAckDelay ago whose every
  // predecessor in the log was too (mosh's rule: an older state not
  // acknowledged in that time was probably lost, and a later state may be a
  // diff from it), or whose reference (SentRecord::ref) is the front or such
  // a state. The second clause matters after a state that carried no data
  // (a heartbeat, an empty ack): the receiver acknowledges those only with
  // its next datagram, up to kAckInterval later, so their age says nothing
  // of loss, and the next state was diffed from the front anyway; without it
  // every state sent then is resent at the frame interval until its own
  // acknowledgement arrives (docs/protocol.md §6.4).
  void UpdateAssumed(MonoTime now, absl::Duration rto);
  // Recomputes the ack and send deadlines (docs/protocol.md §6.4, "Timers").
  void CalculateTimers(MonoTime now, const Comparison& c, absl::Duration rto,
                       absl::Duration send_interval);
  // Earliest of the two deadlines (MonoTime::Infinite() when idle).
  MonoTime NextWakeup() const { return std::min(next_ack_time_, next_send_time_); }
  MonoTime next_ack_time() const { return next_ack_time_; }
  MonoTime next_send_time() const { return next_send_time_; }
  bool Due(MonoTime now) const { return now >= next_ack_time_ || now >= next_send_time_; }

  // Decides what to send given whether the diff against assumed() is empty.
  Action Decide(MonoTime now, bool diff_empty) const;
  // Prospective resend optimisation: true if the diff from the front state
  // (size `front_size`) is about as small as the diff from assumed()
  // (`assumed_size`), or if `force` (an urgent frame); then the caller
  // should send the front diff and this object switches assumed() to the
  // front.
  bool PreferFront(size_t front_size, size_t assumed_size, bool force = false);

  // Records an empty-diff send (heartbeat / pure ack): a NEW state number
  // (or kShutdownNum while shutting down). Returns the new number.
  uint64_t RecordEmptyAck(MonoTime now);
  // An empty diff that was only due on the send timer: nothing to send.
  void ClearSendTimer();
  // Records a data send and assumes the receiver now has it. `same_as_back`:
  // current state equals back(). Returns the new number (back().num for a
  // resend of the same state). Uses up one urgent frame if urgent(now).
  uint64_t RecordDataSend(MonoTime now, bool same_as_back);

  // Receiver feedback: the peer holds our state `ack_num`. Drops all older
  // records if `ack_num` is in the log; ignored otherwise.
  void ProcessAck(uint64_t ack_num);

  // --- What we tell the peer --------------------------------------------
  uint64_t ack_num() const { return ack_num_; }
  // A new newest remote state arrived at `now`.
  void OnNewRemoteState(MonoTime now, uint64_t num, bool carried_data);
  // The peer sent again a state carrying data that we hold already, `num`.
  // If an acknowledgement covering it went out, it was probably lost: one is
  // due again within kAckDelay. Otherwise a sender whose older state is
  // still unacknowledged (its assumed state falls back to the acknowledged
  // one) resends at its frame interval until our next heartbeat, up to
  // kAckInterval later (docs/protocol.md §6.4; mosh's receiver ignores
  // repeats). Urgent copies arriving before our acknowledgement add none.
  void OnRepeatedRemoteState(uint64_t num) {
    if (last_sent_ack_num_ >= num) pending_data_ack_ = true;
  }
  std::optional<MonoTime> last_heard() const { return last_heard_; }
  bool pending_data_ack() const { return pending_data_ack_; }
  // Called after every Instruction sent (its ack_num went out).
  void OnInstructionSent(uint64_t new_num);
  uint64_t last_sent_ack_num() const { return last_sent_ack_num_; }

  // --- Shutdown (docs/protocol.md §6.8) ---------------------------------
  void StartShutdown(MonoTime now);
  bool shutdown_in_progress() const { return shutdown_in_progress_; }
  bool shutdown_acknowledged() const { return front().num == kShutdownNum; }
  bool ShutdownAckTimedOut(MonoTime now) const;
  int shutdown_tries() const { return shutdown_tries_; }

 private:
  bool HeardRecently(MonoTime now) const;
  // The earliest retransmission time a quiet peer allows (the epoch if the
  // peer is not quiet).
  MonoTime QuietRetryFloor(MonoTime now) const;
  void AddSent(MonoTime now, uint64_t num, uint64_t ref);

  std::deque<SentRecord> sent_;
  size_t assumed_ = 0;
  absl::Duration send_mindelay_;
  MonoTime next_ack_time_;
  MonoTime next_send_time_;
  std::optional<MonoTime> mindelay_clock_;
  MonoTime last_data_send_;  // new data is paced from here (not from acks)
  uint64_t ack_num_ = 0;
  uint64_t last_sent_ack_num_ = 0;
  bool pending_data_ack_ = false;
  std::optional<MonoTime> last_heard_;
  bool reply_to_input_ = false;
  MonoTime input_time_;         // the newest peer state that carried data
  int reply_frames_left_ = 0;   // early frames it still allows
  std::optional<MonoTime> answer_end_;  // see MarkAnswerEnd()
  MonoTime urgent_until_;       // see MarkUrgent()
  int urgent_frames_left_ = 0;
  bool shutdown_in_progress_ = false;
  int shutdown_tries_ = 0;
  MonoTime shutdown_start_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_SEND_SCHEDULER_H_
