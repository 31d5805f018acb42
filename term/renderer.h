// term::Renderer: draws core::Framebuffers on the user's real terminal.
//
// The client hands every frame it wants shown to Draw(), which returns the
// bytes to write to the terminal: core::Diff from what this Renderer drew
// last (or, the first time, after Invalidate() or when the size changed, a
// full repaint of a cleared screen). Open() and Close() bracket a session so
// that the terminal is left as it was found:
//
//   Open():  push the window title (XTWINOPS 22), enter the alternate screen
//            (unless disabled), and put every mode a frame can change into
//            its default state, so the first frame is drawn from a known
//            state;
//   Close(): turn off every mode a frame may have turned on — application
//            cursor keys and keypad, bracketed paste, focus events, all mouse
//            tracking modes and encodings, reverse video, origin mode —,
//            restore autowrap, cursor visibility and (if a frame changed it)
//            the terminal's default cursor shape, reset SGR, leave the
//            alternate screen and pop the title. (mosh forgets bracketed
//            paste, focus events and reverse video; see
//            docs/prediction.md §D.5.)
//
// What is drawn follows the frame, except that the frame's alternate-screen
// mode is not mirrored (the whole session already runs in the terminal's
// alternate screen) and a full repaint does not replay the bell or re-send
// the last clipboard write.
//
// The terminal is assumed to be xterm-compatible (ECH, BCE, titles,
// DECSCUSR); nothing is queried. Renderer does no I/O; the caller writes the
// returned bytes in order.
//
// Thread-safety: none (one Renderer per terminal, used from one thread).
#ifndef MOSHX_TERM_RENDERER_H_
#define MOSHX_TERM_RENDERER_H_

#include <optional>
#include <string>
#include <vector>

#include "core/diff.h"
#include "core/framebuffer.h"

namespace moshx::term {

class Renderer {
 public:
  struct Options {
    // Draw in the terminal's alternate screen (like smcup/rmcup), so the
    // user's scrollback and screen come back on exit. mosh's --no-init
    // corresponds to false.
    bool alternate_screen = true;
    // Save the window title on Open() and restore it on Close().
    bool save_title = true;
    // The session's history goes into the terminal's own scrollback
    // (PushToScrollback(), issue 14): frames never add lines to it
    // themselves (core::DiffOptions::preserve_scrollback), so every line
    // there is a history line, once. Needs alternate_screen false.
    bool write_history = false;
  };

  Renderer() : Renderer(Options()) {}
  explicit Renderer(const Options& options) : options_(options) {}

  // Bytes to write once, before the first Draw(). With write_history and
  // the terminal's height, they first scroll what the terminal shows down
  // to its cursor row (the shell line that started the session) into its
  // scrollback, where ssh would have left it, rather than the first frame
  // erasing it.
  std::string Open(int terminal_height = 0) const;

  // Bytes that make the terminal show `frame`.
  std::string Draw(const core::Framebuffer& frame);

  // Draw(frame), with `history` put into the terminal's scrollback first
  // (PushToScrollback(); after the frame when nothing was drawn yet or the
  // size changed, so the lines are laid out at the frame's size).
  std::string Draw(const core::Framebuffer& frame, const std::vector<core::Row>& history);

  // Bytes that put `lines` (oldest first) into the terminal's scrollback,
  // just above the screen, each on its own row(s), and leave the screen as
  // the last Draw() drew it: the lines are painted over the top rows, a
  // screenful at a time, scrolled off with line feeds at the bottom row,
  // and the screen is drawn again from what the scroll left (one write, no
  // flash). A line wider than the screen continues on the next row (cut
  // at the width; a wide character that would straddle the edge moves to
  // the next row); a narrower one is padded with blanks. Empty when nothing
  // was drawn yet, with write_history off, or without lines.
  std::string PushToScrollback(const std::vector<core::Row>& lines);

  // The next Draw() repaints everything (after Ctrl-L, SIGCONT, or when the
  // terminal's contents are otherwise unknown).
  void Invalidate() { drawn_.reset(); }

  // Bytes to write once, last. After Close() the Renderer may be reused
  // starting with Open().
  std::string Close();

 private:
  core::DiffOptions DiffOptions() const;

  Options options_;
  // What the terminal shows (as drawn), if known.
  std::optional<core::Framebuffer> drawn_;
  // Whether a frame changed the cursor shape, so Close() restores it.
  bool cursor_shape_changed_ = false;
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_RENDERER_H_
