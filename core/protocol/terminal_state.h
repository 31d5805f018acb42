// TerminalState: the server -> client synchronized state (docs/protocol.md
// §7.2, §7.4, §7.5): the terminal's framebuffer plus the echo ack ("every
// keystroke up to client state N reached the application at least 50 ms
// ago").
//
// It satisfies net/sync_state.h. Diffs are serialized HostBuffers.HostMessage,
// as mosh-server sends them: an EchoAck instruction when the ack changed, then
// (only when the framebuffers differ) a Resize when the size changed and
// HostBytes = core::Diff(reference, current). ApplyDiff interprets HostBytes
// with core::Apply, so a client holds an exact copy of the server's screen.
//
// moshx extension (never part of a mosh session): the server's pty state
// (ECHO, ICANON, whether the shell is in the foreground) that lets the client
// predict safely (core/prediction_engine.h, core/protocol/pty_state.h). It
// travels as its own Instruction whose only field is
// field::kMoshxPtyEchoState (100, core/protocol/messages.h), a message
// {1: echo, 2: canonical, 3: shell_foreground, 4: foreground id,
// 5: settled, 6: fresh (written only while true)} (varints), emitted only
// when set and changed. A state whose
// pty state was never set (every state of a mosh-mode server) diffs exactly
// as mosh's.
//
// moshx extension (issue 13, docs/sessions.md): "superseded" — another client
// attached to this session (an attach is a new association), so this
// association is revoked. The server sets it once on the old association,
// in the state it shuts that association down with. It travels as its own
// Instruction whose only field is field::kMoshxSuperseded (103), a message
// {1: the new client's address as text, e.g. "192.0.2.1:50000"} whose
// field 1 is absent when the address is unknown. Emitted only when set and
// changed; a mosh-mode server never sets it.
// A mosh client ignores the unknown extension; a moshx client talking to
// mosh-server simply never gets one (pty_state() stays nullopt).
//
// ApplyDiff rejects (the transport drops) a decreasing echo ack, a bad size,
// a malformed extension and any HostBytes outside core::Apply's repertoire.
// On error the state may be partly updated; the transport discards such a
// copy.
//
// Value type (framebuffer rows are shared copy-on-write, so copies are
// cheap); not thread-safe.
#ifndef MOSHX_CORE_PROTOCOL_TERMINAL_STATE_H_
#define MOSHX_CORE_PROTOCOL_TERMINAL_STATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/framebuffer.h"
#include "core/protocol/pty_state.h"

namespace moshx::protocol {

// The "superseded" extension's content (see the file comment).
struct Superseded {
  // At most kMaxAddressLength bytes of [0-9A-Za-z.:[]%_-]; empty = unknown.
  std::string new_client_address;

  static constexpr size_t kMaxAddressLength = 64;
  friend bool operator==(const Superseded& a, const Superseded& b) {
    return a.new_client_address == b.new_client_address;
  }
  friend bool operator!=(const Superseded& a, const Superseded& b) { return !(a == b); }
};

class TerminalState {
 public:
  // The largest screen a resize from the server may ask for: what a moshx
  // server's emulator allows (core::kMaxScreenDimension).
  static constexpr int kMaxDimension = core::kMaxScreenDimension;

  // A blank screen of the given size (state 0 of a session).
  TerminalState(int width, int height) : framebuffer_(width, height) {}
  TerminalState() : TerminalState(80, 24) {}

  const core::Framebuffer& framebuffer() const { return framebuffer_; }
  void set_framebuffer(core::Framebuffer fb) { framebuffer_ = std::move(fb); }
  uint64_t echo_ack() const { return echo_ack_; }
  void set_echo_ack(uint64_t n) { echo_ack_ = n; }
  // moshx mode only (see the file comment); nullopt = not reported.
  const std::optional<PtyState>& pty_state() const { return pty_state_; }
  void set_pty_state(std::optional<PtyState> s) { pty_state_ = s; }
  // moshx mode only: set when another client attached (see the file
  // comment); nullopt = not superseded. An address that breaks the rule in
  // Superseded is dropped by the sender (sent as unknown) and makes
  // ApplyDiff fail on the receiver.
  const std::optional<Superseded>& superseded() const { return superseded_; }
  void set_superseded(std::optional<Superseded> s) { superseded_ = std::move(s); }

  // net/sync_state.h contract.
  // Client side of a mosh-mode session: HostBytes from a real mosh-server go
  // through core::ApplyLenient, so a sequence moshx does not know is skipped
  // (as mosh's emulator ignores it) instead of stalling the session. Not
  // part of the synchronized content; copies inherit it.
  void set_lenient_apply(bool lenient) { lenient_apply_ = lenient; }
  // HostBytes sequences skipped so far in lenient mode (this copy's history).
  int skipped_sequences() const { return skipped_sequences_; }

  std::string DiffFrom(const TerminalState& reference) const;
  absl::Status ApplyDiff(absl::string_view diff);
  std::string InitDiff() const;
  void Subtract(const TerminalState&) {}
  friend bool operator==(const TerminalState& a, const TerminalState& b) {
    return a.echo_ack_ == b.echo_ack_ && a.pty_state_ == b.pty_state_ &&
           a.superseded_ == b.superseded_ && a.framebuffer_ == b.framebuffer_;
  }
  friend bool operator!=(const TerminalState& a, const TerminalState& b) { return !(a == b); }

 private:
  core::Framebuffer framebuffer_;
  uint64_t echo_ack_ = 0;
  std::optional<PtyState> pty_state_;
  std::optional<Superseded> superseded_;
  bool lenient_apply_ = false;
  int skipped_sequences_ = 0;
};

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_TERMINAL_STATE_H_
