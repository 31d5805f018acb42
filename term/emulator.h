// term::Emulator: the server-side terminal emulator (libvterm underneath).
//
// An Emulator consumes what the application writes to its pty and keeps the
// resulting screen as a core::Framebuffer. It is the only code in moshx that
// includes <vterm.h>; libvterm 0.3.3 (built from source, third_party/
// libvterm.BUILD) does the parsing and the screen model, and this class maps
// everything core::Framebuffer models:
//
//   * cells: text (base character plus combining marks), wide characters,
//     bold/faint/italic/underline/blink/inverse/invisible (SGR 8)/
//     strikethrough, and colours as the application asked for them (default,
//     ANSI 0-15 by SGR 30-37/90-97, palette index by 38;5;N, or 24-bit RGB;
//     never converted into one another);
//   * whether a row wrapped into the next (libvterm's line continuation);
//   * OSC 8 hyperlinks on the cells printed while a link was open;
//   * the cursor (position, visibility, shape, blinking);
//   * modes: alternate screen, reverse video, mouse tracking, focus events
//     (libvterm's terminal properties); application cursor keys, application
//     keypad, bracketed paste and mouse encoding (probed from what libvterm
//     would send for a key, a paste and a wheel event); origin mode and
//     autowrap (read from libvterm's state);
//   * title and icon name (OSC 0/1/2), bell count, and the most recent OSC 52
//     clipboard write (any selection target, payload verbatim).
//
// libvterm's pen has no faint and stores SGR 90 and 38;5;8 alike; both
// travel in its font attribute (SGR 10-19, not modelled: an application's
// font choice is ignored), which printed cells and DECSC/DECRC carry.
// Erased cells keep only colours in libvterm, so a background-colour erase
// with 48;5;N (N < 16) shows ANSI colour N.
//
// Not modelled: mouse mode 9 (X10; libvterm ignores it), underline styles,
// fonts, double-width/height lines.
//
// Resize: rows are cut or padded on the right and wrapped flags cleared (no
// reflow: libvterm 0.3.3's reflow reads outside its buffer, can abort the
// process and misplaces the cursor); on a shrink, rows below the cursor go
// first, then rows leave at the top (into scrollback, see below), so the
// cursor's line stays on screen. The scroll region is kept (clamped) while
// it still holds two rows. Hyperlinks follow their cells on the screen
// showing; the other screen's are dropped.
//
// libvterm 0.3.3 defects this class works around (each proven by a test in
// term/emulator_test.cc; 0.1.4's split OSC strings, DECSET reading only its
// first parameter, memory corruption and misplaced cursor on resize, and
// ignored conceal are fixed in 0.3.3, and their workarounds are gone):
//   * more than 16 CSI parameters overrun its array: term::SequenceFramer
//     marks such a CSI; an SGR is split into several (so truecolor
//     foreground and background with many attributes keep every parameter),
//     any other CSI keeps its first 16;
//   * a CSI parameter or OSC number of more than 9 digits overflows its
//     accumulator (undefined behaviour): the framer drops the extra digits;
//   * 38:2::R:G:B (ITU T.416 with an empty colour space) is read with the
//     colour space as red: the colour space is dropped before it sees it;
//   * a wide character on a one-column screen crashes it: one column is
//     emulated as two (kMinWidth);
//   * REP of a wide glyph that comes to the last column with its left half
//     writes the right half past the row (the process dies): it is repeated
//     only as often as it fits whole;
//   * REP before any character (or after a glyph of width 0) loops forever:
//     such a REP is dropped (one with more than 16 parameters too), and an
//     escape or CSI that ESC abandons reaches libvterm as its C0 controls
//     only, so libvterm is never left inside it when the next one is dropped;
//   * UTF-8-encoded C1 controls are printed with width -1 (the cursor moves
//     left, REP then loops): the framer drops them;
//   * a DCS request (DECRQSS) is read into plain chars and shifted: a byte
//     >= 0x80 in it is undefined behaviour; the framer drops such bytes in
//     a DCS;
//   * a combining character that arrives after the cursor moved, or after a
//     glyph that filled the last column (a pty read may split them), is
//     printed as a width-0 glyph over the next cell, or wrapped onto the
//     next line: such marks are attached as mosh does (WriteTextStart in
//     emulator.cc);
//   * its Unicode tables are 5.0's: a combining mark core knows and they
//     lack (U+0617, U+1DC4, ...) is printed as a glyph of width 1 of its
//     own (shown as U+00A0 and the mark, a column the program does not
//     count, and a diff re-sending such a cell made two cells of it): such
//     marks join their base as libvterm's own do (the framer marks each one,
//     WriteTextStart in emulator.cc joins it);
//   * a combining mark its fullwidth table also lists (U+302A..U+302D,
//     U+3099, U+309A) adds 2 columns to its base when they come in one run,
//     a glyph of 3 columns, written past the row of a narrow screen: the
//     framer marks such marks too and WriteTextStart joins them;
//   * a cursor saved before a shrink is restored outside the screen: it is
//     clamped on resize;
//   * cell widths after partial overwrites of wide characters are
//     inconsistent: rows are put in canonical form when read.
// The state it reads that libvterm does not export (pending wrap, last
// glyph, scroll region, origin mode, autowrap, saved cursor) comes through
// third_party/libvterm_extra.h, compiled with libvterm's own sources.
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
// Scrollback: lines that leave the top of the primary screen (scrolled off,
// or pushed out by a resize) can be kept in a bounded buffer
// (Options::scrollback_lines; 0 = off), oldest first, each with its cells,
// renditions, hyperlinks and whether it continues on the next line
// (Row::wrapped(); for a scroll of several lines at once, SU or DL with a
// count at the top, each takes the flag of the last one).
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

#include "absl/functional/function_ref.h"
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
    // sequence in progress, full-screen scrolling) parse only the tail that
    // can still be on screen or, with scrollback kept, in the scrollback
    // buffer after this Feed: `seq 1 3000000` costs a fraction of what
    // libvterm's line-by-line scrolling would. The screen, the lines kept
    // and the count of lines not kept are the same (see SkippablePrefix in
    // emulator.cc; with scrollback kept, only a Feed of more than
    // scrollback_lines + height lines can skip, and only a prefix that
    // cannot autowrap); off for tests that compare against the plain path.
    // With scrollback kept, a flood of printable ASCII, CR and LF (no
    // autowrap, no hyperlink open, ASCII printed as is) keeps its lines as
    // text, laid out only when taken, and libvterm scrolls only the last
    // screenful: lines dropped from the buffer unread cost almost nothing.
    bool plain_text_fast_path = true;
    // With scrollback kept, a line that scrolls off holding only printable
    // ASCII and blanks (each in one pen, no hyperlink, not wrapped) is kept
    // as its text and a palette shared with the lines before it, as the
    // fast path keeps a flood's lines, instead of as a row of cells (~64
    // bytes a cell): laid out when taken, to the same Row. Off only for
    // tests that compare against laying every line out.
    bool plain_rows = true;
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
  static constexpr int kMaxDimension = core::kMaxScreenDimension;
  // Narrowest screen: libvterm 0.3.3 crashes printing a wide character on a
  // one-column screen, so one column is emulated as two.
  static constexpr int kMinWidth = 2;

  // The version of the libvterm linked in, e.g. "0.3.3".
  static std::string LibvtermVersion();

  // Interprets `bytes` of pty output (any bytes; invalid UTF-8 becomes
  // U+FFFD; a sequence may be split across calls). Returns the bytes the
  // terminal answers to queries in `bytes`, to be written back to the pty
  // (empty almost always).
  [[nodiscard]] std::string Feed(absl::string_view bytes);

  // Changes the screen size (clamped as in the constructor): see "Resize"
  // in the file comment. The cursor stays inside the screen.
  void Resize(int width, int height);

  int width() const;
  int height() const;

  // The current screen. Rows that did not change since the previous call are
  // shared (same pointer) with the framebuffer that call returned. Kept
  // within the screen budget (core::EnforceScreenBudget: hyperlinks and
  // combining marks beyond it are removed, docs/security.md §6).
  core::Framebuffer Snapshot();
  // What the screen budget removed so far.
  core::ScreenBudgetCuts budget_cuts() const;

  // Lines that left the top of the primary screen since the last call,
  // oldest first (at most Options::scrollback_lines of them).
  std::vector<core::Row> TakeScrollback();
  // The same, at most `max` of them (the oldest); the rest stay kept.
  std::vector<core::Row> TakeScrollback(size_t max);
  // The same lines, oldest first, handed to `visit` one at a time instead
  // of laid out: a plain-text flood's lines (see plain_text_fast_path) as
  // `plain` (core::LayOut(*plain) is the row the calls above return), the
  // others as `row` (which `visit` may move from); the other pointer is
  // null. Both are valid only during the call, which must not call this
  // emulator. Returns how many lines were taken (min(max, pending)).
  size_t TakeScrollback(size_t max,
                        absl::FunctionRef<void(core::Row* row, const core::PlainRow* plain)> visit);
  // Lines kept and not yet taken.
  size_t pending_scrollback() const;
  // Those of them held as rows of cells (~64 bytes a cell); the others, a
  // plain-text flood's (see plain_text_fast_path), are held as their text
  // and laid out when taken.
  size_t pending_scrollback_rows() const;
  // How many lines left the top of the primary screen since the last call
  // but were not kept: pushed out of the full buffer (oldest first), or
  // never parsed by the plain-text fast path. They come after every line
  // taken before this call and before every line kept now, so a caller
  // that calls this right before TakeScrollback() knows where the gap is.
  uint64_t TakeLinesNotKept();

  // How many Feed() calls skipped a prefix by the plain-text fast path.
  uint64_t fast_path_skips() const;

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
