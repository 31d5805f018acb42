// TransportCore: everything of the SSP transport (docs/protocol.md §6) that does not
// depend on the state types; Transport<Local, Remote> (net/transport.h) is a
// thin template over it. Most callers want Transport, not this class.
//
// It owns the Connection (encryption, roaming, port hopping), the compressor,
// Fragmenter and FragmentAssembler, the SendScheduler (timers and the log of
// sent state numbers) and the event-loop alarm that drives sending. The
// template supplies the state-dependent steps through StateHooks.
//
// Driving: the core keeps one alarm on the EventLoop at the scheduler's next
// deadline and re-evaluates after every received datagram and after
// NotifyLocalChange(); nothing else has to poll it. A received instruction
// that makes something due at once (e.g. the peer's shutdown, which must be
// acknowledged immediately) is answered from inside the receive callback.
//
// Typed frames (moshx mode only): every moshx datagram's payload starts with
// a frame-type byte (net/packet_format.h, docs/protocol.md §3.5). Type 0 is
// SSP, which this class runs; other types are opaque frames of the
// association's other channels (type 1: net/stream's StreamMux), sent at
// once with SendFrame() and handed to the handler set for their type. They
// share the Connection (and so the key's nonce sequence, the RTT estimate
// and roaming) but never delay or reorder SSP's own datagrams: SSP is not
// queued behind them. A frame of a type without a handler is a counted drop.
//
// Ownership: `deps.loop`, `deps.clock`, `deps.socket_factory` and the
// generator behind `deps.rng` must outlive the core; the core owns the path
// (or the socket it wraps in a UdpPath). Not thread-safe: loop thread only.
#ifndef MOSHX_NET_TRANSPORT_CORE_H_
#define MOSHX_NET_TRANSPORT_CORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/clock.h"
#include "net/compressor.h"
#include "net/connection.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"
#include "net/fragment.h"
#include "net/instruction.h"
#include "net/path.h"
#include "net/send_scheduler.h"
#include "net/session_key.h"

namespace moshx::net {

// What the transport runs on. Construct the POSIX versions in cmd/
// (PollEventLoop, SystemClock, UdpSocket, UdpSocketFactory) and the
// simulated ones in tests.
//
// The datagrams travel on `path` when it is set (a Dispatcher's association,
// a StreamPath, ...); otherwise on a UdpPath made from `socket` and
// `socket_factory` and the config's role and server address, which is
// today's UDP behaviour (net/udp_path.h).
struct TransportDeps {
  EventLoop* loop;
  const Clock* clock;
  std::unique_ptr<DatagramSocket> socket;
  // Client port hopping; null disables it. Unused by the server.
  DatagramSocketFactory* socket_factory;
  // Non-cryptographic randomness (chaff lengths and bytes).
  absl::BitGenRef rng;
  // If set, `socket` and `socket_factory` must be null and the config's
  // server_address is ignored (the path knows its peer).
  std::unique_ptr<Path> path = nullptr;
};

struct TransportConfig {
  Role role = Role::kClient;
  // kMosh: OCB3 + zlib, no connection id (talks to real mosh programs).
  // kMoshx: GCM + zstd + cleartext connection id (moshx peers).
  WireMode mode = WireMode::kMosh;
  uint64_t connection_id = 0;             // kMoshx only
  std::optional<Address> server_address;  // required for a client's UDP path
  // SEND_MINDELAY; default 1 ms for the client, 8 ms for the server.
  std::optional<absl::Duration> send_mindelay;
  // The sequence number of this side's first datagram (docs/protocol.md
  // §3.3). cmd/ passes TimeBasedFirstSequence(now) (net/connection.h) so a
  // reused key never repeats a nonce; 0 in tests that compare bytes.
  uint64_t first_seq = 0;
};

struct TransportStats {
  uint64_t instructions_sent = 0;
  uint64_t instructions_received = 0;  // complete, parsed, version 2
  uint64_t fragment_drops = 0;         // bad fragment/compression/protobuf/version
  uint64_t duplicate_states = 0;       // new_num already held
  uint64_t missing_reference = 0;      // old_num not held: cannot apply
  uint64_t bad_throwaway = 0;          // throwaway_num > old_num (hostile/buggy)
  uint64_t apply_failures = 0;         // ApplyDiff returned an error
  uint64_t older_states = 0;           // stored, but not newer than the newest
  uint64_t quenched = 0;               // refused: receiver holds > 1024 states
  uint64_t over_budget = 0;            // refused: held states > kMaxReceivedBytes
  uint64_t send_failures = 0;          // Connection::Send errors
  uint64_t typed_frames_sent = 0;      // moshx: frames of types other than SSP
  uint64_t typed_frames_received = 0;  // moshx: delivered to a frame handler
  uint64_t unknown_frame_types = 0;    // moshx: no handler, or an empty payload
  uint64_t urgent_frames_sent = 0;     // data frames sent as urgent (MarkUrgent)
  uint64_t urgent_copies_sent = 0;     // their extra copies (SendScheduler::kUrgentCopies)
};

class TransportCore {
 public:
  enum class ReceiveOutcome {
    kNewest,           // new newest remote state
    kOlder,            // stored, but older than the newest (reordered)
    kDuplicate,
    kMissingReference,
    kBadThrowaway,
    kApplyFailed,
    kQuenched,
    kOverBudget,
  };

  // Implemented by Transport<>; called only from inside the core.
  class StateHooks {
   public:
    virtual ~StateHooks() = default;
    // Subtract the acknowledged (front) sent state from all others.
    virtual void Rationalize(uint64_t front_num) = 0;
    virtual SendScheduler::Comparison Compare(const SendScheduler& s) = 0;
    virtual std::string DiffCurrentFrom(uint64_t sent_num) = 0;
    virtual void StoreCurrentAs(uint64_t num) = 0;
    virtual void ForgetSentExcept(const std::deque<SendScheduler::SentRecord>& kept) = 0;
    virtual ReceiveOutcome ApplyInstruction(const Instruction& inst, MonoTime now) = 0;
  };

  static absl::StatusOr<std::unique_ptr<TransportCore>> Create(
      TransportDeps deps, const SessionKey& key, const TransportConfig& config,
      StateHooks* hooks);
  ~TransportCore();

  // The local state may have changed: re-evaluate at the next loop turn.
  void NotifyLocalChange();
  // The newest local change is urgent (an interrupting key, or the answer to
  // one): the data frames of the next SendScheduler::kUrgentWindow are sent
  // from the acknowledged state, several times (SendScheduler::kUrgentCopies).
  // Also notifies a local change.
  void MarkUrgent();
  // The output that answered input has ended: the next data frame leaves at
  // once (SendScheduler::MarkAnswerEnd). Also notifies a local change.
  void MarkAnswerEnd();
  // The output that answers input is a flood: no more early reply frames
  // after the first (SendScheduler::MarkLongAnswer).
  void MarkLongAnswer() { scheduler_.MarkLongAnswer(); }
  // Sends whatever is due now (also run by the core's own alarm).
  void Tick();
  // When the core next wants to run (Infinite if idle or no peer address).
  MonoTime NextWakeup();

  void StartShutdown();
  bool shutdown_in_progress() const { return scheduler_.shutdown_in_progress(); }
  bool shutdown_acknowledged() const { return scheduler_.shutdown_acknowledged(); }
  bool ShutdownAckTimedOut() const { return scheduler_.ShutdownAckTimedOut(clock_->Now()); }
  bool counterparty_shutdown_ack_sent() const {
    return scheduler_.last_sent_ack_num() == kShutdownNum;
  }

  // --- Typed frames (moshx mode) -----------------------------------------------
  using FrameHandler = std::function<void(absl::string_view frame)>;
  // Sends one frame of `type` (not kFrameTypeSsp) of at most
  // max_frame_size() bytes in its own datagram, now. FailedPrecondition in
  // mosh mode or before the peer's address is known; other errors as
  // Connection::Send. The frame is unreliable, like the datagram.
  absl::Status SendFrame(uint8_t type, absl::string_view frame);
  // Largest frame SendFrame() takes now (follows the Connection's MTU).
  size_t max_frame_size() const;
  // Authentic frames of `type` go to `handler` (null removes it). They run
  // from the socket's callback on the loop thread and must not remove their
  // own handler.
  void set_frame_handler(uint8_t type, FrameHandler handler);

  void set_on_remote_state(std::function<void()> f) { on_remote_state_ = std::move(f); }
  // Called when a send is due, before the local state is compared and
  // diffed: the owner may bring a lazily kept local state up to date there
  // (see Transport::set_before_send).
  void set_before_send(std::function<void()> f) { before_send_ = std::move(f); }
  // Server: called when the client's address is adopted or changes
  // ("Server now attached to client at ..."), and with nullopt on detach.
  void set_remote_address_observer(std::function<void(std::optional<Address>)> f) {
    connection_->set_remote_address_observer(std::move(f));
  }

  const Connection& connection() const { return *connection_; }
  const SendScheduler& scheduler() const { return scheduler_; }
  const TransportStats& stats() const { return stats_; }
  MonoTime Now() const { return clock_->Now(); }

 private:
  TransportCore(TransportDeps& deps, const TransportConfig& config, StateHooks* hooks,
                std::unique_ptr<Compressor> compressor);
  void UpdateTimers(MonoTime now);
  void OnPayload(std::string payload);
  void OnSspFragment(absl::string_view fragment);
  void CountOutcome(ReceiveOutcome outcome);
  // Sends the instruction `copies` times (the last copy
  // SendScheduler::kUrgentCopyDelay later if copies > 1).
  void SendInstruction(uint64_t old_num, uint64_t new_num, std::string diff, int copies = 1);
  // Seals and sends each fragment once (each send is a new sequence number,
  // so a copy never reuses a nonce).
  void SendFragments(const std::vector<std::string>& fragments);
  std::string MakeChaff();
  void Reschedule();

  EventLoop* const loop_;
  const Clock* const clock_;
  absl::BitGenRef rng_;
  StateHooks* const hooks_;
  std::unique_ptr<Compressor> compressor_;
  Fragmenter fragmenter_;
  FragmentAssembler assembler_;
  std::unique_ptr<Connection> connection_;
  SendScheduler scheduler_;
  EventLoop::AlarmId alarm_ = 0;
  MonoTime alarm_time_ = MonoTime::Infinite();
  std::function<void()> on_remote_state_;
  const WireMode mode_;
  std::map<uint8_t, FrameHandler> frame_handlers_;
  std::function<void()> before_send_;
  // The last copy of the newest urgent frame, due at delayed_copy_time_.
  std::vector<std::string> delayed_copy_;
  MonoTime delayed_copy_time_ = MonoTime::Infinite();
  TransportStats stats_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_TRANSPORT_CORE_H_
