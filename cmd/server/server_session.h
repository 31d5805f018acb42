// ServerSession: one moshx/mosh server session — the transport, the terminal
// emulator and the user's shell on a pty, wired together
// (docs/protocol.md §7.4, §10).
//
// Everything comes in through its constructor: the event loop, clock, socket
// and randomness (TransportDeps) and a PtySpawner, so the same class runs in
// production (PollEventLoop, UdpSocket) and in tests (SimulatedNetwork and a
// real or fake pty). The caller drives it:
//
//   auto session = ServerSession::Create(deps, key, options, spawner);
//   while (!(*session)->done()) {
//     loop->RunOnce((*session)->WaitTime());
//     (*session)->Service();
//   }
//
// Behaviour:
//   - The shell starts when the first client state arrives, sized by the
//     client's first Resize (mosh starts it at that moment too).
//   - Pty output is read at most 16 KiB per loop iteration (several reads
//     gathered, fed to the emulator at once), so a flood cannot
//     starve the socket: Ctrl-C reaches the pty within one iteration, and only
//     the newest screen is ever sent.
//   - Screen snapshots: after a pty read the screen is taken from the
//     emulator only when no send is pending; otherwise it is marked stale and
//     taken when the transport is about to send (Transport::set_before_send),
//     before user input is translated (it reads the cursor-key mode) and
//     before the shutdown starts. A flood that the link carries at one frame
//     per send interval thus costs a snapshot per frame, not per read; every
//     state sent is the screen after all output read so far, as before.
//   - Echo ack: for each client state carrying events, its number becomes the
//     echo ack 50 ms after it arrived.
//   - moshx mode only: every state carries the pty's ECHO/ICANON flags and
//     whether the shell itself is in the foreground (TerminalState's
//     pty_state), sampled before each echo-ack update, so the client never
//     predicts while a password is typed; "settled" once neither output nor
//     those flags changed for kPtySettleTime (while nobody typed for 5 s, the
//     return to settled waits until the pty was quiet for 2 s: a program
//     that keeps writing costs one state per screen), and "fresh" until the
//     first keystroke is consumed (the shell's own first prompt). Never sent
//     to a mosh client.
//   - The session ends with the shutdown handshake when the shell exits, on a
//     terminating signal, on the network or SIGUSR1 timeouts, when the client
//     shuts down, or when no client shows up within `connect_timeout`.
//
// Not thread-safe: all calls on the loop's thread. `deps.loop`/`deps.clock`
// must outlive the session.
#ifndef MOSHX_CMD_SERVER_SESSION_H_
#define MOSHX_CMD_SERVER_SESSION_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cmd/server/user_input.h"
#include "cmd/sys/pty.h"
#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"
#include "net/dispatcher.h"
#include "net/session_key.h"
#include "net/stream/association_streams.h"
#include "net/stream/stream_mux.h"
#include "net/transport.h"
#include "cmd/server/history_sender.h"
#include "term/emulator.h"

namespace moshx::cmd {

struct ServerSessionOptions {
  net::WireMode mode = net::WireMode::kMoshx;
  uint64_t connection_id = 0;
  // Size of state 0 (the client's Resize repairs any mismatch).
  int width = 80;
  int height = 24;
  // End the session when no new client state arrived for this long
  // (MOSH_SERVER_NETWORK_TMOUT); zero = never.
  absl::Duration network_timeout = absl::ZeroDuration();
  // SIGUSR1 ends the session only after this long without a client state
  // (MOSH_SERVER_SIGNAL_TMOUT); zero = always.
  absl::Duration signal_timeout = absl::ZeroDuration();
  // No client state at all within this long: exit.
  absl::Duration connect_timeout = absl::Seconds(60);
  // Take the screen from the emulator once per send rather than after every
  // pty read (see "Screen snapshots" in the class comment). Off only for
  // tests that compare against the plain path.
  bool snapshot_per_send = true;
  // Send the last screen of a long answer to input as soon as the pty is
  // quiet (net::SendScheduler::MarkAnswerEnd; server_session.cc,
  // kAnswerQuiet). Off only for tests that compare against the frame
  // interval alone.
  bool mark_answer_end = true;
  // moshx mode: lines kept for the client's scrollback while the link is
  // behind (`moshx serve --scrollback`; 0 = none; history stream,
  // docs/protocol.md §7.6). Ignored in mosh mode.
  size_t scrollback_lines = 0;
  // Tests: sees every piece of pty output, as read, before the emulator.
  std::function<void(absl::string_view)> on_pty_output;
  // Called once after each burst of output (at least
  // ServerSession::kReleaseAfterOutput bytes read from the pty since the
  // last call), when the pty has been quiet for kReleaseQuiet and the
  // history stream is drained, after the session gave back its own idle
  // buffers (the streams' and the history batches'). `moshx serve` passes
  // malloc_trim(0): the allocator keeps the pages a burst freed inside its
  // heap (2.5 MiB after `seq` and `base64` floods, docs/benchmarks.md
  // "Server memory after a flood"). May be empty.
  std::function<void()> release_free_memory;
  // The sequence number of the first datagram (net::TransportConfig);
  // `moshx serve` passes net::TimeBasedFirstSequence (docs/security.md §4).
  uint64_t first_seq = 0;
};

// Starts the user's program on a pty of the given size.
using PtySpawner =
    std::function<absl::StatusOr<std::unique_ptr<sys::Pty>>(sys::WindowSize size)>;

// True if `text` holds only printable ASCII, CR and LF: pty output that
// ReadPty gathers up to 64 KiB per Feed (the emulator's plain-text fast path
// takes it whole), where anything else is fed 16 KiB at a time.
bool IsPlainPtyOutput(absl::string_view text);

class ServerSession {
 public:
  using ServerTransport = net::Transport<protocol::TerminalState, protocol::UserStream>;

  // See ServerSessionOptions::release_free_memory.
  static constexpr uint64_t kReleaseAfterOutput = 256 * 1024;
  static constexpr absl::Duration kReleaseQuiet = absl::Seconds(1);

  static absl::StatusOr<std::unique_ptr<ServerSession>> Create(net::TransportDeps deps,
                                                               const net::SessionKey& key,
                                                               const ServerSessionOptions& options,
                                                               PtySpawner spawner);
  ~ServerSession();

  // Does the per-iteration work (echo ack, timeouts, end conditions). Call
  // after every RunOnce.
  void Service();
  // How long the loop may sleep before Service() has something to do.
  absl::Duration WaitTime() const;

  // SIGTERM/SIGINT: start the shutdown (a second one, or one before any
  // client, ends the session at once).
  void OnTerminateSignal();
  // SIGUSR1: shut down if the client has been idle for signal_timeout.
  void OnUsr1Signal();

  // An attach (issue 13, docs/protocol.md §9.1): makes a NEW association with
  // `key` and `connection_id` (both fresh, chosen by the session host) the
  // session's live one, and revokes the old one.
  //   - The new association starts from state 0 like any new client (the
  //     TerminalState of options.width x options.height, nonces from the
  //     start of the new key's sequence) and its first state is the
  //     session's whole screen, modes, title and pty state: nothing is sent
  //     relative to what the old client acknowledged. Its client's first
  //     Resize resizes the pty, as at the start of a session.
  //   - The old association hears nothing more from the session: its
  //     client's keystrokes and resizes are ignored (counted in
  //     attach_stats().revoked_states_ignored). Once the new client's first
  //     datagram arrived (its address known), or after
  //     kSupersedeAddressWait without one, the old association is told:
  //     its state gets the "superseded" extension (with the new client's
  //     address if known; core/protocol/terminal_state.h) and it is shut
  //     down with the shutdown handshake. When its client acknowledged that,
  //     or the handshake timed out, or it had no client, it is removed from
  //     the dispatcher: its datagrams are then counted drops
  //     (dispatcher_stats()->dropped_unknown_id).
  //   - Forwarded streams of the old association end with it; streams()
  //     then returns the new association's mux. The old mux is destroyed
  //     here: whoever holds it (ServerForwarding) must let go of it before
  //     the call.
  //   - Scrollback on: the new association's history stream starts with
  //     the session's newest `history_lines` history lines (at most
  //     HistoryRing::kMaxLines and --scrollback; `moshx connect --history`),
  //     then goes on with live lines (docs/protocol.md §7.6).
  // Errors (nothing changed): FailedPrecondition in mosh mode, for a session
  // whose transport runs on a caller's path (deps.path), or once the session
  // is ending; InvalidArgument for a key this session used before (no key
  // serves two associations); AlreadyExists for a connection id in use.
  absl::Status Reassociate(net::SessionKey key, uint64_t connection_id,
                           size_t history_lines = 0);

  // The lines a re-attaching client can get first (tests, memory figures).
  const HistoryRing& history_ring() const { return history_ring_; }
  // True while history lines could go out at the next turn
  // (HistorySender::has_more(); tests).
  bool history_has_more() const { return history_ != nullptr && history_->has_more(); }

  // How long a revoked association waits for the new client's address
  // before it is told without one (a new client normally comes within a
  // round trip of the attach; 3 s covers a lost first datagram).
  static constexpr absl::Duration kSupersedeAddressWait = absl::Seconds(3);

  struct AttachStats {
    uint64_t reassociations = 0;          // successful Reassociate() calls
    uint64_t revoked_states_ignored = 0;  // client states of revoked associations
    uint64_t associations_retired = 0;    // revoked associations removed
  };
  const AttachStats& attach_stats() const { return attach_stats_; }
  // Revoked associations not yet removed (being told).
  size_t revoked_associations() const { return retiring_.size(); }
  // The session's dispatcher (moshx mode on a socket), else null.
  const net::DispatcherStats* dispatcher_stats() const {
    return dispatcher_ ? &dispatcher_->stats() : nullptr;
  }

  // Input waiting for the pty to take it (keystrokes and the emulator's
  // answers to status queries) is kept to this much: an application that
  // never reads, or a flood of queries, cannot make the server grow.
  // Beyond it keystrokes and whole answers are dropped and counted
  // (docs/security.md §5).
  static constexpr size_t kMaxPendingPtyInput = size_t{1} << 20;
  size_t pending_pty_input_bytes() const { return pending_pty_input_.size(); }
  uint64_t pty_input_dropped_bytes() const { return pty_input_dropped_bytes_; }

  bool done() const { return done_; }
  // Why the session ended ("shell exited", "Network idle for 30 seconds.", …).
  const std::string& exit_reason() const { return exit_reason_; }
  // True when it ended with a completed shutdown handshake.
  bool clean() const { return clean_; }

  const ServerTransport& transport() const { return *transport_; }
  const sys::Pty* pty() const { return pty_.get(); }
  // moshx mode: the association's reliable streams (docs/streams.md), for
  // forwarding; null in mosh mode. Lives as long as the session; a client
  // that roams restarts their congestion model.
  net::stream::StreamMux* streams() { return streams_ ? &streams_->mux() : nullptr; }

 private:
  // A revoked association, kept until its client has been told.
  struct Retiring {
    std::unique_ptr<ServerTransport> transport;
    net::MonoTime revoked;
    bool told = false;
  };

  ServerSession(net::EventLoop* loop, const net::Clock* clock, absl::BitGenRef rng,
                const ServerSessionOptions& options, PtySpawner spawner);

  // Hooks `transport` up to this session (remote states, the lazy screen)
  // and, in moshx mode, makes streams_ its streams.
  absl::Status Hook(ServerTransport* transport);
  // Tells revoked associations and removes those that are done.
  void ServiceRetiring(net::MonoTime now);

  void OnRemoteState();
  void ConsumeEvents(const std::vector<protocol::UserEvent>& events);
  absl::Status StartShell(int width, int height);
  void OnPtyEvents(uint32_t events);
  void ReadPty();
  void FeedEmulator(absl::string_view output);
  void FlushPtyInput();
  // Whether the pty state `state` (which has the shell's foreground flag of
  // the report being made) may return to settled now (kQuietAnnounce).
  bool AnnouncesSettled(const protocol::PtyState& state, net::MonoTime now) const;
  // True while the echo ack of some input is still to come (kEchoTimeout).
  bool EchoAckPending(net::MonoTime now) const;
  void UpdateEchoAck(net::MonoTime now);
  void UpdatePtyState(net::MonoTime now);
  // The end of a burst: see ServerSessionOptions::release_free_memory.
  bool ReleaseDue(net::MonoTime now) const;
  void MaybeReleaseMemory(net::MonoTime now);
  void PublishScreen();
  // PublishScreen() if output arrived since the last one.
  void PublishIfStale();
  void BeginShutdown(std::string reason);
  void Finish(std::string reason, bool clean);

  net::EventLoop* const loop_;
  const net::Clock* const clock_;
  absl::BitGenRef rng_;
  const ServerSessionOptions options_;
  PtySpawner spawner_;
  // Before every transport: association paths must die before it.
  std::unique_ptr<net::Dispatcher> dispatcher_;
  std::vector<Retiring> retiring_;
  std::unique_ptr<ServerTransport> transport_;
  std::unique_ptr<net::stream::AssociationStreams> streams_;  // after transport_: dies first
  term::Emulator emulator_;
  HistoryRing history_ring_;  // outlives every HistorySender
  size_t replay_lines_ = 0;   // for the next Hook(): an attach's --history
  std::unique_ptr<HistorySender> history_;  // on streams_, reads emulator_: dies first
  std::unique_ptr<sys::Pty> pty_;
  UserInputTranslator translator_;
  std::string pending_pty_input_;  // not yet accepted by the pty
  uint64_t pty_input_dropped_bytes_ = 0;  // beyond kMaxPendingPtyInput
  uint64_t consumed_events_ = 0;    // user events already delivered
  uint64_t last_remote_num_ = 0;
  std::deque<std::pair<uint64_t, net::MonoTime>> input_frames_;  // echo ack history
  net::MonoTime last_pty_activity_;  // output or a change of the pty flags
  net::MonoTime last_input_time_;    // the newest client state with events
  net::MonoTime last_output_time_;   // the newest pty output
  // The answer to the newest input (the output after it): ends of it found
  // (the pty quiet for answer_quiet_ after output read since the input or
  // the last mark: answer_output_) that may still be marked (kAnswerMarks).
  // answer_quiet_ is kAnswerQuiet, or kInterruptAnswerQuiet after an
  // interrupting key. A flag, not a comparison of times: output read in the
  // same clock tick as the input is still its answer.
  // answer_bytes_ counts its pty bytes until it is found long (more than
  // kLongAnswerScreens screens of cells: a flood), when the transport is
  // told once (net::SendScheduler::MarkLongAnswer).
  int answer_marks_left_ = 0;
  bool answer_output_ = false;
  absl::Duration answer_quiet_;
  uint64_t answer_bytes_ = 0;
  bool long_answer_ = false;
  uint64_t output_since_release_ = 0;  // pty bytes since release_free_memory
  net::MonoTime start_time_;
  net::MonoTime last_client_state_time_;
  bool heard_client_ = false;
  bool typed_ = false;  // a keystroke was consumed (PtyState::fresh ends)
  bool screen_stale_ = false;  // the emulator has output not yet published
  bool shutting_down_ = false;
  bool done_ = false;
  bool clean_ = false;
  std::string exit_reason_;
  std::string shutdown_reason_;
  std::vector<net::SessionKey> used_keys_;  // every association's key
  AttachStats attach_stats_;
};

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_SESSION_H_
