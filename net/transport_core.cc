#include "net/transport_core.h"

#include <algorithm>
#include <utility>

#include "absl/random/distributions.h"
#include "net/udp_path.h"

namespace moshx::net {
namespace {

// Chaff: 0..16 random bytes (mosh: random byte mod 17) to blur lengths.
constexpr int kMaxChaff = 16;

}  // namespace

absl::StatusOr<std::unique_ptr<TransportCore>> TransportCore::Create(
    TransportDeps deps, const SessionKey& key, const TransportConfig& config,
    StateHooks* hooks) {
  PacketCodec codec = config.mode == WireMode::kMosh
                          ? PacketCodec::Mosh(key)
                          : PacketCodec::Moshx(key, config.connection_id);
  std::unique_ptr<TransportCore> core(
      new TransportCore(deps, config, hooks, NewCompressor(config.mode)));
  std::unique_ptr<Path> path = std::move(deps.path);
  if (path != nullptr && (deps.socket != nullptr || deps.socket_factory != nullptr)) {
    return absl::InvalidArgumentError("TransportDeps: a path or a socket, not both");
  }
  if (path == nullptr) {
    if (config.role == Role::kClient && !config.server_address) {
      return absl::InvalidArgumentError("a client needs the server address");
    }
    absl::StatusOr<std::unique_ptr<UdpPath>> udp = UdpPath::Create(
        deps.loop, deps.clock, std::move(deps.socket), deps.socket_factory,
        config.role == Role::kClient ? config.server_address : std::nullopt);
    if (!udp.ok()) return udp.status();
    path = std::move(*udp);
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Create(deps.clock, std::move(path), std::move(codec), config.role,
                         config.first_seq);
  if (!connection.ok()) return connection.status();
  core->connection_ = std::move(*connection);
  TransportCore* raw = core.get();
  core->connection_->set_receive_handler(
      [raw](std::string payload) { raw->OnPayload(std::move(payload)); });
  core->Reschedule();
  return core;
}

TransportCore::TransportCore(TransportDeps& deps, const TransportConfig& config,
                             StateHooks* hooks, std::unique_ptr<Compressor> compressor)
    : loop_(deps.loop),
      clock_(deps.clock),
      rng_(deps.rng),
      hooks_(hooks),
      compressor_(std::move(compressor)),
      fragmenter_(compressor_.get()),
      assembler_(compressor_.get()),
      scheduler_(deps.clock->Now(),
                 config.send_mindelay.value_or(config.role == Role::kClient
                                                   ? SendScheduler::kClientSendMindelay
                                                   : SendScheduler::kServerSendMindelay)),
      mode_(config.mode) {
  // The server answers input at once (SendScheduler::kInputReplyFrames).
  scheduler_.set_reply_to_input(config.role == Role::kServer);
}

TransportCore::~TransportCore() {
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
}

void TransportCore::UpdateTimers(MonoTime now) {
  const RttEstimator& rtt = connection_->rtt();
  scheduler_.UpdateAssumed(now, rtt.Rto());
  hooks_->Rationalize(scheduler_.front().num);
  scheduler_.CalculateTimers(now, hooks_->Compare(scheduler_), rtt.Rto(),
                             rtt.SendInterval());
}

MonoTime TransportCore::NextWakeup() {
  if (!connection_->has_remote_address()) return MonoTime::Infinite();
  UpdateTimers(clock_->Now());
  return std::min(scheduler_.NextWakeup(), delayed_copy_time_);
}

void TransportCore::Tick() {
  MonoTime now = clock_->Now();
  UpdateTimers(now);
  if (!connection_->has_remote_address()) return;
  if (now >= delayed_copy_time_) {
    SendFragments(delayed_copy_);
    ++stats_.urgent_copies_sent;
    delayed_copy_.clear();
    delayed_copy_time_ = MonoTime::Infinite();
  }
  if (!scheduler_.Due(now)) return;
  if (before_send_) {
    before_send_();
    // The hook may have changed the local state: decide again, as if the
    // change had been made before this turn.
    UpdateTimers(now);
    if (!scheduler_.Due(now)) return;
  }
  bool same_as_back = !hooks_->Compare(scheduler_).differs_from_back;
  const bool urgent = scheduler_.urgent(now);
  std::string diff = hooks_->DiffCurrentFrom(scheduler_.assumed().num);
  if (!scheduler_.assumed_is_front()) {
    std::string from_front = hooks_->DiffCurrentFrom(scheduler_.front().num);
    if (scheduler_.PreferFront(from_front.size(), diff.size(), urgent)) {
      diff = std::move(from_front);
    }
  }
  uint64_t old_num = scheduler_.assumed().num;
  if (diff.empty()) {
    if (now >= scheduler_.next_ack_time()) {
      uint64_t num = scheduler_.RecordEmptyAck(now);
      hooks_->StoreCurrentAs(num);
      SendInstruction(old_num, num, "");
    }
    if (now >= scheduler_.next_send_time()) scheduler_.ClearSendTimer();
  } else {
    uint64_t num = scheduler_.RecordDataSend(now, same_as_back);
    hooks_->StoreCurrentAs(num);
    if (urgent) ++stats_.urgent_frames_sent;
    SendInstruction(old_num, num, std::move(diff), urgent ? SendScheduler::kUrgentCopies : 1);
  }
  hooks_->ForgetSentExcept(scheduler_.sent());
}

std::string TransportCore::MakeChaff() {
  int n = absl::Uniform(rng_, 0, kMaxChaff + 1);
  std::string chaff(n, '\0');
  for (char& c : chaff) c = static_cast<char>(absl::Uniform<uint8_t>(rng_));
  return chaff;
}

void TransportCore::SendInstruction(uint64_t old_num, uint64_t new_num, std::string diff,
                                    int copies) {
  Instruction inst;
  inst.old_num = old_num;
  inst.new_num = new_num;
  inst.ack_num = scheduler_.ack_num();
  inst.throwaway_num = scheduler_.front().num;
  inst.diff = std::move(diff);
  inst.chaff = MakeChaff();
  scheduler_.OnInstructionSent(new_num);
  ++stats_.instructions_sent;
  absl::StatusOr<std::vector<std::string>> fragments =
      fragmenter_.MakeFragments(inst, connection_->max_fragment_contents());
  if (!fragments.ok()) {
    ++stats_.send_failures;
    return;
  }
  if (mode_ == WireMode::kMoshx) {
    for (std::string& f : *fragments) f.insert(f.begin(), static_cast<char>(kFrameTypeSsp));
  }
  SendFragments(*fragments);
  for (int i = 2; i < copies; ++i) {
    SendFragments(*fragments);
    ++stats_.urgent_copies_sent;
  }
  if (copies > 1) {
    // A newer urgent frame's copy replaces an older one's: its diff (from
    // the acknowledged state) carries everything the older one did.
    delayed_copy_ = std::move(*fragments);
    delayed_copy_time_ = clock_->Now() + SendScheduler::kUrgentCopyDelay;
  }
}

void TransportCore::SendFragments(const std::vector<std::string>& fragments) {
  for (const std::string& f : fragments) {
    if (!connection_->Send(f).ok()) ++stats_.send_failures;
  }
}

void TransportCore::MarkUrgent() {
  scheduler_.MarkUrgent(clock_->Now());
  NotifyLocalChange();
}

void TransportCore::MarkAnswerEnd() {
  scheduler_.MarkAnswerEnd(clock_->Now());
  NotifyLocalChange();
}

absl::Status TransportCore::SendFrame(uint8_t type, absl::string_view frame) {
  if (mode_ != WireMode::kMoshx || type == kFrameTypeSsp) {
    return absl::FailedPreconditionError("typed frames need moshx mode and a non-SSP type");
  }
  if (frame.size() > max_frame_size()) return absl::InvalidArgumentError("frame too large");
  std::string payload;
  payload.reserve(kFrameTypeSize + frame.size());
  payload.push_back(static_cast<char>(type));
  payload.append(frame.data(), frame.size());
  absl::Status sent = connection_->Send(payload);
  if (sent.ok()) ++stats_.typed_frames_sent;
  return sent;
}

size_t TransportCore::max_frame_size() const { return MaxTypedFrameSize(connection_->mtu()); }

void TransportCore::set_frame_handler(uint8_t type, FrameHandler handler) {
  if (handler) {
    frame_handlers_[type] = std::move(handler);
  } else {
    frame_handlers_.erase(type);
  }
}

void TransportCore::OnPayload(std::string payload) {
  if (mode_ == WireMode::kMosh) return OnSspFragment(payload);
  if (payload.empty()) {
    ++stats_.unknown_frame_types;
    return;
  }
  const uint8_t type = static_cast<uint8_t>(payload[0]);
  absl::string_view body = absl::string_view(payload).substr(kFrameTypeSize);
  if (type == kFrameTypeSsp) return OnSspFragment(body);
  auto handler = frame_handlers_.find(type);
  if (handler == frame_handlers_.end()) {
    ++stats_.unknown_frame_types;
    return;
  }
  ++stats_.typed_frames_received;
  handler->second(body);
}

void TransportCore::OnSspFragment(absl::string_view fragment) {
  absl::StatusOr<std::optional<Instruction>> inst = assembler_.Add(fragment);
  if (!inst.ok()) {
    ++stats_.fragment_drops;
    return;
  }
  if (!inst->has_value()) return;
  ++stats_.instructions_received;
  const Instruction& in = **inst;
  scheduler_.ProcessAck(in.ack_num);
  hooks_->ForgetSentExcept(scheduler_.sent());
  connection_->set_last_roundtrip_success(scheduler_.front().send_time);
  MonoTime now = clock_->Now();
  ReceiveOutcome outcome = hooks_->ApplyInstruction(in, now);
  CountOutcome(outcome);
  if (outcome == ReceiveOutcome::kNewest) {
    scheduler_.OnNewRemoteState(now, in.new_num, !in.diff.empty());
    if (on_remote_state_) on_remote_state_();
  } else if (outcome == ReceiveOutcome::kDuplicate && !in.diff.empty()) {
    scheduler_.OnRepeatedRemoteState(in.new_num);
  }
  Reschedule();
}

void TransportCore::CountOutcome(ReceiveOutcome outcome) {
  switch (outcome) {
    case ReceiveOutcome::kNewest: break;
    case ReceiveOutcome::kOlder: ++stats_.older_states; break;
    case ReceiveOutcome::kDuplicate: ++stats_.duplicate_states; break;
    case ReceiveOutcome::kMissingReference: ++stats_.missing_reference; break;
    case ReceiveOutcome::kBadThrowaway: ++stats_.bad_throwaway; break;
    case ReceiveOutcome::kApplyFailed: ++stats_.apply_failures; break;
    case ReceiveOutcome::kQuenched: ++stats_.quenched; break;
    case ReceiveOutcome::kOverBudget: ++stats_.over_budget; break;
  }
}

void TransportCore::NotifyLocalChange() {
  MonoTime now = clock_->Now();
  if (alarm_ != 0 && alarm_time_ <= now) return;
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
  alarm_time_ = now;
  alarm_ = loop_->ScheduleAlarm(now, [this] {
    alarm_ = 0;
    alarm_time_ = MonoTime::Infinite();
    Reschedule();
  });
}

void TransportCore::StartShutdown() {
  scheduler_.StartShutdown(clock_->Now());
  NotifyLocalChange();
}

void TransportCore::Reschedule() {
  MonoTime next = NextWakeup();
  // Read after NextWakeup(): a deadline it computed from its own reading of
  // the clock is then never found "in the future" by an older reading (an
  // alarm a few microseconds ahead, every turn, that never sends).
  MonoTime now = clock_->Now();
  if (next <= now) {
    Tick();
    next = NextWakeup();
    // Tick() always moves a due deadline forward; should a future change
    // break that, wake in 1 ms rather than spin at one instant.
    if (next <= now) next = now + absl::Milliseconds(1);
  }
  if (next == alarm_time_ && alarm_ != 0) return;
  if (alarm_ != 0) loop_->CancelAlarm(alarm_);
  alarm_ = 0;
  alarm_time_ = next;
  if (next.is_infinite()) return;
  alarm_ = loop_->ScheduleAlarm(next, [this] {
    alarm_ = 0;
    alarm_time_ = MonoTime::Infinite();
    Reschedule();
  });
}

}  // namespace moshx::net
