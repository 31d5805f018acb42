// PtyState: the server's pty as the client's prediction engine needs it,
// reported with each frame in moshx mode (core/protocol/terminal_state.h
// carries it in the moshx extension field 100; core/prediction_engine.h uses
// it to decide what may be echoed locally). Never sent to a mosh peer.
//
// Plain value type; thread-compatible.
#ifndef MOSHX_CORE_PROTOCOL_PTY_STATE_H_
#define MOSHX_CORE_PROTOCOL_PTY_STATE_H_

#include <cstdint>

namespace moshx::protocol {

struct PtyState {
  bool echo = false;       // ECHO in c_lflag
  bool canonical = false;  // ICANON in c_lflag
  // The session's shell (the pty's session leader) is the foreground
  // process group, i.e. no job is running.
  bool shell_foreground = false;
  // Opaque identity of the foreground process group (0 = unknown).
  uint32_t foreground = 0;
  // No pty output and no change of the above for a short while (the server
  // uses 20 ms) before this report: a program that prints a prompt and then
  // turns echo off has had time to do so. Only settled reports are trusted.
  bool settled = false;
  // No keystroke has reached the pty since the shell started: whatever
  // reads the terminal is the shell's own first prompt (or a program its
  // start-up files ran), not something the user started. Once false it
  // stays false for the session.
  bool fresh = false;

  // ECHO off in canonical mode: a password is being typed.
  bool secret() const { return canonical && !echo; }

  friend bool operator==(const PtyState& a, const PtyState& b) {
    return a.echo == b.echo && a.canonical == b.canonical &&
           a.shell_foreground == b.shell_foreground && a.foreground == b.foreground &&
           a.settled == b.settled && a.fresh == b.fresh;
  }
  friend bool operator!=(const PtyState& a, const PtyState& b) { return !(a == b); }
};

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_PTY_STATE_H_
