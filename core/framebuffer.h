// The terminal framebuffer: what a terminal shows, as a plain value.
//
// A Framebuffer is the state that moshx synchronises from server to client
// and renders on the user's terminal: a grid of cells (text, width,
// renditions, hyperlink), the cursor, the terminal modes an application can
// set, the window title and icon name, a bell counter, the most recent
// OSC 52 clipboard write, and the SGR state diffs leave the receiver in.
//
// Value semantics: copying is cheap because rows are shared copy-on-write
// (std::shared_ptr<const Row>); mutating a row through MutableRow() first
// copies it if any other framebuffer still shares it. Equality (operator==)
// is exact over every field listed here, and first compares row pointers so
// unchanged rows cost nothing.
//
// Canonical form (what the mutators maintain, what Validate() checks, and
// what the diff engine in core/diff.h relies on):
//   * a blank cell has empty text; a printed space is stored as empty text;
//   * a cell's text is one grapheme: a base character that is not a
//     combining mark, then zero or more combining marks (UTF-8), at most
//     kMaxCellTextBytes bytes in all;
//   * width 2 marks a wide character's left half; the cell to its right is
//     its continuation (width 0, empty text, same renditions and hyperlink
//     as the left half); a wide character never starts in the last column;
//   * the last row is never `wrapped` (there is no row for it to wrap into);
//   * the cursor lies inside the screen;
//   * title, icon name, clipboard selection and payload and hyperlinks hold
//     no control characters (C0 or DEL; they would end the OSC string), and
//     the clipboard selection no ';'.
//
// Thread-safety: none. A Framebuffer (and the rows it shares with its copies)
// must be used from one thread, because the copy-on-write check reads the
// shared_ptr use count.
#ifndef MOSHX_CORE_FRAMEBUFFER_H_
#define MOSHX_CORE_FRAMEBUFFER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::core {

// A foreground or background colour: the terminal's default, one of the 16
// colours SGR names directly (30-37 / 90-97 for the foreground, 40-47 /
// 100-107 for the background: "ANSI" 0-7 and their bright variants 8-15),
// an index into the 256-colour palette (38;5;N / 48;5;N, any N, 0-15
// included), or 24-bit RGB. ANSI colour 9 and palette colour 9 are usually
// drawn alike but are different requests (terminals may render bold or
// themes differently, and tmux keeps them apart), so they are kept apart.
struct Color {
  enum class Kind : uint8_t { kDefault, kAnsi, kIndexed, kRgb };

  static constexpr Color Default() { return Color(); }
  // `index` < 16.
  static constexpr Color Ansi(uint8_t index) {
    return Color{Kind::kAnsi, static_cast<uint8_t>(index & 15), 0, 0};
  }
  static constexpr Color Indexed(uint8_t index) {
    return Color{Kind::kIndexed, index, 0, 0};
  }
  static constexpr Color Rgb(uint8_t r, uint8_t g, uint8_t b) {
    return Color{Kind::kRgb, r, g, b};
  }

  bool is_default() const { return kind == Kind::kDefault; }
  // For kAnsi and kIndexed the colour number; meaningless otherwise.
  uint8_t index() const { return r; }

  Kind kind = Kind::kDefault;
  // kAnsi and kIndexed keep the number in `r` (g and b are 0); kDefault
  // keeps all 0.
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;

  friend bool operator==(const Color& x, const Color& y) {
    return x.kind == y.kind && x.r == y.r && x.g == y.g && x.b == y.b;
  }
  friend bool operator!=(const Color& x, const Color& y) { return !(x == y); }
};

// Character attributes, as bits of Renditions::attributes.
enum Attribute : uint8_t {
  kBold = 1 << 0,
  kFaint = 1 << 1,
  kItalic = 1 << 2,
  kUnderline = 1 << 3,
  kBlink = 1 << 4,
  kInverse = 1 << 5,
  kInvisible = 1 << 6,
  kStrikethrough = 1 << 7,
};

// How a cell is drawn (SGR state). Default-constructed = SGR 0.
struct Renditions {
  bool has(Attribute a) const { return (attributes & a) != 0; }
  void set(Attribute a, bool on) {
    attributes = on ? (attributes | a) : (attributes & ~a);
  }
  bool is_default() const {
    return attributes == 0 && fg.is_default() && bg.is_default();
  }
  // What erasing (ECH/EL/ED, scrolled-in lines) leaves behind under
  // background-colour-erase: this background, nothing else.
  static Renditions BackgroundOnly(Color bg) {
    Renditions r;
    r.bg = bg;
    return r;
  }

  uint8_t attributes = 0;  // Attribute bits
  Color fg;
  Color bg;

  friend bool operator==(const Renditions& x, const Renditions& y) {
    return x.attributes == y.attributes && x.fg == y.fg && x.bg == y.bg;
  }
  friend bool operator!=(const Renditions& x, const Renditions& y) {
    return !(x == y);
  }
};

// An OSC 8 hyperlink. `id` is the optional "id=" parameter (empty if none;
// no ';' or ':'), `uri` is non-empty (OSC 8 with an empty URI ends a link);
// neither contains control characters.
struct Hyperlink {
  std::string id;
  std::string uri;

  friend bool operator==(const Hyperlink& x, const Hyperlink& y) {
    return x.id == y.id && x.uri == y.uri;
  }
  friend bool operator!=(const Hyperlink& x, const Hyperlink& y) {
    return !(x == y);
  }
};

// Longest cell text (a base character and its combining marks) kept;
// emulators drop further combining marks.
inline constexpr size_t kMaxCellTextBytes = 128;

// One character cell. Plain data; Row::Set() puts it into canonical form.
struct Cell {
  // UTF-8 grapheme: base character plus combining marks; "" = blank.
  std::string text;
  // 1 = narrow, 2 = left half of a wide character, 0 = the right half
  // (continuation) of the wide character to the left.
  uint8_t width = 1;
  Renditions renditions;
  // The OSC 8 link this cell belongs to; null = none. Compared by value.
  std::shared_ptr<const Hyperlink> link;

  bool is_blank() const { return text.empty(); }
  bool is_continuation() const { return width == 0; }

  friend bool operator==(const Cell& x, const Cell& y);
  friend bool operator!=(const Cell& x, const Cell& y) { return !(x == y); }
};

// True when both links are null or both point to equal Hyperlinks.
// Inline: the diff and the history encoder call it for every cell.
inline bool SameLink(const std::shared_ptr<const Hyperlink>& x,
                     const std::shared_ptr<const Hyperlink>& y) {
  if (x == y) return true;
  if (x == nullptr || y == nullptr) return false;
  return *x == *y;
}

// One screen line. Its mutators keep wide characters whole: overwriting
// either half of a wide character turns the other half into a blank cell
// (keeping that half's renditions), as terminals do.
class Row {
 public:
  // A row of `width` (>= 1) blank cells with the given renditions.
  explicit Row(int width, const Renditions& blank = Renditions());

  int width() const { return static_cast<int>(cells_.size()); }
  const Cell& cell(int col) const { return cells_[col]; }
  const std::vector<Cell>& cells() const { return cells_; }

  // True when the text of this row continues on the next row (the terminal
  // autowrapped out of this row's last column), used for copy-and-paste.
  bool wrapped() const { return wrapped_; }
  void set_wrapped(bool wrapped) { wrapped_ = wrapped; }

  // Stores `cell` at `col` (0 <= col < width()) in canonical form: a text of
  // " " becomes "", width 0 becomes 1, a wide cell in the last column becomes
  // a blank narrow cell with the same renditions, and a wide cell also writes
  // its continuation at col + 1. Broken wide halves nearby become blank.
  void Set(int col, Cell cell);

  // Blanks cells [begin, end) with `renditions` and no link (clamped to the
  // row); a wide character cut by either edge is blanked entirely.
  void Erase(int begin, int end, const Renditions& renditions);

  // Truncates or pads (with default blanks) to `width` >= 1 columns. A wide
  // character cut by the new edge is blanked. Does not touch wrapped().
  void Resize(int width);

  // Checks the canonical form (see the file comment). Error: why not.
  absl::Status Validate() const;

  friend bool operator==(const Row& x, const Row& y) {
    return x.wrapped_ == y.wrapped_ && x.cells_ == y.cells_;
  }
  friend bool operator!=(const Row& x, const Row& y) { return !(x == y); }

 private:
  // Blanks the wide character covering `col`, if any (both halves).
  void BreakWide(int col);

  std::vector<Cell> cells_;
  bool wrapped_ = false;
};

// A line of narrow cells drawn from a palette, not laid out as a Row: what
// the emulator keeps of a plain-text flood's scrolled-off lines
// (term/emulator.h), so that a line costs its text until it is used.
// Column x (0 <= x < cols) holds glyphs[text[x] - 0x20] when x < text.size()
// and text[x] is printable ASCII (0x20..0x7e), else `blank`; a nullopt cell
// is a default blank (Cell()). LayOut() makes the Row;
// protocol::PlainLineEncoder (core/protocol/history.h) encodes the line as
// that Row would be encoded without making it.
struct PlainPalette {
  int cols = 1;  // >= 1
  std::optional<Cell> blank;
  std::array<std::optional<Cell>, 95> glyphs;  // for 0x20..0x7e
};
struct PlainRow {
  std::shared_ptr<const PlainPalette> palette;  // not null
  absl::string_view text;  // bytes beyond palette->cols are not used
};
// The Row `row` stands for: palette->cols cells, each Set() (so in
// canonical form), not wrapped.
Row LayOut(const PlainRow& row);

enum class CursorShape : uint8_t { kBlock, kUnderline, kBar };

struct Cursor {
  int row = 0;  // 0-based, 0 <= row < height
  int col = 0;  // 0-based, 0 <= col < width
  bool visible = true;
  CursorShape shape = CursorShape::kBlock;
  bool blinking = true;  // DECSCUSR 0 and 1 both mean blinking block

  friend bool operator==(const Cursor& x, const Cursor& y) {
    return x.row == y.row && x.col == y.col && x.visible == y.visible &&
           x.shape == y.shape && x.blinking == y.blinking;
  }
  friend bool operator!=(const Cursor& x, const Cursor& y) {
    return !(x == y);
  }
};

// Mouse reporting (DEC private modes 9, 1000, 1002, 1003).
enum class MouseTracking : uint8_t { kNone, kX10, kNormal, kButton, kAnyEvent };
// Mouse report encoding (DEC private modes 1005, 1006, 1015).
enum class MouseEncoding : uint8_t { kDefault, kUtf8, kSgr, kUrxvt };

// Terminal modes an application can set. Defaults = a freshly reset xterm.
struct Modes {
  bool application_cursor_keys = false;  // DECCKM, CSI ? 1 h
  bool application_keypad = false;       // DECKPAM, ESC =
  bool bracketed_paste = false;          // CSI ? 2004 h
  MouseTracking mouse_tracking = MouseTracking::kNone;
  MouseEncoding mouse_encoding = MouseEncoding::kDefault;
  bool focus_events = false;             // CSI ? 1004 h
  bool alternate_screen = false;         // CSI ? 1049 h
  bool origin_mode = false;              // DECOM, CSI ? 6 h
  bool autowrap = true;                  // DECAWM, CSI ? 7 h
  bool reverse_video = false;            // DECSCNM, CSI ? 5 h

  friend bool operator==(const Modes& x, const Modes& y);
  friend bool operator!=(const Modes& x, const Modes& y) { return !(x == y); }
};

// An OSC 52 clipboard write: the selection target string (e.g. "c", "p",
// "s0", as the application sent it) and the payload (normally base64,
// stored verbatim; "?" queries are never stored).
struct ClipboardWrite {
  std::string selection;
  std::string data;

  friend bool operator==(const ClipboardWrite& x, const ClipboardWrite& y) {
    return x.selection == y.selection && x.data == y.data;
  }
  friend bool operator!=(const ClipboardWrite& x, const ClipboardWrite& y) {
    return !(x == y);
  }
};

// The largest screen width or height either side accepts: the server's
// emulator clamps to it (term/emulator.h) and the client refuses a larger
// resize from the server (core/protocol/terminal_state.h), so a hostile
// server cannot make the client hold more cells than a server would
// (docs/security.md §3).
inline constexpr int kMaxScreenDimension = 1024;

// What one screen may carry beyond its cells' base characters, so that no
// state update the server makes exceeds what a receiver accepts (the 4 MiB
// instruction limit, docs/security.md §6): the hyperlinks' URIs and ids
// together, and the combining marks (cell text after its first character)
// together. Titles, icon names and the clipboard have their own caps in the
// emulator (term/emulator.h).
inline constexpr size_t kMaxScreenLinkBytes = 256 * 1024;
inline constexpr size_t kMaxScreenMarkBytes = 512 * 1024;

class Framebuffer;

// What EnforceScreenBudget removed.
struct ScreenBudgetCuts {
  uint64_t links_dropped = 0;  // cells whose hyperlink was removed
  uint64_t marks_dropped = 0;  // cells whose combining marks were removed
};

// Keeps `fb` within kMaxScreenLinkBytes and kMaxScreenMarkBytes, reading
// rows top to bottom: a link first met after the link budget is spent is
// removed from its cells (each distinct link counts once per row it is on),
// and a cell whose combining marks would exceed the mark budget keeps only
// its base character. Rows within budget are not copied.
ScreenBudgetCuts EnforceScreenBudget(Framebuffer* fb);

// True when some cell of `row` has a hyperlink or combining marks: what
// EnforceScreenBudget counts.
bool CarriesBudgetedBytes(const Row& row);

class Framebuffer {
 public:
  // A blank screen of the given size (each clamped to >= 1) with default
  // cursor, modes, empty title and icon name, bell count 0, no clipboard.
  Framebuffer(int width, int height);

  Framebuffer(const Framebuffer&) = default;
  Framebuffer& operator=(const Framebuffer&) = default;
  Framebuffer(Framebuffer&&) = default;
  Framebuffer& operator=(Framebuffer&&) = default;

  int width() const { return width_; }
  int height() const { return static_cast<int>(rows_.size()); }

  // Row and cell access; indexes must be in range.
  const Row& row(int y) const { return *rows_[y]; }
  const std::shared_ptr<const Row>& shared_row(int y) const {
    return rows_[y];
  }
  const Cell& cell(int y, int x) const { return rows_[y]->cell(x); }

  // A writable row, copied first if another framebuffer shares it. The
  // pointer is valid until the next non-const call on this framebuffer. The
  // caller must not change the row's width nor make the last row wrapped.
  Row* MutableRow(int y);

  // Replaces row y; a row of the wrong width is resized to width(). On the
  // last row, wrapped is cleared. The shared_ptr must not be null.
  void SetRow(int y, Row row);
  void SetRow(int y, std::shared_ptr<const Row> row);

  // Scrolls rows [top, bottom] (inclusive, clamped) up by n >= 0 lines:
  // rows leave at the top, blank rows with `fill` renditions enter at the
  // bottom. Keeps the last row unwrapped.
  void ScrollUp(int top, int bottom, int n, const Renditions& fill);

  // Replaces every row with a blank row of `fill` renditions.
  void EraseAll(const Renditions& fill);

  // Changes the size (each clamped to >= 1): rows are truncated or padded
  // with default blanks on the right, and removed or added at the bottom;
  // wrapped flags are cleared if the width changes (and on the last row);
  // the cursor is moved inside the screen.
  void Resize(int width, int height);

  const Cursor& cursor() const { return cursor_; }
  // The caller must keep the position inside the screen.
  Cursor* mutable_cursor() { return &cursor_; }

  const Modes& modes() const { return modes_; }
  Modes* mutable_modes() { return &modes_; }

  // OSC 2 / OSC 1 (OSC 0 sets both). Any UTF-8 text, stored verbatim.
  const std::string& title() const { return title_; }
  void set_title(std::string title) { title_ = std::move(title); }
  const std::string& icon_name() const { return icon_name_; }
  void set_icon_name(std::string name) { icon_name_ = std::move(name); }

  // How many times the bell rang since the terminal started (never reset).
  uint64_t bell_count() const { return bell_count_; }
  void set_bell_count(uint64_t count) { bell_count_ = count; }
  void RingBell() { ++bell_count_; }

  // The most recent OSC 52 write, if any happened.
  const std::optional<ClipboardWrite>& clipboard() const { return clipboard_; }
  void set_clipboard(ClipboardWrite write) { clipboard_ = std::move(write); }

  // The SGR state a terminal that was brought to this framebuffer by a diff
  // is left in, which the next diff starts from (core/diff.h). Default (SGR
  // 0) for every frame moshx's server makes. A real mosh-server ends each
  // frame with the application's current renditions and leaves them out of
  // the next frame's cells that use them, so a client of mosh-server keeps
  // them here (core::Apply reads and writes it).
  const Renditions& pen() const { return pen_; }
  void set_pen(const Renditions& pen) { pen_ = pen; }

  // Checks every invariant of the canonical form. Error: the first problem.
  absl::Status Validate() const;

  friend bool operator==(const Framebuffer& x, const Framebuffer& y);
  friend bool operator!=(const Framebuffer& x, const Framebuffer& y) {
    return !(x == y);
  }

 private:
  int width_;
  std::vector<std::shared_ptr<const Row>> rows_;
  Cursor cursor_;
  Modes modes_;
  std::string title_;
  std::string icon_name_;
  uint64_t bell_count_ = 0;
  std::optional<ClipboardWrite> clipboard_;
  Renditions pen_;
};

}  // namespace moshx::core

#endif  // MOSHX_CORE_FRAMEBUFFER_H_
