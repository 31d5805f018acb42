// Transport<LocalState, RemoteState>: the State Synchronization Protocol
// (docs/protocol.md §6) between this side's LocalState and the peer's RemoteState.
//
// The transport keeps the history SSP needs — every local state sent and not
// yet known to be superseded, every remote state received and not yet thrown
// away — and does the rest through TransportCore: timers (frame interval
// SRTT/2 in 20..250 ms, 1/8 ms mindelay, 100 ms delayed ack, 3 s heartbeat
// with new state numbers, retransmission after RTO + 100 ms), chaff, the
// shutdown handshake, fragmentation and the encrypted Connection.
//
//   Transport<UserStream, TerminalState>::Create(
//       {&loop, &clock, std::move(socket), &socket_factory, rng}, key,
//       {.role = Role::kClient, .mode = WireMode::kMosh, .server_address = addr},
//       UserStream(), TerminalState(80, 24));
//
// Local changes: modify mutable_local_state(); the transport notices at the
// next loop turn and sends when the timers allow. After StartShutdown() the
// local state must not change any more.
// Remote changes: set_on_remote_state() is called whenever a new newest
// remote state was applied; read it with remote_state()/remote_state_num().
// Out-of-order states are stored (later diffs may refer to them) but not
// reported.
//
// Echo ack (docs/protocol.md §7.4) is application state, not transport: the server keeps
// it in its terminal state, using remote_state_num() and the clock when the
// callback fires.
//
// Both sides must construct equal initial states (state 0). The state types
// must satisfy net/sync_state.h (checked by static_assert).
//
// Ownership and threading as for TransportCore: the dependencies in
// TransportDeps must outlive the transport; loop thread only.
#ifndef MOSHX_NET_TRANSPORT_H_
#define MOSHX_NET_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "net/sync_state.h"
#include "net/transport_core.h"

namespace moshx::net {

template <typename LocalState, typename RemoteState>
class Transport : private TransportCore::StateHooks {
  static_assert(IsSyncState<LocalState>, "LocalState must satisfy net/sync_state.h");
  static_assert(IsSyncState<RemoteState>, "RemoteState must satisfy net/sync_state.h");

 public:
  // Beyond this many held remote states the receiver refuses new ones for
  // kQuenchTime: a peer that never throws states away cannot exhaust memory.
  static constexpr size_t kMaxReceivedStates = 1024;
  static constexpr absl::Duration kQuenchTime = absl::Seconds(15);
  // What the held remote states may hold together (RemoteState::held_bytes,
  // net/sync_state.h): beyond it a new state is refused (counted in
  // TransportStats::over_budget; the peer retransmits after an ack), unless
  // it is the only state besides the oldest, so a session always makes
  // progress (docs/security.md §5).
  static constexpr size_t kMaxReceivedBytes = size_t{32} << 20;

  static absl::StatusOr<std::unique_ptr<Transport>> Create(
      TransportDeps deps, const SessionKey& key, const TransportConfig& config,
      LocalState initial_local = LocalState(), RemoteState initial_remote = RemoteState()) {
    std::unique_ptr<Transport> t(new Transport(std::move(initial_local),
                                               std::move(initial_remote), deps.clock->Now()));
    absl::StatusOr<std::unique_ptr<TransportCore>> core =
        TransportCore::Create(std::move(deps), key, config, t.get());
    if (!core.ok()) return core.status();
    t->core_ = std::move(*core);
    return t;
  }

  const LocalState& local_state() const { return current_; }
  LocalState& mutable_local_state() {
    core_->NotifyLocalChange();
    return current_;
  }

  const RemoteState& remote_state() const { return received_.rbegin()->second.state; }
  uint64_t remote_state_num() const { return received_.rbegin()->first; }
  MonoTime remote_state_time() const { return received_.rbegin()->second.time; }
  size_t received_states_held() const { return received_.size(); }
  // The sum of held_bytes() over the held remote states (0 for state types
  // without it).
  size_t received_bytes_held() const {
    size_t total = 0;
    for (const auto& [num, r] : received_) total += HeldBytesOf(r.state);
    return total;
  }
  size_t sent_states_held() const { return sent_.size(); }

  // The newest local change is urgent: an interrupting key (client) or the
  // answer to one (server). See SendScheduler::kUrgentCopies.
  void MarkUrgent() { core_->MarkUrgent(); }
  // The output that answered input has ended: the next data frame leaves at
  // once. See SendScheduler::MarkAnswerEnd.
  void MarkAnswerEnd() { core_->MarkAnswerEnd(); }
  // The output that answers input is a flood: only its first frame leaves
  // early. See SendScheduler::MarkLongAnswer.
  void MarkLongAnswer() { core_->MarkLongAnswer(); }

  void set_on_remote_state(std::function<void()> f) { core_->set_on_remote_state(std::move(f)); }

  // Lazy local state: `f` runs whenever a send is due, right before the
  // local state is compared with the sent states and diffed, and may update
  // mutable_local_state(). An owner whose state changes far more often than
  // the link can carry it (a terminal flooded with output) can then build
  // the state once per send instead of once per change, as long as it
  // publishes the first change after a send at once (so that the send
  // timers start when the change happened; see send_pending()).
  void set_before_send(std::function<void()> f) { core_->set_before_send(std::move(f)); }
  // True when the local state differs from the newest sent state, so the
  // timers will bring a send (and the before_send hook) without another
  // change being published.
  bool send_pending() const { return Differs(core_->scheduler().back().num); }
  // Server: the client's address was adopted/changed (nullopt: detached
  // after 40 s of silence). For "Server now attached to client at ..." logs.
  void set_remote_address_observer(std::function<void(std::optional<Address>)> f) {
    core_->set_remote_address_observer(std::move(f));
  }

  // Shutdown handshake (docs/protocol.md §6.8).
  void StartShutdown() { core_->StartShutdown(); }
  bool shutdown_in_progress() const { return core_->shutdown_in_progress(); }
  // The peer acknowledged our shutdown state: exit cleanly.
  bool shutdown_acknowledged() const { return core_->shutdown_acknowledged(); }
  // 16 shutdown packets or 10 s without an acknowledgment: exit anyway.
  bool shutdown_ack_timed_out() const { return core_->ShutdownAckTimedOut(); }
  // The peer is shutting down (its state kShutdownNum arrived).
  bool counterparty_shutting_down() const { return remote_state_num() == kShutdownNum; }
  // We acknowledged the peer's shutdown state: exit now.
  bool counterparty_shutdown_ack_sent() const { return core_->counterparty_shutdown_ack_sent(); }

  const Connection& connection() const { return core_->connection(); }
  const SendScheduler& scheduler() const { return core_->scheduler(); }
  const TransportStats& stats() const { return core_->stats(); }
  TransportCore& core() { return *core_; }

 private:
  struct Received {
    MonoTime time;
    RemoteState state;
  };

  Transport(LocalState local, RemoteState remote, MonoTime now) : current_(std::move(local)) {
    sent_.emplace(0, current_);
    received_.emplace(0, Received{now, std::move(remote)});
  }

  // Subtracting the same prefix twice is a no-op, and states stored later
  // are copies of the already-subtracted current state, so this only needs
  // to run when the acknowledged front changes (one copy of it per ack).
  void Rationalize(uint64_t front_num) override {
    if (rationalized_front_ == front_num) return;
    auto front = sent_.find(front_num);
    if (front == sent_.end()) return;
    rationalized_front_ = front_num;
    const LocalState known = front->second;
    current_.Subtract(known);
    for (auto& [num, state] : sent_) state.Subtract(known);
  }

  SendScheduler::Comparison Compare(const SendScheduler& s) override {
    return {Differs(s.front().num), Differs(s.assumed().num), Differs(s.back().num)};
  }

  bool Differs(uint64_t num) const {
    auto it = sent_.find(num);
    return it == sent_.end() || !(it->second == current_);
  }

  std::string DiffCurrentFrom(uint64_t sent_num) override {
    return current_.DiffFrom(sent_.at(sent_num));
  }

  void StoreCurrentAs(uint64_t num) override { sent_.insert_or_assign(num, current_); }

  void ForgetSentExcept(const std::deque<SendScheduler::SentRecord>& kept) override {
    auto k = kept.begin();
    for (auto it = sent_.begin(); it != sent_.end();) {
      while (k != kept.end() && k->num < it->first) ++k;
      if (k != kept.end() && k->num == it->first) {
        ++it;
      } else {
        it = sent_.erase(it);
      }
    }
  }

  TransportCore::ReceiveOutcome ApplyInstruction(const Instruction& inst,
                                                 MonoTime now) override {
    using Outcome = TransportCore::ReceiveOutcome;
    if (received_.count(inst.new_num)) return Outcome::kDuplicate;
    auto ref = received_.find(inst.old_num);
    if (ref == received_.end()) return Outcome::kMissingReference;
    if (inst.throwaway_num > inst.old_num) return Outcome::kBadThrowaway;
    Received next{now, ref->second.state};  // copy before throwing away
    received_.erase(received_.begin(), received_.lower_bound(inst.throwaway_num));
    if (received_.size() > kMaxReceivedStates) {
      if (now < quench_until_) return Outcome::kQuenched;
      quench_until_ = now + kQuenchTime;
    }
    if (!inst.diff.empty() && !next.state.ApplyDiff(inst.diff).ok()) {
      return Outcome::kApplyFailed;
    }
    auto inserted = received_.emplace(inst.new_num, std::move(next)).first;
    SubtractOldestReceived();
    if (received_.size() > 2 && received_bytes_held() > kMaxReceivedBytes) {
      received_.erase(inserted);
      return Outcome::kOverBudget;
    }
    return std::next(inserted) == received_.end() ? Outcome::kNewest : Outcome::kOlder;
  }

  // Every held state contains the oldest one (states of one sender only
  // grow), so that prefix is dropped from all of them, the oldest last, as
  // mosh's receiver does: an append-only state (the user stream) then holds
  // only what came after the oldest state the peer may still refer to.
  void SubtractOldestReceived() {
    RemoteState& oldest = received_.begin()->second.state;
    for (auto it = received_.rbegin(); it != received_.rend(); ++it) it->second.state.Subtract(oldest);
  }

  static size_t HeldBytesOf(const RemoteState& s) {
    return sync_state_internal::HeldBytes<RemoteState>::Of(s);
  }

  std::unique_ptr<TransportCore> core_;
  LocalState current_;
  std::map<uint64_t, LocalState> sent_;        // num -> state, mirrors scheduler().sent()
  std::map<uint64_t, Received> received_;      // num -> state, never empty
  MonoTime quench_until_;
  uint64_t rationalized_front_ = 0;  // state 0 is the common prefix of nothing
};

}  // namespace moshx::net

#endif  // MOSHX_NET_TRANSPORT_H_
