// term::Emulator: the server-side terminal emulator (libvterm underneath).
//
// An Emulator consumes what the application writes to its pty and keeps the
// resulting screen as a core::Framebuffer. It is the only code in moshx that
// includes <vterm.h>; libvterm 0.1.4 does the parsing and the screen model,
// and this class maps everything core::Framebuffer models:
//
//   * cells: text (base character plus combining marks), wide characters,
//     bold/italic/underline/blink/inverse/strikethrough, and colours kept as
//     libvterm reports them (default, palette index 0-255, or 24-bit RGB;
//     an index is never turned into RGB or the other way round);
//   * OSC 8 hyperlinks on the cells printed while a link was open;
//   * the cursor (position, visibility, shape, blinking);
//   * modes: alternate screen, reverse video, mouse tracking (from libvterm's
//     terminal properties); application cursor keys, application keypad,
//     bracketed paste, focus events and mouse encoding (probed from what
//     libvterm would send for a key, a paste, a focus change and a wheel
//     event); origin mode and autowrap (tracked by term::ModeTracker, since
//     libvterm 0.1.4 exposes neither);
//   * title and icon name (OSC 0/1/2), bell count, and the most recent OSC 52
//     clipboard write (any selection target, payload verbatim).
//
// Not modelled, because libvterm 0.1.4 does not keep them: faint (SGR 2) and
// invisible (SGR 8) are dropped; a row's `wrapped` flag is always false
// (0.1.4 has no line-continuation info); mouse mode 9 (X10) is ignored;
// DECSET/DECRST apply only their first parameter (libvterm's behaviour).
// Hyperlinks are dropped on a resize.
//
// libvterm 0.1.4 defects this class works around (each found by the tests
// or fuzzers in term/): it loses or misreports OSC/DCS strings split across
// writes and overruns its array on more than 16 CSI parameters (input goes
// through term::SequenceFramer, which hands libvterm whole sequences only);
// it crashes printing wide characters on a one-column screen (kMinWidth);
// it corrupts memory or misplaces the cursor on some resizes, and restores
// a cursor saved before a shrink outside the screen (Resize() resets the
// scroll region and erases the rows being dropped, restores are clamped);
// REP before any printed character loops forever (a space is printed and
// erased at start); cell widths after partial overwrites of wide characters
// are inconsistent (rows are put in canonical form when read).
//
// Queries never leave the server: libvterm answers DA (`CSI c`), secondary DA
// (`CSI > c`), DSR/CPR (`CSI 5 n`, `CSI 6 n`), DECRQM and DECRQSS, and this
// class answers the xterm text-area size report (`CSI 18 t`). Feed() returns
// those answers; the caller writes them back to the pty. The framebuffer only
// ever holds state, so no query can reach a client through core::Diff.
//
// Copy-on-write: Snapshot() returns a Framebuffer whose rows are shared with
// the previous snapshot except those libvterm reported as damaged since; a
// full-width scroll moves the shared rows instead of copying them, so the
// diff engine sees the scroll as moved rows.
//
// Scrollback: lines that scroll off the top of the primary screen can be kept
// in a bounded buffer (Options::scrollback_lines; 0 = off), oldest first.
//
// Thread-safety: none; one thread per Emulator. Not copyable (it owns the
// libvterm instance); movable only through std::unique_ptr.
#ifndef MOSHX_TERM_EMULATOR_H_
#define MOSHX_TERM_EMULATOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::term {

class Emulator {
 public:
  struct Options {
    // How many scrolled-off lines to keep (oldest dropped first); 0 = none.
    size_t scrollback_lines = 0;
    // Answers pending beyond this many bytes are dropped (and counted), so a
    // flood of queries cannot grow memory without bound.
    size_t max_pending_answers = 64 * 1024;
    // Floods of plain text (only printable characters, CR and LF; no escape
    // sequence in progress, full-screen scrolling, no scrollback kept) parse
    // only the tail that can still be on screen: `seq 1 3000000` costs a
    // fraction of what libvterm's line-by-line scrolling would. The visible
    // result is the same (see SkippablePrefix in emulator.cc); off for tests
    // that compare against the plain path.
    bool plain_text_fast_path = true;
  };

  // A screen of `width` x `height` cells, clamped to kMinWidth..kMaxDimension
  // columns and 1..kMaxDimension rows.
  Emulator(int width, int height);
  Emulator(int width, int height, const Options& options);
  ~Emulator();

  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Largest width or height accepted (larger requests are clamped): bounds the
  // memory a hostile resize can take (libvterm keeps two screens of cells).
  static constexpr int kMaxDimension = 1024;
  // Narrowest screen: libvterm 0.1.4 crashes printing a wide character on a
  // one-column screen, so one column is emulated as two.
  static constexpr int kMinWidth = 2;

  // Interprets `bytes` of pty output (any bytes; invalid UTF-8 becomes
  // U+FFFD; a sequence may be split across calls). Returns the bytes the
  // terminal answers to queries in `bytes`, to be written back to the pty
  // (empty almost always).
  [[nodiscard]] std::string Feed(absl::string_view bytes);

  // Changes the screen size (clamped as in the constructor). Content is kept
  // top-left aligned as libvterm does (unless the cursor would fall off the
  // bottom: then the top rows scroll off); the cursor stays inside the
  // screen; the scroll region is reset to the whole screen.
  void Resize(int width, int height);

  int width() const;
  int height() const;

  // The current screen. Rows that did not change since the previous call are
  // shared (same pointer) with the framebuffer that call returned.
  core::Framebuffer Snapshot();

  // Lines that scrolled off the top since the last call, oldest first
  // (at most Options::scrollback_lines of them).
  std::vector<core::Row> TakeScrollback();

  // Answers dropped because more than Options::max_pending_answers bytes of
  // answers were produced by one Feed().
  uint64_t dropped_answer_bytes() const;

  // Opaque libvterm state and callbacks (defined in emulator.cc).
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_EMULATOR_H_
