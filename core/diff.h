// The framebuffer diff engine: the escape sequences that turn a terminal
// showing one Framebuffer into one showing another, and a small applier for
// exactly those sequences.
//
// Diff(from, to) writes only this subset (mosh's HostBytes repertoire,
// docs/prediction.md §C.2, plus moshx's extensions marked *):
//   BEL; BS; LF; CR; UTF-8 text (each cell's grapheme; a space for a blank);
//   ESC ] 0|1|2 ; text BEL (icon/title); ESC ] 52 ; selection ; data BEL*
//   (any selection string); ESC ] 8 ; [id=ID] ; URI ESC \ and ESC ] 8 ; ; ESC \;
//   CSI r and CSI 1 ; b r; CSI H and CSI y ; x H; CSI 2 J; CSI K; CSI n X;
//   CSI 0 ... m (absolute SGR; 2 faint* and 9 strikethrough* included;
//   colours as 30-37/90-97 for ANSI ones, 38;5;N for palette ones, 38;2;R;G;B,
//   and the 40s likewise);
//   CSI ? n h / l for n in 1* (cursor keys), 5, 6* (origin), 7* (autowrap),
//   9, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 25, 1049* (alternate
//   screen), 2004; CSI n SP q* (cursor shape); ESC = and ESC >* (keypad).
//
// Conventions at diff boundaries, which every diff establishes at its end
// and assumes at its start: the receiver's SGR is the framebuffer's pen()
// (from.pen() at the start, to.pen() at the end; SGR 0 for every frame
// moshx's server makes), no OSC 8 link is open, the scroll region is the
// whole screen, and its cursor is where the framebuffer says (possibly in
// the pending-wrap state at the last column, so the engine never prints
// there nor moves relatively before an absolute move or CR).
//
// Shape of the output:
//   * bell: one BEL per bell rung (to.bell_count - from.bell_count, at most
//     kMaxBells); titles, clipboard and reverse video when changed;
//   * a size change or an alternate-screen switch repaints everything (CSI H,
//     CSI 2 J, then the non-blank cells), assuming the receiver has already
//     been resized to `to`'s size (mosh sends a Resize instruction first);
//   * otherwise, an upward scroll of rows [0, b] by k lines is detected from
//     row contents and sent as k LFs (inside CSI 1 ; b+1 r when b is not the
//     last row) when that is shorter than repainting; when most rows changed,
//     clearing the display first (CSI H CSI 2 J) is tried too; the shortest
//     candidate wins;
//   * rows are painted left to right, skipping unchanged cells; a run of
//     blanks reaching the end of a row that does not wrap is erased with EL
//     (erased cells, unlike spaces, are not copied by copy-and-paste), other
//     runs use ECH when shorter than spaces; every SGR is absolute;
//     each cursor move is the shortest of CUP, CR, LFs and BSs, or (to the
//     right on the same row) printing again the cells in between; wide
//     characters are always written whole and a cell left over from a broken
//     wide character is rewritten; wrapped rows are printed to their last
//     column (reached by an absolute move) and continued through the
//     receiver's pending autowrap;
//   * the final cursor position, visibility and shape, and changed modes.
// Diff(f, f) is the empty string.
//
// Guarantee (tested on random and golden screens, and fuzzed): for
// framebuffers a and b of the same size that pass Validate(), whose cell
// widths agree with core::CharWidth, and with b reachable from a
// (a.bell_count <= b.bell_count <= a.bell_count + kMaxBells, and b has a
// clipboard write if a has one):
//   Apply(a, Diff(a, b)) == b.
// For different sizes, the same holds with `a` first resized to b's size.
// Inputs that break these conditions still give a diff, not necessarily an
// exact one, and no crash as long as every row is width() cells wide.
//
// Thread-safety: pure functions of their arguments; thread-compatible.
#ifndef MOSHX_CORE_DIFF_H_
#define MOSHX_CORE_DIFF_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::core {

// A diff sends at most this many BELs; further bells in the same frame are
// dropped (the receiver's bell count then lags behind).
inline constexpr int kMaxBells = 64;

// What the receiving terminal can do. The defaults are what the wire
// assumes (mosh's server side): erasing fills with the current background
// colour (BCE) and ECH exists. A local terminal may lack either (terminfo
// `bce`, `ech`; TERM=screen has neither).
struct DiffOptions {
  // When false, blanks with a non-default background are written as spaces
  // instead of being erased (ECH/EL leave such terminals' default colour).
  bool background_color_erase = true;
  // When false, ECH is never used (EL and spaces only).
  bool erase_characters = true;
  // When true, nothing the diff sends makes the terminal add lines to its
  // own scrollback (a client that writes the session's history there
  // itself, issue 14, must be the only one): rows that moved up are
  // repainted instead of scrolled (a line feed at the bottom of a
  // whole-screen region saves the top row), and the screen is erased with
  // ED 0 from the second column plus EL on the first row instead of ED 2
  // (which xterm can, and tmux's scroll-on-clear does, save; so does tmux
  // for ED 0 from the home position).
  bool preserve_scrollback = false;
};

// The escape-sequence string that turns a terminal showing `from` into one
// showing `to` (see the file comment). Never fails.
std::string Diff(const Framebuffer& from, const Framebuffer& to,
                 const DiffOptions& options = DiffOptions());

// Draws `to` on a terminal in an unknown state (startup, after Ctrl-L or
// SIGCONT): resets the scroll region, SGR, hyperlink, origin mode and mouse
// modes, clears the screen, paints every non-blank cell and sets the titles,
// reverse video, cursor and every mode explicitly. Bells, the clipboard and
// the alternate screen are left alone, so for any x of to's size with x's
// bell count, clipboard and alternate-screen flag equal to to's:
//   Apply(x, Repaint(to)) == to.
// Uses Diff()'s subset plus the resets CSI ? 9/1000/1002/1003/1005/1006/1015 l.
std::string Repaint(const Framebuffer& to,
                    const DiffOptions& options = DiffOptions());

// Applies `diff` to a copy of `from`, interpreting exactly the subset Diff()
// emits with a VT/xterm terminal's semantics (deferred autowrap, BCE erase,
// scroll regions, widths from core::CharWidth). It also accepts everything a
// real mosh-server's display engine emits (docs/prediction.md §C.2: it is the client's
// emulator for mosh's HostBytes), which adds CSI ? 1001 h/l (highlight
// mouse tracking, kept as MouseTracking::kNormal). It starts as the boundary
// conventions say (SGR from.pen(), no link, whole-screen region, cursor at
// from.cursor() and not in pending wrap) and leaves the SGR it ends with in
// the result's pen() (mosh-server's frames rely on it carrying over from
// one frame to the next: docs/mosh-interop.md); a row becomes wrapped when a
// printable character autowraps out of it, and stops being wrapped when its
// last column is erased. CSI ? 1049 h/l only sets the mode flag (the screen
// contents are whatever follows). Returns InvalidArgument for
// any byte sequence outside the subset (other controls, unknown CSI/OSC,
// malformed UTF-8, a combining mark with no character to attach to).
absl::StatusOr<Framebuffer> Apply(const Framebuffer& from,
                                  absl::string_view diff);

// Like Apply, but a sequence outside the subset (or malformed UTF-8) is
// skipped and counted in `*skipped` (may be null) instead of failing the
// whole diff. For a client talking to a real mosh-server, whose emulator
// simply ignores what it does not know: one unexpected sequence must not
// stall the session. Never fails.
Framebuffer ApplyLenient(const Framebuffer& from, absl::string_view diff,
                         int* skipped);

}  // namespace moshx::core

#endif  // MOSHX_CORE_DIFF_H_
