// The one file that includes <vterm.h>. libvterm calls back into the
// trampolines below (anonymous namespace); they update Emulator::Impl, which
// turns libvterm's screen into core::Framebuffer rows on Snapshot().
#include "term/emulator.h"

#include <vterm.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>
#include <cstring>
#include <string.h>  // memrchr (GNU)
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/char_width.h"
#include "term/sequence_framer.h"
#include "third_party/libvterm_extra.h"

static_assert(VTERM_VERSION_MAJOR == 0 && VTERM_VERSION_MINOR == 3 &&
                  VTERM_VERSION_PATCH == 3,
              "term::Emulator works around libvterm 0.3.3's defects; check them again");

namespace moshx::term {

using core::Color;
using Link = std::shared_ptr<const core::Hyperlink>;
using Mark = SequenceFramer::Mark;

namespace {

struct VTermDeleter {
  void operator()(VTerm* vt) const { vterm_free(vt); }
};
using VTermPtr = std::unique_ptr<VTerm, VTermDeleter>;

// Titles, icon names, hyperlink URIs and clipboard payloads longer than this
// are cut (at a UTF-8 boundary for text) or dropped: bounds what one OSC can
// cost.
constexpr size_t kMaxTitleBytes = 1024;
constexpr size_t kMaxUriBytes = 4096;
constexpr size_t kMaxClipboardBytes = 1 << 20;

// The column used by the mouse-encoding probe: large enough that X10 and
// UTF-8 encodings differ (col + 33 > 127), small enough for X10 (< 223).
constexpr int kMouseProbeCol = 199;

constexpr uint32_t kContinuation = static_cast<uint32_t>(-1);
constexpr char32_t kNoBreakSpace = 0xA0;

// What libvterm's pen cannot hold (it has no faint, and stores SGR 90 and
// 38;5;8 alike) travels in its font attribute (SGR 10-19, which moshx does
// not model): these bits of the font number. Cells printed with the pen
// carry it, DECSC/DECRC save and restore it, SGR 0 clears it.
constexpr int kFaintBit = 1;
constexpr int kFgPaletteBit = 2;  // foreground set by 38;5;N (not 30-37/90-97)
constexpr int kBgPaletteBit = 4;  // background set by 48;5;N

int ClampWidth(int v) {
  return std::clamp(v, Emulator::kMinWidth, Emulator::kMaxDimension);
}
int ClampHeight(int v) { return std::clamp(v, 1, Emulator::kMaxDimension); }

// True when `text` has no C0 control and no DEL: core::Framebuffer carries
// OSC strings only without them (they would end the OSC when sent on).
bool IsOscSafe(absl::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// A title or icon name: controls removed, cut to at most `max` bytes
// without splitting a UTF-8 sequence.
std::string TitleText(absl::string_view s, size_t max) {
  std::string text;
  for (char c : s) {
    if (IsOscSafe(absl::string_view(&c, 1))) text.push_back(c);
  }
  if (text.size() <= max) return text;
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  text.resize(max);
  return text;
}

Color ToColor(const VTermColor& c, bool foreground, bool palette_form) {
  if (foreground ? VTERM_COLOR_IS_DEFAULT_FG(&c) : VTERM_COLOR_IS_DEFAULT_BG(&c)) {
    return Color::Default();
  }
  if (VTERM_COLOR_IS_INDEXED(&c)) {
    return c.indexed.idx < 16 && !palette_form ? Color::Ansi(c.indexed.idx)
                                               : Color::Indexed(c.indexed.idx);
  }
  return Color::Rgb(c.rgb.red, c.rgb.green, c.rgb.blue);
}

// libvterm's screen reports a cell's reverse attribute XORed with reverse
// video (DECSCNM); `screen_reverse` undoes that.
core::Renditions ToRenditions(const VTermScreenCell& cell, bool screen_reverse) {
  const int carrier = cell.attrs.font;
  core::Renditions r;
  r.set(core::kBold, cell.attrs.bold);
  r.set(core::kFaint, (carrier & kFaintBit) != 0);
  r.set(core::kItalic, cell.attrs.italic);
  r.set(core::kUnderline, cell.attrs.underline != 0);
  r.set(core::kBlink, cell.attrs.blink);
  r.set(core::kInverse, cell.attrs.reverse != screen_reverse);
  r.set(core::kInvisible, cell.attrs.conceal);
  r.set(core::kStrikethrough, cell.attrs.strike);
  r.fg = ToColor(cell.fg, /*foreground=*/true, (carrier & kFgPaletteBit) != 0);
  r.bg = ToColor(cell.bg, /*foreground=*/false, (carrier & kBgPaletteBit) != 0);
  return r;
}

// The cell's grapheme in canonical form: marks core does not accept are
// dropped; a base that is itself a mark gets U+00A0 in front (as mosh draws
// a mark with no base), any other base core does not print becomes U+FFFD.
std::string ToText(const uint32_t* chars) {
  std::string text;
  for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && chars[i] != 0; ++i) {
    char32_t cp = chars[i] <= 0x10FFFF ? chars[i] : 0xFFFD;
    const int width = core::CharWidth(cp);
    if (i == 0 && width == 0) core::AppendUtf8(kNoBreakSpace, &text);
    if (i == 0 && width < 0) cp = 0xFFFD;
    if (i > 0 && width < 0) continue;
    core::AppendUtf8(cp, &text);
  }
  return text;
}

// One SGR parameter as libvterm's parser stores it.
struct SgrArg {
  long value;  // -1: missing
  bool more;   // followed by ':' (a sub-parameter follows)
};

std::vector<SgrArg> SgrArgs(absl::string_view sequence) {
  // "ESC [" params "m", with any C0 controls inside (libvterm executes them).
  std::vector<SgrArg> args(1, SgrArg{-1, false});
  for (size_t i = 2; i + 1 < sequence.size(); ++i) {
    const char c = sequence[i];
    if (c >= '0' && c <= '9') {
      long& v = args.back().value;
      v = std::min<long>((v < 0 ? 0 : v) * 10 + (c - '0'), 1L << 30);
    } else if (c == ';' || c == ':') {
      args.back().more = c == ':';
      args.push_back(SgrArg{-1, false});
    }
  }
  return args;
}

// The carrier bits after libvterm applies the SGR `sequence` to a pen that
// had `bits`: follows libvterm's reading of the parameters (pen.c,
// vterm_state_setpen), which decides whether a 2 is faint or part of a
// colour.
int CarrierAfterSgr(int bits, absl::string_view sequence) {
  const std::vector<SgrArg> args = SgrArgs(sequence);
  const size_t n = args.size();
  size_t i = 0;
  while (i < n) {
    const long a = args[i].value;
    if (a <= 0) {
      bits = 0;
    } else if (a == 2) {
      bits |= kFaintBit;
    } else if (a == 22) {
      bits &= ~kFaintBit;
    } else if ((a >= 30 && a <= 37) || a == 39 || (a >= 90 && a <= 97)) {
      bits &= ~kFgPaletteBit;
    } else if ((a >= 40 && a <= 47) || a == 49 || (a >= 100 && a <= 107)) {
      bits &= ~kBgPaletteBit;
    } else if (a == 38 || a == 48) {
      // libvterm would read a stale argument after the last one: nothing
      // sensible to mirror.
      if (i + 1 >= n) return bits;
      const int bit = a == 38 ? kFgPaletteBit : kBgPaletteBit;
      const size_t rest = n - i - 2;
      size_t used = 0;
      if (args[i + 1].value == 2) {
        used = std::min<size_t>(rest, 3);
        if (rest >= 3) bits &= ~bit;
      } else if (args[i + 1].value == 5) {
        used = rest > 0 ? 1 : 0;
        if (rest > 0 && args[i + 2].value >= 0) bits |= bit;
      }
      i += 1 + used;
    }
    bool more;
    do {
      more = i < n && args[i].more;
      ++i;
    } while (more);
  }
  return bits;
}

// ITU T.416 writes a direct colour as 38:2:CS:R:G:B (CS: a colour space id,
// usually left empty: 38:2::R:G:B); libvterm 0.3.3 reads the three values
// after the 2, so it takes CS as red. Such tokens lose their colour space
// (38:2:R:G:B, which libvterm and every terminal read alike).
std::string WithoutColourSpace(absl::string_view sequence) {
  std::vector<std::string> tokens =
      absl::StrSplit(sequence.substr(2, sequence.size() - 3), ';');
  for (std::string& token : tokens) {
    if (!absl::StartsWith(token, "38:2:") && !absl::StartsWith(token, "48:2:")) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
    if (parts.size() < 6) continue;  // 38:2:R:G:B as it is
    parts.erase(parts.begin() + 2);
    token = absl::StrJoin(parts, ":");
  }
  return absl::StrCat("\x1b[", absl::StrJoin(tokens, ";"), "m");
}

// The SGR that gives libvterm's pen the carrier `bits` (font 10 + bits).
std::string CarrierSgr(int bits) { return absl::StrCat("\x1b[", 10 + bits, "m"); }

// A marked sequence as libvterm reads it: C0 controls inside it (even
// between ESC and its introducer) are executed as they come, NUL and DEL
// ignored. Returns the sequence without them (a string keeps its BEL or
// ESC \ terminator) and appends the controls to run first to `controls`.
std::string CleanSequence(absl::string_view sequence, std::string* controls) {
  absl::string_view tail;
  if (absl::EndsWith(sequence, "\x1b\\")) {
    tail = sequence.substr(sequence.size() - 2);
  } else if (absl::EndsWith(sequence, "\x07")) {
    tail = sequence.substr(sequence.size() - 1);
  }
  std::string clean(1, '\x1b');
  for (char c : sequence.substr(1, sequence.size() - 1 - tail.size())) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      clean.push_back(c);
    } else if (u != 0 && u != 0x7f) {
      controls->push_back(c);
    }
  }
  absl::StrAppend(&clean, tail);
  return clean;
}

// Decodes the UTF-8 character at `pos` (advancing it); false if malformed.
bool NextChar(absl::string_view text, size_t* pos, char32_t* cp) {
  return core::DecodeUtf8(text, pos, cp);
}

// A combining mark for core (core::CharWidth 0) that libvterm's Unicode 5.0
// tables do not know (U+0616..U+061A, U+1DC4.., U+A66F..): libvterm would
// print it as a glyph of its own, one column that core (and the program)
// does not count. The framer marks each one; WriteTextStart joins it.
bool IsMarkLibvtermLacks(char32_t cp) {
  return core::IsCombining(cp) && !moshx_vterm_is_combining(cp);
}

// A combining mark libvterm also lists as full width (U+302A..U+302D,
// U+3099, U+309A): in a run after its base, libvterm adds its width 2 to the
// base's, a glyph of 3 columns (on a 2-column screen it was written past the
// row: emulator_fuzzer, seed combining_mark_after_stray_byte_one_column).
// The framer marks each one; WriteTextStart joins it, as it joins marks
// libvterm lacks.
bool IsMarkLibvtermWidens(char32_t cp) {
  return moshx_vterm_is_combining(cp) && moshx_vterm_unicode_width(cp) > 1;
}

// The characters the framer marks for WriteTextStart wherever they are.
bool IsOwnMark(char32_t cp) { return IsMarkLibvtermLacks(cp) || IsMarkLibvtermWidens(cp); }

// A character that joins the glyph before it: for libvterm or for core.
bool IsMark(char32_t cp) { return core::IsCombining(cp) || moshx_vterm_is_combining(cp); }

}  // namespace

struct Emulator::Impl {
  Impl(int width, int height, const Options& opts);

  void MarkDirty(int begin_row, int end_row);
  core::Row ReadRow(int y);
  core::Row CellsToRow(int cols, const VTermScreenCell* cells,
                       const std::vector<Link>* row_links);
  core::Cell ToCell(const VTermScreenCell& cell, const Link& link);
  int NaturalWidth(uint32_t cp);
  void UpdateLinks(const VTermRect& rect);
  void SwitchLinks(bool to_alternate);
  void MoveLinks(const VTermRect& dest, const VTermRect& src);
  void MoveRows(const VTermRect& dest, const VTermRect& src);
  void OnTitle(VTermProp prop, const VTermStringFragment& frag);
  void OnOscFragment(int command, const VTermStringFragment& frag);
  void OnHyperlink(absl::string_view params_and_uri);
  void OnClipboard(absl::string_view sequence);
  void PushLine(int cols, const VTermScreenCell* cells);
  // Keeps a line leaving the screen (PushLine; SkipKeepingPlainLines).
  void KeepRow(int cols, const VTermScreenCell* cells, const std::vector<Link>* row_links,
               bool wrapped, bool may_be_text);
  bool KeepPlainRow(int cols, const VTermScreenCell* cells);
  // Keeps `line` (printable ASCII, NUL for a blank, at most palette->cols
  // bytes) as a line that scrolled off: not wrapped, no link.
  void KeepText(const std::shared_ptr<const core::PlainPalette>& palette, absl::string_view line);
  struct Kept;
  void Keep(Kept line);
  // Drops the oldest kept lines beyond options.scrollback_lines.
  void TrimScrollback();
  // The oldest line of text `block` still holds, not laid out (valid while
  // `block` is); the next call gives the one after it.
  static core::PlainRow TakeLine(Kept& block);
  std::optional<core::Cell> LazyCell(const VTermScreenCell& raw);
  // A palette of `cols` columns: its blank made from `blank`'s pen, its
  // glyphs from `glyph`'s (the cells' characters are ignored).
  std::shared_ptr<core::PlainPalette> MakePalette(int cols, const VTermScreenCell& blank,
                                                  const VTermScreenCell& glyph);
  bool SkipKeepingPlainLines(absl::string_view* bytes, const MoshxVTermState& s);
  void ReadModes(core::Modes* modes);
  MoshxVTermState ReadState();
  bool LineContinues(int row);
  void Inject(absl::string_view bytes);
  void Write(absl::string_view bytes);
  void WriteSgr(absl::string_view sequence);
  void WriteLongCsi(absl::string_view sequence);
  void WriteRep(absl::string_view params);
  size_t WriteTextStart(absl::string_view ready, size_t at);
  std::string Probe(void (*action)(Impl*));
  core::MouseEncoding ProbeMouseEncoding();
  void Output(const char* bytes, size_t len);
  // Hyperlinks and wrapped rows across a resize: see Resize().
  struct Line {
    std::vector<uint32_t> chars;  // each cell's first character, to the last non-blank
    std::vector<Link> links;
    bool wrapped = false;
  };
  std::vector<Line> Lines(bool with_links);
  std::vector<int> MatchRows(const std::vector<Line>& before, const std::vector<Line>& after);
  void KeepCursorLineOnShrink(int new_height);

  Options options;
  VTermPtr vt;
  VTermScreen* screen = nullptr;
  VTermState* state = nullptr;
  int width;
  int height;
  // The last snapshot; title, icon, bell and clipboard are kept current in
  // it directly. dirty[y]: libvterm's row y differs from fb's row y.
  core::Framebuffer fb;
  std::vector<bool> dirty;
  // The screen budget (core::EnforceScreenBudget): needed once a row with a
  // link or combining marks was read; what it removed so far.
  bool budget_needed = false;
  core::ScreenBudgetCuts budget_cuts;
  SequenceFramer framer{&IsOwnMark};
  std::vector<Mark> marks;
  // Terminal properties reported by libvterm.
  bool cursor_visible = true;
  bool cursor_blink = true;
  int cursor_shape = VTERM_PROP_CURSORSHAPE_BLOCK;
  bool alternate_screen = false;
  bool reverse_video = false;
  int mouse = VTERM_PROP_MOUSE_NONE;
  // OSC strings arrive in fragments: the title, icon name and OSC 8 being
  // collected (bounded; `*_overflow` once past the bound).
  std::string title_text;
  std::string icon_text;
  std::string osc_text;
  bool osc_overflow = false;
  // OSC 8: the open link, and the link of every cell (empty until the first
  // link is opened, so that link-free output costs nothing).
  Link current_link;
  std::vector<std::vector<Link>> links;
  std::vector<std::vector<Link>> other_links;  // the other screen's
  // libvterm's output goes to *sink: `answers`, or a probe's buffer.
  std::string answers;
  std::string* sink = &answers;
  uint64_t dropped_answer_bytes = 0;
  // Kept in the scrollback: one row, or a block of plain ASCII lines not
  // laid out yet (SkipKeepingPlainLines: one block a Feed, so a line costs
  // its bytes and an offset, not an object of its own). Such a line was
  // printed with one pen on a fresh row (scrolled in blank) and never
  // wrapped: its text holds the character printed in each column, NUL
  // where none was, and `pen` the cells a blank and each character become
  // (made from libvterm's own cells of that pen) and how wide the screen
  // was. Handed out as core::PlainRow when taken (TakeScrollback).
  // (core::PlainPalette: what CellsToRow makes of a blank and of each
  // printable ASCII character, ToCell as reverse video was; nullopt: a
  // default blank, which a new row already holds.)
  struct Kept {
    std::optional<core::Row> row;        // when `pen` is null
    std::shared_ptr<const core::PlainPalette> pen;  // a block of text lines
    std::string text;                    // the block's lines back to back
    std::vector<uint32_t> ends;          // where each line ends in `text`
    size_t begin = 0;                    // lines before it were taken or dropped
    // A CRLF block: `text` holds the lines as written, each ending in
    // "\r\n" with no other CR, the first starting in column 0 (`seq`'s
    // output), so no line needs cutting until taken; `ends` is empty and
    // line `begin` starts at `next`.
    bool crlf = false;
    size_t crlf_lines = 0;
    size_t next = 0;
    // A block of lines that scrolled off as plain rows (KeepPlainRow):
    // later ones in the same palette are appended, up to kRowsPerBlock.
    bool rows = false;
    size_t lines() const {
      return pen == nullptr ? 1 : (crlf ? crlf_lines : ends.size()) - begin;
    }
  };
  std::deque<Kept> scrollback;
  size_t kept_lines = 0;  // lines in `scrollback`
  size_t kept_rows = 0;   // of them laid out (pen null)
  // Rows the fast path wrote (SkipKeepingPlainLines' tail lines) and that
  // nothing changed since: row y holds known_text.substr(begin, size) from
  // column 0 in known_palette's pen, blanks of that pen after it, no link.
  // Any damage to a row (MarkDirty) makes it unknown (begin -1); a move of
  // whole rows (MoveRows) moves what is known with them. The next Feed's
  // fast path keeps such a row from its text instead of reading its cells.
  struct KnownRow {
    int begin = -1;
    int size = 0;
  };
  std::vector<KnownRow> known_rows;
  std::string known_text;
  std::shared_ptr<const core::PlainPalette> known_palette;
  std::vector<KnownRow> moved_known;  // MoveRows' scratch space
  std::vector<KnownRow> tail_known;   // SkipKeepingPlainLines' scratch space
  // KeepPlainRow's palette: made (LazyCell) from a blank and a glyph of
  // these pens, with reverse video as it was; a row whose blanks and glyphs
  // have the same pens (byte for byte) shares it.
  std::shared_ptr<const core::PlainPalette> row_palette;
  VTermScreenCell row_blank{};
  VTermScreenCell row_glyph{};
  bool row_palette_reverse = false;
  // While set, lines libvterm pushes are not kept (they were already).
  bool suppress_push = false;
  uint64_t lines_not_kept = 0;  // since the last TakeLinesNotKept()
  uint64_t fast_path_skips = 0;
  // Lines libvterm pushed since the last move of rows (a scroll pushes its
  // rows 0..k-1 in order, then moves the rest): the row index of the next.
  int pushed = 0;
  bool resizing = false;
  // A one-line libvterm used to learn libvterm's own width of a character
  // (cached), and a buffer for reading one row of cells.
  VTermPtr width_probe;
  absl::flat_hash_map<uint32_t, int> widths;
  std::vector<VTermScreenCell> row_cells;
  // MoveRows' scratch space.
  std::vector<std::shared_ptr<const core::Row>> moved_rows;
  std::vector<bool> moved_dirty;
};

namespace {

// ---------------------------------------------------------------- trampolines

Emulator::Impl* Self(void* user) { return static_cast<Emulator::Impl*>(user); }

void OnOutput(const char* bytes, size_t len, void* user) {
  Self(user)->Output(bytes, len);
}

int OnDamage(VTermRect rect, void* user) {
  Emulator::Impl* self = Self(user);
  self->MarkDirty(rect.start_row, rect.end_row);
  // During a resize libvterm reports damage in the new size while the
  // links are still laid out in the old one; Resize() redoes them.
  if (!self->links.empty() && !self->resizing) self->UpdateLinks(rect);
  return 1;
}

int OnMoveRect(VTermRect dest, VTermRect src, void* user) {
  Emulator::Impl* self = Self(user);
  if (!self->links.empty()) self->MoveLinks(dest, src);
  self->MoveRows(dest, src);
  self->pushed = 0;
  return 1;
}

int OnSetTermProp(VTermProp prop, VTermValue* val, void* user) {
  Emulator::Impl* self = Self(user);
  switch (prop) {
    case VTERM_PROP_CURSORVISIBLE: self->cursor_visible = val->boolean; break;
    case VTERM_PROP_CURSORBLINK: self->cursor_blink = val->boolean; break;
    case VTERM_PROP_ALTSCREEN:
      self->SwitchLinks(val->boolean);
      self->alternate_screen = val->boolean;
      break;
    case VTERM_PROP_REVERSE: self->reverse_video = val->boolean; break;
    case VTERM_PROP_CURSORSHAPE: self->cursor_shape = val->number; break;
    case VTERM_PROP_MOUSE: self->mouse = val->number; break;
    case VTERM_PROP_TITLE:
    case VTERM_PROP_ICONNAME:
      self->OnTitle(prop, val->string);
      break;
    default:
      return 0;
  }
  return 1;
}

int OnBell(void* user) {
  Self(user)->fb.RingBell();
  return 1;
}

int OnPushLine(int cols, const VTermScreenCell* cells, void* user) {
  Emulator::Impl* self = Self(user);
  if (self->options.scrollback_lines == 0 || cols < 1) return 0;
  self->PushLine(cols, cells);
  return 1;
}

int OnUnknownOsc(int command, VTermStringFragment frag, void* user) {
  if (command != 8) return 0;
  Self(user)->OnOscFragment(command, frag);
  return 1;
}

// Unrecognised CSI: answers the xterm text-area size report, `CSI 18 t`.
int OnUnknownCsi(const char* leader, const long args[], int argcount,
                 const char* intermed, char command, void* user) {
  Emulator::Impl* self = Self(user);
  if (command != 't' || (leader && leader[0]) || (intermed && intermed[0]) ||
      argcount < 1 || CSI_ARG(args[0]) != 18) {
    return 0;
  }
  char reply[48];
  int n = std::snprintf(reply, sizeof(reply), "\x1b[8;%d;%dt", self->height,
                        self->width);
  self->Output(reply, static_cast<size_t>(n));
  return 1;
}

const VTermScreenCallbacks kScreenCallbacks = {
    OnDamage,       // damage
    OnMoveRect,     // moverect
    nullptr,        // movecursor: read on Snapshot()
    OnSetTermProp,  // settermprop
    OnBell,         // bell
    nullptr,        // resize
    OnPushLine,     // sb_pushline
    nullptr,        // sb_popline: lines do not come back on a resize
    nullptr,        // sb_clear: lines already taken stay taken
};

// Without scrollback the same minus sb_pushline: libvterm then skips copying
// every line that scrolls off into a buffer for it (half of what a scroll
// cost). It ignores the callback's result, and OnPushLine keeps nothing
// without scrollback, so the screen is the same.
const VTermScreenCallbacks kScreenCallbacksNoScrollback = {
    OnDamage, OnMoveRect, nullptr, OnSetTermProp, OnBell, nullptr,
    nullptr,  // sb_pushline
    nullptr, nullptr,
};

const VTermStateFallbacks kFallbacks = {
    nullptr,       // control
    OnUnknownCsi,  // csi
    OnUnknownOsc,  // osc
    nullptr,       // dcs
    nullptr,       // apc
    nullptr,       // pm
    nullptr,       // sos
};

}  // namespace

// ---------------------------------------------------------------- Impl

Emulator::Impl::Impl(int w, int h, const Options& opts)
    : options(opts),
      vt(vterm_new(ClampHeight(h), ClampWidth(w))),
      width(ClampWidth(w)),
      height(ClampHeight(h)),
      fb(width, height),
      dirty(height, true),
      known_rows(height) {
  ABSL_RAW_CHECK(vt != nullptr, "vterm_new failed");
  vterm_set_utf8(vt.get(), 1);
  vterm_output_set_callback(vt.get(), OnOutput, this);
  screen = vterm_obtain_screen(vt.get());
  state = vterm_obtain_state(vt.get());
  vterm_screen_set_callbacks(
      screen, opts.scrollback_lines > 0 ? &kScreenCallbacks : &kScreenCallbacksNoScrollback,
      this);
  vterm_screen_set_unrecognised_fallbacks(screen, &kFallbacks, this);
  vterm_screen_enable_altscreen(screen, 1);
  // libvterm 0.3.3's reflow (off by default) is left off: it reads outside
  // its buffer when the top row continues a line that scrolled off, aborts
  // the process when it loses track of the cursor, and misplaces the cursor
  // under a line that fills its last row (all found by round_trip_test).
  vterm_screen_reset(screen, 1);
  width_probe.reset(vterm_new(1, 4));
  ABSL_RAW_CHECK(width_probe != nullptr, "vterm_new failed");
  vterm_set_utf8(width_probe.get(), 1);
  vterm_screen_reset(vterm_obtain_screen(width_probe.get()), 1);
}

void Emulator::Impl::Output(const char* bytes, size_t len) {
  if (sink == &answers && answers.size() + len > options.max_pending_answers) {
    dropped_answer_bytes += len;
    return;
  }
  sink->append(bytes, len);
}

MoshxVTermState Emulator::Impl::ReadState() {
  MoshxVTermState s;
  moshx_vterm_read_state(vt.get(), &s);
  return s;
}

bool Emulator::Impl::LineContinues(int row) {
  return row + 1 < height && vterm_state_get_lineinfo(state, row + 1)->continuation;
}

void Emulator::Impl::MarkDirty(int begin_row, int end_row) {
  begin_row = std::max(begin_row, 0);
  end_row = std::min(end_row, height);
  for (int y = begin_row; y < end_row; ++y) {
    dirty[y] = true;
    known_rows[y].begin = -1;
  }
}

core::Cell Emulator::Impl::ToCell(const VTermScreenCell& cell,
                                  const Link& link) {
  core::Cell c;
  c.text = ToText(cell.chars);
  c.width = cell.width == 2 ? 2 : 1;
  c.renditions = ToRenditions(cell, reverse_video);
  c.link = link;
  return c;
}

// libvterm's width (1 or 2) of a character printed on its own. Every wide
// character is at or above U+1100.
int Emulator::Impl::NaturalWidth(uint32_t cp) {
  if (cp < 0x1100 || cp == kContinuation) return 1;
  auto it = widths.find(cp);
  if (it != widths.end()) return it->second;
  std::string text = "\x1b[H\x1b[2K";
  core::AppendUtf8(cp <= 0x10FFFF ? cp : 0xFFFD, &text);
  vterm_input_write(width_probe.get(), text.data(), text.size());
  VTermScreenCell next;
  vterm_screen_get_cell(vterm_obtain_screen(width_probe.get()), VTermPos{0, 1},
                        &next);
  const int width = next.chars[0] == kContinuation ? 2 : 1;
  if (widths.size() < 65536) widths.emplace(cp, width);
  return width;
}

// libvterm derives a cell's width from its right neighbour (width 2 iff the
// next cell is a continuation), so after partial overwrites it can report a
// wide character with width 1, or a narrow one (or a blank) with width 2.
// This puts such cells in canonical form, as a terminal displays them: a
// wide character that lost a half becomes blank, a narrow character over a
// wide one's left half is narrow and followed by a blank.
core::Row Emulator::Impl::CellsToRow(int cols, const VTermScreenCell* cells,
                                     const std::vector<Link>* row_links) {
  core::Row row(cols);
  const int link_cols = row_links ? static_cast<int>(row_links->size()) : 0;
  for (int x = 0; x < cols; ++x) {
    const VTermScreenCell& raw = cells[x];
    const Link link = x < link_cols ? (*row_links)[x] : nullptr;
    core::Cell cell = ToCell(raw, link);
    const bool lead = x + 1 < cols && cells[x + 1].chars[0] == kContinuation;
    size_t pos = 0;
    char32_t base = 0;
    core::DecodeUtf8(cell.text, &pos, &base);  // leaves 0 for a blank
    const bool wide_char = NaturalWidth(base) == 2;
    if (raw.chars[0] == kContinuation || (wide_char && !lead)) {
      cell.text.clear();  // an orphaned half
    }
    cell.width = lead && wide_char && !cell.text.empty() ? 2 : 1;
    if (cell.width == 1 && cell.text.empty() && !link &&
        cell.renditions.is_default()) {
      if (lead) ++x;  // its continuation stays a default blank too
      continue;
    }
    row.Set(x, cell);
    if (lead) {
      ++x;
      if (cell.width == 1) {  // the continuation becomes a blank
        cell.text.clear();
        cell.renditions = ToRenditions(cells[x], reverse_video);
        row.Set(x, cell);
      }
    }
  }
  return row;
}

core::Row Emulator::Impl::ReadRow(int y) {
  row_cells.resize(width);
  for (int x = 0; x < width; ++x) {
    vterm_screen_get_cell(screen, VTermPos{y, x}, &row_cells[x]);
  }
  core::Row row =
      CellsToRow(width, row_cells.data(), links.empty() ? nullptr : &links[y]);
  row.set_wrapped(LineContinues(y));
  return row;
}

// libvterm damages each printed glyph on its own (one cell of one row, or
// two for a wide character: the second its continuation): a damaged cell
// there that holds a character was printed and takes the open link. Any
// damaged blank cell was erased and loses its link. Other damage (reverse
// video, screen switches) leaves the links of characters, even where it is
// as small as a glyph's: the whole of a 2x1 screen (diff_round_trip_fuzzer:
// DECSCNM there gave both cells the open link, or took theirs away).
void Emulator::Impl::UpdateLinks(const VTermRect& rect) {
  bool glyph = rect.end_row - rect.start_row == 1 && rect.end_col - rect.start_col <= 2;
  if (glyph && rect.end_col - rect.start_col == 2 && rect.start_row >= 0 &&
      rect.start_row < height && rect.start_col >= 0 && rect.start_col + 1 < width) {
    VTermScreenCell second;
    vterm_screen_get_cell(screen, VTermPos{rect.start_row, rect.start_col + 1}, &second);
    glyph = second.chars[0] == kContinuation;
  }
  for (int y = std::max(rect.start_row, 0); y < std::min(rect.end_row, height);
       ++y) {
    for (int x = std::max(rect.start_col, 0);
         x < std::min(rect.end_col, width); ++x) {
      VTermScreenCell cell;
      vterm_screen_get_cell(screen, VTermPos{y, x}, &cell);
      if (cell.chars[0] == 0) {
        links[y][x] = nullptr;
      } else if (glyph) {
        links[y][x] = current_link;
      }
    }
  }
}

// Each screen keeps its own links; a newly entered alternate screen has none.
void Emulator::Impl::SwitchLinks(bool to_alternate) {
  if (links.empty() || to_alternate == alternate_screen) return;
  std::swap(links, other_links);
  if (to_alternate || links.empty()) {
    links.assign(height, std::vector<Link>(width));
  }
}

void Emulator::Impl::MoveLinks(const VTermRect& dest, const VTermRect& src) {
  const int rows = std::min(dest.end_row - dest.start_row, src.end_row - src.start_row);
  const int cols = std::min(dest.end_col - dest.start_col, src.end_col - src.start_col);
  auto inside = [&](int y, int x) {
    return y >= 0 && y < height && x >= 0 && x < width;
  };
  std::vector<Link> moved;  // the source rectangle, read before writing
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const int sy = src.start_row + y, sx = src.start_col + x;
      moved.push_back(inside(sy, sx) ? links[sy][sx] : nullptr);
    }
  }
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const int dy = dest.start_row + y, dx = dest.start_col + x;
      if (inside(dy, dx)) links[dy][dx] = moved[y * cols + x];
    }
  }
}

// A full-width move keeps the rows (and their dirty flags) as they are, just
// at new positions; anything narrower makes the destination rows dirty.
// Rows whose wrapped flag changes are refreshed on Snapshot().
void Emulator::Impl::MoveRows(const VTermRect& dest, const VTermRect& src) {
  const int n = dest.end_row - dest.start_row;
  const bool full_width = dest.start_col == 0 && dest.end_col == width &&
                          src.start_col == 0 && src.end_col == width;
  if (!full_width || n != src.end_row - src.start_row || dest.start_row < 0 ||
      src.start_row < 0 || dest.end_row > height || src.end_row > height) {
    MarkDirty(dest.start_row, dest.end_row);
    return;
  }
  // Through scratch buffers kept across calls: a flood scrolls once per line.
  moved_rows.clear();
  moved_dirty.clear();
  moved_known.clear();
  for (int i = 0; i < n; ++i) {
    moved_rows.push_back(fb.shared_row(src.start_row + i));
    moved_dirty.push_back(dirty[src.start_row + i]);
    moved_known.push_back(known_rows[src.start_row + i]);
  }
  for (int i = 0; i < n; ++i) {
    fb.SetRow(dest.start_row + i, std::move(moved_rows[i]));
    dirty[dest.start_row + i] = moved_dirty[i];
    known_rows[dest.start_row + i] = moved_known[i];
  }
}

// OSC 0/1/2 arrive in fragments (libvterm 0.3 passes a string split across
// writes piece by piece).
void Emulator::Impl::OnTitle(VTermProp prop, const VTermStringFragment& frag) {
  std::string& text = prop == VTERM_PROP_TITLE ? title_text : icon_text;
  if (frag.initial) text.clear();
  // Room for the longest title plus controls that are removed later.
  if (frag.len > 0 && text.size() < 4 * kMaxTitleBytes) {
    text.append(frag.str, std::min<size_t>(frag.len, 4 * kMaxTitleBytes - text.size()));
  }
  if (!frag.final) return;
  if (prop == VTERM_PROP_TITLE) {
    fb.set_title(TitleText(text, kMaxTitleBytes));
  } else {
    fb.set_icon_name(TitleText(text, kMaxTitleBytes));
  }
  text.clear();
}

void Emulator::Impl::OnOscFragment(int command, const VTermStringFragment& frag) {
  if (frag.initial) {
    osc_text.clear();
    osc_overflow = false;
  }
  if (osc_text.size() + frag.len > kMaxUriBytes + 1024) {
    osc_overflow = true;
  } else if (frag.len > 0) {
    osc_text.append(frag.str, frag.len);
  }
  if (!frag.final) return;
  if (command == 8) {
    OnHyperlink(osc_overflow ? absl::string_view(";") : absl::string_view(osc_text));
  }
  osc_text.clear();
}

// OSC 8 ; params ; uri — params is a ':'-separated list of key=value, of
// which only id= matters. An empty uri closes the link.
void Emulator::Impl::OnHyperlink(absl::string_view params_and_uri) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(params_and_uri, absl::MaxSplits(';', 1));
  if (parts.second.empty() || parts.second.size() > kMaxUriBytes ||
      !IsOscSafe(parts.first) || !IsOscSafe(parts.second)) {
    current_link = nullptr;  // closed, or not a link core can carry
    return;
  }
  auto link = std::make_shared<core::Hyperlink>();
  link->uri = std::string(parts.second);
  for (absl::string_view param : absl::StrSplit(parts.first, ':')) {
    if (absl::ConsumePrefix(&param, "id=")) link->id = std::string(param);
  }
  current_link = std::move(link);
  if (links.empty()) {
    links.assign(height, std::vector<Link>(width));
  }
}

// OSC 52 ; selection ; data, kept verbatim (libvterm would decode the
// base64 and reduce the selection to a set; it swallows OSC 52 unless asked
// to do that). `sequence` is the whole string: "ESC ] 52 ; ... BEL|ST".
void Emulator::Impl::OnClipboard(absl::string_view sequence) {
  absl::string_view body = sequence.substr(5);  // after "ESC ] 52 ;"
  if (absl::EndsWith(body, "\x07")) {
    body.remove_suffix(1);
  } else if (absl::EndsWith(body, "\x1b\\")) {
    body.remove_suffix(2);
  }
  // libvterm drops NUL and DEL inside strings.
  std::string text;
  for (char c : body) {
    if (c != '\0' && c != 0x7f) text.push_back(c);
  }
  std::pair<std::string, std::string> sel_data =
      absl::StrSplit(text, absl::MaxSplits(';', 1));
  // "?" asks for the clipboard's contents: the server cannot know them.
  if (sel_data.second == "?" || sel_data.second.size() > kMaxClipboardBytes ||
      !IsOscSafe(sel_data.first) || !IsOscSafe(sel_data.second) ||
      !absl::StrContains(text, ';')) {
    return;
  }
  fb.set_clipboard({std::move(sel_data.first), std::move(sel_data.second)});
}

// A line leaving the top of the primary screen (a scroll, or a resize that
// keeps the cursor's line on screen). libvterm pushes the rows of one scroll
// or resize from the top down, before moving the rest.
void Emulator::Impl::PushLine(int cols, const VTermScreenCell* cells) {
  const int row = pushed++;
  // While a resize is in progress the pushed rows are the old primary
  // screen's (whichever screen is showing); a scroll pushes from the primary
  // screen while it shows.
  const std::vector<std::vector<Link>>& table = alternate_screen ? other_links : links;
  const std::vector<Link>* row_links =
      row < static_cast<int>(table.size()) ? &table[row] : nullptr;
  if (suppress_push) return;
  // Whether the line continues: on a scroll libvterm has already shifted its
  // line info, so the row now at the top tells for the last line pushed
  // (exact for the usual one-line scroll; a scroll of several lines at once
  // reports that row's flag for each of them). On a resize the old line
  // info is still in place (read through libvterm_extra).
  const bool wrapped = resizing ? row + 1 < height && moshx_vterm_primary_line_continues(
                                                         vt.get(), row + 1) != 0
                                : vterm_state_get_lineinfo(state, 0)->continuation != 0;
  // (A resize's rows, the old screen's, are laid out as before.)
  KeepRow(cols, cells, row_links, wrapped, /*may_be_text=*/!resizing);
}

void Emulator::Impl::KeepRow(int cols, const VTermScreenCell* cells,
                             const std::vector<Link>* row_links, bool wrapped, bool may_be_text) {
  const bool linked =
      row_links != nullptr &&
      std::any_of(row_links->begin(), row_links->end(), [](const Link& l) { return l != nullptr; });
  if (options.plain_rows && may_be_text && !wrapped && !linked && KeepPlainRow(cols, cells)) {
    return;
  }
  core::Row line = CellsToRow(cols, cells, row_links);
  line.set_wrapped(wrapped);
  Kept kept;
  kept.row = std::move(line);
  Keep(std::move(kept));
}

namespace {

// The bytes of a cell that ToRenditions reads: equal bytes, equal renditions.
bool SamePen(const VTermScreenCell& a, const VTermScreenCell& b) {
  return std::memcmp(&a.attrs, &b.attrs, sizeof(a.attrs)) == 0 &&
         std::memcmp(&a.fg, &b.fg, sizeof(a.fg)) == 0 &&
         std::memcmp(&a.bg, &b.bg, sizeof(a.bg)) == 0;
}

// Lines a block of plain rows holds at most: its text is freed only with
// the block, so lines dropped or taken from its front wait for the rest.
constexpr size_t kRowsPerBlock = 64;

}  // namespace

// Keeps a pushed row (not wrapped, no link) as a line of text when every
// cell is a blank or a printable ASCII character alone, the blanks in one
// pen and the characters in one pen: CellsToRow would make each cell what
// LazyCell makes of it (narrow: no cell is a wide character's half), which
// is what core::LayOut makes of the text with the palette. Returns false,
// keeping nothing, for any other row.
bool Emulator::Impl::KeepPlainRow(int cols, const VTermScreenCell* cells) {
  const VTermScreenCell* blank = nullptr;
  const VTermScreenCell* glyph = nullptr;
  int end = 0;  // after the last character; the blanks beyond are the palette's
  for (int x = 0; x < cols; ++x) {
    const VTermScreenCell& c = cells[x];
    const uint32_t ch = c.chars[0];
    if (ch == 0) {
      if (blank == nullptr) {
        blank = &c;
      } else if (!SamePen(c, *blank)) {
        return false;
      }
    } else if (ch >= 0x20 && ch < 0x7f && c.chars[1] == 0) {
      if (glyph == nullptr) {
        glyph = &c;
      } else if (!SamePen(c, *glyph)) {
        return false;
      }
      end = x + 1;
    } else {
      return false;
    }
  }
  // The palette's blank (or glyphs) serve this row only if it has none, or
  // they were made from cells of the same pen.
  if (row_palette == nullptr || row_palette->cols != cols || row_palette_reverse != reverse_video ||
      (blank != nullptr && !SamePen(*blank, row_blank)) ||
      (glyph != nullptr && !SamePen(*glyph, row_glyph))) {
    if (blank != nullptr) row_blank = *blank;
    if (glyph != nullptr) row_glyph = *glyph;
    row_palette = MakePalette(cols, row_blank, row_glyph);
    row_palette_reverse = reverse_video;
  }
  std::string line(static_cast<size_t>(end), '\0');
  for (int x = 0; x < end; ++x) line[static_cast<size_t>(x)] = static_cast<char>(cells[x].chars[0]);
  KeepText(row_palette, line);
  return true;
}

void Emulator::Impl::KeepText(const std::shared_ptr<const core::PlainPalette>& palette,
                              absl::string_view line) {
  if (!scrollback.empty()) {
    Kept& back = scrollback.back();
    if (back.rows && back.pen == palette && back.ends.size() < kRowsPerBlock) {
      back.text.append(line.data(), line.size());
      back.ends.push_back(static_cast<uint32_t>(back.text.size()));
      ++kept_lines;
      TrimScrollback();
      return;
    }
  }
  Kept block;
  block.pen = palette;
  block.rows = true;
  block.text.assign(line.data(), line.size());
  block.ends.reserve(kRowsPerBlock);
  block.ends.push_back(static_cast<uint32_t>(block.text.size()));
  Keep(std::move(block));
}

void Emulator::Impl::Keep(Kept line) {
  if (line.lines() == 0) return;
  if (line.pen == nullptr) ++kept_rows;
  kept_lines += line.lines();
  scrollback.push_back(std::move(line));
  TrimScrollback();
}

void Emulator::Impl::TrimScrollback() {
  while (kept_lines > options.scrollback_lines) {
    Kept& front = scrollback.front();
    const size_t drop = std::min(front.lines(), kept_lines - options.scrollback_lines);
    kept_lines -= drop;
    lines_not_kept += drop;
    if (front.pen == nullptr) {
      --kept_rows;
      scrollback.pop_front();
    } else if (drop == front.lines()) {
      scrollback.pop_front();
    } else {
      front.begin += drop;
      for (size_t i = 0; front.crlf && i < drop; ++i) {
        front.next = front.text.find('\n', front.next) + 1;
      }
    }
  }
}

core::PlainRow Emulator::Impl::TakeLine(Kept& block) {
  const absl::string_view text = block.text;
  const size_t i = block.begin++;
  if (block.crlf) {
    const size_t cr = text.find('\r', block.next);
    const size_t start = block.next;
    block.next = cr + 2;
    return core::PlainRow{block.pen, text.substr(start, cr - start)};
  }
  const size_t start = i == 0 ? 0 : block.ends[i - 1];
  return core::PlainRow{block.pen, text.substr(start, block.ends[i] - start)};
}

// CellsToRow's cell for `raw` (no link; an ASCII glyph or a blank, so
// narrow), or null when it leaves the row's default blank.
std::shared_ptr<core::PlainPalette> Emulator::Impl::MakePalette(int cols,
                                                                 const VTermScreenCell& blank,
                                                                 const VTermScreenCell& glyph) {
  auto palette = std::make_shared<core::PlainPalette>();
  palette->cols = cols;
  VTermScreenCell raw = blank;
  raw.chars[0] = 0;
  palette->blank = LazyCell(raw);
  raw = glyph;
  raw.chars[1] = 0;
  for (uint32_t c = 0x20; c < 0x7f; ++c) {
    raw.chars[0] = c;
    palette->glyphs[c - 0x20] = LazyCell(raw);
  }
  return palette;
}

std::optional<core::Cell> Emulator::Impl::LazyCell(const VTermScreenCell& raw) {
  core::Cell cell = ToCell(raw, nullptr);
  cell.width = 1;
  if (cell.text.empty() && cell.renditions.is_default()) return std::nullopt;
  return cell;
}

// Sends bytes of our own to libvterm. Safe only at a sequence boundary,
// which the SequenceFramer guarantees between Feed() calls.
void Emulator::Impl::Inject(absl::string_view bytes) {
  vterm_input_write(vt.get(), bytes.data(), bytes.size());
}

// Writes program output. The SequenceFramer's kTextStart marks split it
// where libvterm starts a new run of text, so no run is cut elsewhere.
void Emulator::Impl::Write(absl::string_view bytes) {
  if (!bytes.empty()) Inject(bytes);
}

// An SGR: libvterm applies it, then the carrier in the font attribute is
// set from what it was and what the SGR says.
void Emulator::Impl::WriteSgr(absl::string_view sequence) {
  std::string normalized;
  if (sequence.find(':') != absl::string_view::npos) {
    normalized = WithoutColourSpace(sequence);
    sequence = normalized;
  }
  VTermValue font;
  vterm_state_get_penattr(state, VTERM_ATTR_FONT, &font);
  const int before = font.number;
  Inject(sequence);
  const int after = CarrierAfterSgr(before, sequence);
  vterm_state_get_penattr(state, VTERM_ATTR_FONT, &font);
  if (font.number != after) Inject(CarrierSgr(after));
}

// A CSI with more than 16 parameters (libvterm would write past its array).
// An SGR is split into consecutive SGRs of at most 16 parameters each, at
// parameter boundaries that keep a 38/48 colour together (their effect is
// the same: SGR applies its parameters in order); any other CSI keeps its
// first 16 (a REP with no glyph to repeat is dropped, as a short one is).
// C0 controls inside are executed first.
void Emulator::Impl::WriteLongCsi(absl::string_view sequence) {
  std::string controls, leader, params, intermediates;
  const char final = sequence.back();
  for (size_t i = 2; i + 1 < sequence.size(); ++i) {
    const char c = sequence[i];
    if (static_cast<unsigned char>(c) < 0x20) {
      controls.push_back(c);
    } else if (c >= 0x3c && c <= 0x3f && params.empty() && intermediates.empty()) {
      leader.push_back(c);
    } else if (c >= 0x20 && c <= 0x2f) {
      intermediates.push_back(c);
    } else if (intermediates.empty()) {
      params.push_back(c);
    }
  }
  if (!controls.empty()) Inject(controls);
  // Parameters: ';'-separated, each with ':' sub-parameters (libvterm takes
  // every one of them as an entry of its array).
  const std::vector<absl::string_view> tokens = absl::StrSplit(params, ';');
  auto entries = [](absl::string_view token) {
    return 1 + static_cast<int>(std::count(token.begin(), token.end(), ':'));
  };
  if (final != 'm' || !leader.empty() || !intermediates.empty()) {
    if (final == 'b' && leader.empty() && intermediates.empty()) {
      WriteRep(params);  // only its first parameter counts
      return;
    }
    std::string kept;
    int n = 0;
    for (absl::string_view token : tokens) {
      if (n + entries(token) > SequenceFramer::kMaxCsiParams) break;
      absl::StrAppend(&kept, n > 0 ? ";" : "", token);
      n += entries(token);
    }
    Inject(absl::StrCat("\x1b[", leader, kept, intermediates, std::string(1, final)));
    return;
  }
  std::string chunk;
  int n = 0;
  for (size_t i = 0; i < tokens.size();) {
    // A colour in ';' form takes the tokens after it: 5;N or 2;R;G;B.
    size_t group = 1;
    if ((tokens[i] == "38" || tokens[i] == "48") && i + 1 < tokens.size()) {
      group = tokens[i + 1] == "5" ? 3 : tokens[i + 1] == "2" ? 5 : 1;
      group = std::min(group, tokens.size() - i);
    }
    int size = 0;
    for (size_t k = i; k < i + group; ++k) size += entries(tokens[k]);
    if (size > SequenceFramer::kMaxCsiParams) {  // absurd sub-parameters: dropped
      i += group;
      continue;
    }
    if (n + size > SequenceFramer::kMaxCsiParams) {
      WriteSgr(absl::StrCat("\x1b[", chunk, "m"));
      chunk.clear();
      n = 0;
    }
    for (size_t k = i; k < i + group; ++k) {
      absl::StrAppend(&chunk, n > 0 || k > i ? ";" : "", tokens[k]);
    }
    n += size;
    i += group;
  }
  if (n > 0) WriteSgr(absl::StrCat("\x1b[", chunk, "m"));
}

// REP (`CSI Ps b`, `params` its parameters) repeats the last glyph, in
// libvterm over Ps columns (0 or none: 1; a wide glyph so repeats Ps/2
// times, rounded up) and without wrapping: up to the row's end.
// libvterm loops forever when there is no glyph yet (or it had width 0):
// such a REP is dropped. A glyph of width 2 whose repeats come to the last
// column with their left half (the cursor an even number of columns before
// it) has its right half written past the row, through a null cell (the
// process died: diff_round_trip_fuzzer, seed wide_char_rep_at_line_end): it
// is repeated only as often as it fits whole. The count is capped at the
// width (more fills the row all the same).
void Emulator::Impl::WriteRep(absl::string_view params) {
  const MoshxVTermState s = ReadState();
  if (s.glyph_width < 1) return;
  int count = 0;
  for (char c : params) {
    if (c < '0' || c > '9') break;
    count = std::min(count * 10 + (c - '0'), width);
  }
  if (count == 0) count = 1;
  const int last = width - 1;
  if (s.glyph_width == 2 && (last - s.cursor.col) % 2 == 0 && s.cursor.col + count > last) {
    count = last - s.cursor.col;
  }
  if (count < 1) return;
  Inject(absl::StrCat("\x1b[", count, "b"));
}

// At `at` in `ready` a non-ASCII character starts a run of text as libvterm
// decodes it, or is a mark libvterm lacks (IsMarkLibvtermLacks). When it
// combines, libvterm attaches it to the last glyph only if the cursor still
// stands right after that glyph; otherwise (the cursor moved, or the glyph
// filled the last column and the cursor is in the pending-wrap state, where
// libvterm even wraps and prints the mark alone on the next line) it prints
// the mark as a glyph of width 0 at the cursor, over whatever was there, and
// a later REP repeats that width-0 glyph forever; a mark its tables lack it
// prints as a glyph of width 1. Here the run of combining characters
// (IsMark) goes, as mosh places them, to the last glyph if the cursor has
// not moved since it was printed, else to the character under the cursor,
// or, on a blank cell, after a U+00A0 of its own (the cursor then
// advances); moshx_vterm_append_combining joins them as libvterm joins its
// own. Returns the offset after what was written (`at` when nothing was).
size_t Emulator::Impl::WriteTextStart(absl::string_view ready, size_t at) {
  // A cell keeps at most VTERM_MAX_CHARS_PER_CELL characters: further marks
  // are read past, not kept.
  uint32_t joined[VTERM_MAX_CHARS_PER_CELL];
  size_t n = 0;
  size_t end = at;
  char32_t cp;
  for (size_t pos = at; NextChar(ready, &pos, &cp) && IsMark(cp);) {
    if (n < VTERM_MAX_CHARS_PER_CELL) joined[n++] = cp;
    end = pos;
  }
  if (end == at) return at;
  MoshxVTermState s = ReadState();
  const VTermPos after_glyph{s.glyph_pos.row, s.glyph_pos.col + s.glyph_width};
  if (s.glyph_width >= 1 && !s.pending_wrap && s.cursor.row == after_glyph.row &&
      s.cursor.col == after_glyph.col) {
    // Where libvterm joins them itself.
    moshx_vterm_append_combining(vt.get(), s.glyph_pos, nullptr, s.glyph_width, joined, n);
    return end;
  }
  VTermPos target = s.cursor;
  if (s.glyph_width >= 1 && s.pending_wrap && s.cursor.row == s.glyph_pos.row &&
      after_glyph.col == width) {
    target = s.glyph_pos;  // the glyph that filled the line
  }
  VTermScreenCell cell;
  vterm_screen_get_cell(screen, target, &cell);
  if (cell.chars[0] == kContinuation && target.col > 0) {
    --target.col;  // the right half of a wide character: its left half
    vterm_screen_get_cell(screen, target, &cell);
  }
  if (cell.chars[0] == 0 || cell.chars[0] == kContinuation) {
    std::string nbsp;
    core::AppendUtf8(kNoBreakSpace, &nbsp);
    Inject(nbsp);
    s = ReadState();
    moshx_vterm_append_combining(vt.get(), s.glyph_pos, nullptr, s.glyph_width, joined, n);
    return end;
  }
  moshx_vterm_append_combining(vt.get(), target, cell.chars, cell.width == 2 ? 2 : 1, joined,
                               n);
  return end;
}

// Runs `action` with libvterm's output captured, and returns that output.
std::string Emulator::Impl::Probe(void (*action)(Impl*)) {
  std::string captured;
  sink = &captured;
  action(this);
  sink = &answers;
  return captured;
}

core::MouseEncoding Emulator::Impl::ProbeMouseEncoding() {
  const std::string report = Probe([](Impl* self) {
    vterm_mouse_move(self->vt.get(), 0, kMouseProbeCol, VTERM_MOD_NONE);
    self->sink->clear();
    vterm_mouse_button(self->vt.get(), 4, true, VTERM_MOD_NONE);  // wheel up
  });
  if (absl::StartsWith(report, "\x1b[<")) return core::MouseEncoding::kSgr;
  if (absl::StartsWith(report, "\x1b[M")) {
    return report.size() > 6 ? core::MouseEncoding::kUtf8
                             : core::MouseEncoding::kDefault;
  }
  if (absl::StartsWith(report, "\x1b[")) return core::MouseEncoding::kUrxvt;
  return core::MouseEncoding::kDefault;
}

void Emulator::Impl::ReadModes(core::Modes* m) {
  m->application_cursor_keys = Probe([](Impl* self) {
                                 vterm_keyboard_key(self->vt.get(), VTERM_KEY_UP,
                                                    VTERM_MOD_NONE);
                               }) == "\x1bOA";
  m->application_keypad = Probe([](Impl* self) {
                            vterm_keyboard_key(self->vt.get(), VTERM_KEY_KP_0,
                                               VTERM_MOD_NONE);
                          }) != "0";
  m->bracketed_paste = !Probe([](Impl* self) {
                          vterm_keyboard_start_paste(self->vt.get());
                        }).empty();
  // libvterm reports turning focus events on, but not RIS turning them off.
  m->focus_events = !Probe([](Impl* self) {
                       vterm_state_focus_in(self->state);
                     }).empty();
  switch (mouse) {
    case VTERM_PROP_MOUSE_CLICK: m->mouse_tracking = core::MouseTracking::kNormal; break;
    case VTERM_PROP_MOUSE_DRAG: m->mouse_tracking = core::MouseTracking::kButton; break;
    case VTERM_PROP_MOUSE_MOVE: m->mouse_tracking = core::MouseTracking::kAnyEvent; break;
    default: m->mouse_tracking = core::MouseTracking::kNone; break;
  }
  m->mouse_encoding = ProbeMouseEncoding();
  m->alternate_screen = alternate_screen;
  m->reverse_video = reverse_video;
  const MoshxVTermState s = ReadState();
  m->origin_mode = s.origin_mode != 0;
  m->autowrap = s.autowrap != 0;
}

// The rows of the screen showing, as libvterm's resize sees them: up to the
// last non-blank cell.
std::vector<Emulator::Impl::Line> Emulator::Impl::Lines(bool with_links) {
  std::vector<Line> lines(height);
  for (int y = 0; y < height; ++y) {
    int end = width;
    VTermScreenCell cell;
    while (end > 0) {
      vterm_screen_get_cell(screen, VTermPos{y, end - 1}, &cell);
      if (cell.chars[0] != 0) break;
      --end;
    }
    for (int x = 0; x < end; ++x) {
      vterm_screen_get_cell(screen, VTermPos{y, x}, &cell);
      lines[y].chars.push_back(cell.chars[0]);
      if (with_links) lines[y].links.push_back(links[y][x]);
    }
    lines[y].wrapped = LineContinues(y);
  }
  return lines;
}

// Where each row went in a resize (-1: gone, or not known). libvterm keeps
// each row's cells from the left (cut to the new width), dropping rows off
// the top and blank ones at the bottom, so the non-blank rows before and
// after are matched from the bottom. Matching stops at the first row whose
// characters differ.
std::vector<int> Emulator::Impl::MatchRows(const std::vector<Line>& before,
                                           const std::vector<Line>& after) {
  std::vector<int> match(before.size(), -1);
  int i = static_cast<int>(before.size()) - 1;
  int j = static_cast<int>(after.size()) - 1;
  while (i >= 0 && j >= 0) {
    if (before[i].chars.empty()) { --i; continue; }
    if (after[j].chars.empty()) { --j; continue; }
    const size_t n = std::min(before[i].chars.size(), after[j].chars.size());
    if (!std::equal(before[i].chars.begin(), before[i].chars.begin() + n,
                    after[j].chars.begin())) {
      break;
    }
    match[i] = j;
    --i, --j;
  }
  return match;
}

// libvterm keeps the bottom rows on a shrink, even when that pushes the
// cursor's line off the top (the cursor then lands on row 0, on another
// line). Terminals keep the cursor's line: rows below both the cursor and
// the new bottom are dropped instead. Erasing them first makes libvterm do
// that (it then only scrolls when the cursor's line itself would fall off).
void Emulator::Impl::KeepCursorLineOnShrink(int new_height) {
  const MoshxVTermState s = ReadState();
  const int first_dropped = std::max(s.cursor.row + 1, new_height);
  if (first_dropped >= height) return;
  moshx_vterm_set_cursor(vt.get(), VTermPos{first_dropped, 0}, 0);
  Inject("\x1b[J");
  moshx_vterm_set_cursor(vt.get(), s.cursor, s.pending_wrap);
}

// ---------------------------------------------------------------- Emulator

Emulator::Emulator(int width, int height) : Emulator(width, height, Options()) {}

Emulator::Emulator(int width, int height, const Options& options)
    : impl_(std::make_unique<Impl>(width, height, options)) {}

Emulator::~Emulator() = default;

int Emulator::width() const { return impl_->width; }
int Emulator::height() const { return impl_->height; }

uint64_t Emulator::dropped_answer_bytes() const {
  return impl_->dropped_answer_bytes;
}

std::string Emulator::LibvtermVersion() {
  return absl::StrCat(VTERM_VERSION_MAJOR, ".", VTERM_VERSION_MINOR, ".",
                      VTERM_VERSION_PATCH);
}

namespace {

// Fast path for floods of plain text (`seq`, `cat big.log`): the length of a
// prefix of `bytes` that can be skipped without changing the visible screen,
// if the cursor is put at the start of the bottom row instead.
//
// It is exact under these conditions, which the caller checks for the state
// (no sequence in progress, scrolling covers the whole screen, no scrollback
// kept) and this function for the bytes: only printable text, CR and LF (no
// ESC, no other control, no C1 in UTF-8), cut right after a CR LF, at least
// `height` line feeds before the cut and as many after it, and some
// printable text after it. Then:
//   * parsing everything, the line feeds before the cut bring the cursor to
//     the bottom row, so at the cut it stands at the start of the bottom row
//     (CR LF), with no wrap pending, the same pen (plain text cannot change
//     it) and the same link open;
//   * from there every line feed or autowrap of the tail scrolls, so after
//     `height` of them every row on screen is a fresh line (blank in the
//     pen's background) that the tail alone wrote, and the cursor ends where
//     the tail puts it;
//   * libvterm's memory of the last glyph (for combining marks and REP)
//     names a glyph of the tail, at the same screen position either way.
// So parsing the tail after a line feed from the start of the bottom row (a
// fresh row scrolls in, as it did after the prefix's last line feed) shows
// what parsing everything shows; what the skipped prefix wrote only ever
// scrolled off.
size_t SkippablePrefix(absl::string_view bytes, int height, size_t tail_need,
                       size_t* prefix_line_feeds) {
  const size_t need = static_cast<size_t>(height);
  if (bytes.size() < need + tail_need + 2) return 0;
  size_t total_line_feeds = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c != 0x7f && c != 0xc2) continue;
    if (c == '\n') {
      ++total_line_feeds;
      continue;
    }
    if (c == '\r') continue;
    if (c == 0xc2 && i + 1 < bytes.size() &&
        (static_cast<unsigned char>(bytes[i + 1]) < 0x80 ||
         static_cast<unsigned char>(bytes[i + 1]) >= 0xa0)) {
      continue;  // U+00A0..U+00BF, not a C1 control
    }
    return 0;
  }
  if (total_line_feeds < need + tail_need + 1) return 0;
  size_t line_feeds = 0;
  bool text_after = false;
  for (size_t i = bytes.size(); i-- > 0;) {
    if (bytes[i] != '\n') {
      text_after = text_after || bytes[i] != '\r';
      continue;
    }
    ++line_feeds;
    if (line_feeds > tail_need && text_after && i > 0 && bytes[i - 1] == '\r') {
      // line_feeds - 1 line feeds lie after bytes[i], the last one skipped.
      *prefix_line_feeds = total_line_feeds - line_feeds + 1;
      return *prefix_line_feeds >= need ? i + 1 : 0;
    }
  }
  return 0;
}

// True when plain text `bytes`, printed from column `col` (0-based; width
// for a pending wrap), cannot autowrap: no run since a CR (or the start) is
// longer than `width` bytes, and no character takes more columns than
// bytes, so no line reaches past the last column.
bool PrintsWithoutWrapSlow(absl::string_view bytes, int col, int width) {
  // Between carriage returns the cursor moves a column a byte, line feeds
  // aside: a stretch no longer than the room left cannot wrap, and only a
  // longer one has its line feeds counted out.
  size_t room = static_cast<size_t>(std::max(width - col, 0));
  size_t at = 0;
  while (at < bytes.size()) {
    const void* cr = memchr(bytes.data() + at, '\r', bytes.size() - at);
    const size_t end =
        cr == nullptr ? bytes.size() : static_cast<size_t>(static_cast<const char*>(cr) - bytes.data());
    if (end - at > room) {
      size_t advance = 0;
      for (size_t i = at; i < end; ++i) advance += bytes[i] != '\n';
      if (advance > room) return false;
    }
    if (cr == nullptr) break;
    at = end + 1;
    room = static_cast<size_t>(width);
  }
  return true;
}

bool IsFloodByte(unsigned char c) { return (c >= 0x20 && c <= 0x7e) || c == '\r' || c == '\n'; }

// Eight bytes at a time (SWAR): each mask has 0x80 in exactly the bytes
// that match. A flood's bytes are scanned twice here, so a branch per byte
// would cost more than all the rest of the fast path.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the masks assume byte 0 lowest");
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;
constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
uint64_t Load8(const char* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
uint64_t ZeroBytes(uint64_t v) { return ~(((v & kLow7) + kLow7) | v | kLow7); }
// The bytes a mask marks (0x80 each): their 0x01s summed into the top byte
// (a multiply, where a popcount builtin is a libgcc call without -mpopcnt).
size_t CountBytes(uint64_t mask) { return static_cast<size_t>(((mask >> 7) * kOnes) >> 56); }
uint64_t BytesEqual(uint64_t v, unsigned char c) { return ZeroBytes(v ^ (kOnes * c)); }
// Printable ASCII (0x20..0x7e), CR or LF.
uint64_t FloodBytes(uint64_t v) {
  const uint64_t at_least_space = ((v & kLow7) + kOnes * (0x80 - 0x20)) & kHighs;
  return ~v & kHighs &
         ((at_least_space & ~BytesEqual(v, 0x7f)) | BytesEqual(v, '\r') | BytesEqual(v, '\n'));
}

// How many leading bytes of `bytes` are printable ASCII, CR or LF; the line
// feeds among them in *feeds.
size_t FloodPrefix(absl::string_view bytes, size_t* feeds) {
  size_t i = 0, lf = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    const uint64_t v = Load8(bytes.data() + i);
    if (FloodBytes(v) != kHighs) break;
    lf += static_cast<size_t>(CountBytes(BytesEqual(v, '\n')));
  }
  for (; i < bytes.size() && IsFloodByte(static_cast<unsigned char>(bytes[i])); ++i) {
    lf += bytes[i] == '\n';
  }
  *feeds = lf;
  return i;
}

// Eight bytes at a time: within a word, the stretches between two CRs are
// shorter than 8, so on a screen of 8 columns or more only the run that
// crosses words (the cursor's column since the last CR) can wrap.
bool PrintsWithoutWrap(absl::string_view bytes, int col, int width) {
  if (width < 8) return PrintsWithoutWrapSlow(bytes, col, width);
  const size_t w = static_cast<size_t>(width);
  size_t used = static_cast<size_t>(std::max(col, 0));  // the cursor's column
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    const uint64_t v = Load8(bytes.data() + i);
    const uint64_t crs = BytesEqual(v, '\r');
    const uint64_t advancing = ~(crs | BytesEqual(v, '\n')) & kHighs;
    if (crs == 0) {
      used += CountBytes(advancing);
      if (used > w) return false;
      continue;
    }
    const int first = __builtin_ctzll(crs);    // the first CR's marker bit
    if (used + CountBytes(advancing & ((uint64_t{1} << first) - 1)) > w) return false;
    const int last = 63 - __builtin_clzll(crs);  // the last CR's
    used = CountBytes(advancing & ~((uint64_t{2} << last) - 1));
  }
  return PrintsWithoutWrapSlow(bytes.substr(i), static_cast<int>(used), width);
}

// True if `lines` (printable ASCII, CR and LF) are lines that each end in
// "\r\n" with no other CR: every line feed follows a CR and there are as
// many of each.
bool IsCrlfLines(absl::string_view lines) {
  if (lines.empty() || lines[0] == '\n') return false;
  size_t cr = 0, lf = 0;
  uint64_t cr_before = 0;  // 0x80 in byte 0 if the byte before the word is a CR
  size_t i = 0;
  for (; i + 8 <= lines.size(); i += 8) {
    const uint64_t v = Load8(lines.data() + i);
    const uint64_t crs = BytesEqual(v, '\r'), lfs = BytesEqual(v, '\n');
    if ((lfs & ((crs << 8) | cr_before)) != lfs) return false;  // a line feed without its CR
    cr += static_cast<size_t>(CountBytes(crs));
    lf += static_cast<size_t>(CountBytes(lfs));
    cr_before = crs >> 56;
  }
  for (; i < lines.size(); ++i) {
    const bool is_cr = lines[i] == '\r', is_lf = lines[i] == '\n';
    const bool after_cr = i == 0 ? false : lines[i - 1] == '\r';
    if (is_lf && !after_cr) return false;
    cr += is_cr;
    lf += is_lf;
  }
  return cr == lf;
}

}  // namespace

// The plain-text fast path with scrollback kept, for a flood of printable
// ASCII, CR and LF: the lines it pushes off are kept as text and laid out
// only when taken (core::LayOut), and libvterm scrolls only a screenful.
// With the cursor on row r, the bytes are cut in three:
//   A: through the (height - r)th line feed, written as usual: it scrolls,
//      so the cursor is on a fresh (blank) bottom row;
//   B: up to the last line feed of the ASCII that follows (M >= 2 * height
//      line feeds). Written as usual, its first height - 1 line feeds would
//      push rows 0..height-2 of the screen (B's first line goes to the
//      bottom row), the rest B's lines 0..M-height, each printed on a fresh
//      row; the screen would then show B's lines M-height+1..M-1 over a
//      fresh bottom row. Here: height - 1 line feeds push those rows; a
//      glyph printed on the (now fresh) screen shows the pen; B's lines
//      0..M-height are kept as text (only the newest scrollback_lines of
//      them); one more line feed clears the screen (its push not kept);
//      and B's last height - 1 lines are written from the top row down
//      (no scroll), leaving the cursor where writing it all would.
//   C: the rest, written as usual by the caller.
// Same screen, cursor, last glyph and kept lines as writing it all, given
// that nothing in A and B autowraps (PrintsWithoutWrap), B's last lines
// print a glyph (so libvterm's last glyph is the real one), no hyperlink is
// open and libvterm prints ASCII as is. Returns false (nothing written)
// when any of that does not hold.
bool Emulator::Impl::SkipKeepingPlainLines(absl::string_view* bytes, const MoshxVTermState& s) {
  if (height < 2 || current_link != nullptr || !moshx_vterm_prints_ascii_as_is(vt.get())) {
    return false;
  }
  const absl::string_view in = *bytes;
  const size_t a_feeds = static_cast<size_t>(height - s.cursor.row);
  size_t feeds = 0;
  const size_t plain = FloodPrefix(in, &feeds);
  if (feeds < a_feeds || a_feeds == 0) return false;
  size_t a_end = 0;  // after the a_feeds-th line feed
  for (size_t k = 0; k < a_feeds; ++k) a_end = in.find('\n', a_end) + 1;
  const size_t b_end =  // after the last line feed of the plain prefix
      static_cast<size_t>(static_cast<const char*>(memrchr(in.data(), '\n', plain)) - in.data()) + 1;
  const size_t m = feeds - a_feeds;  // line feeds in B
  const size_t h = static_cast<size_t>(height);
  if (m < 2 * h) return false;
  const int col0 = s.pending_wrap ? width : s.cursor.col;
  if (!PrintsWithoutWrap(in.substr(0, b_end), col0, width)) return false;
  // Lay out B: where each of its lines starts (after the line feed before
  // it) and the column the cursor is in there.
  int col = col0;
  for (char c : in.substr(0, a_end)) {
    if (c == '\r') {
      col = 0;
    } else if (c != '\n') {
      ++col;
    }
  }
  const size_t lazy = m - (h - 1);  // B's lines 0..M-height
  const size_t built_from = lazy > options.scrollback_lines ? lazy - options.scrollback_lines : 0;
  Kept block;
  // B's lines before built_from are neither kept nor on screen: start at
  // line built_from, found from B's end (line feeds counted back), and the
  // column there (the characters since the last CR before it; a line feed
  // does not move the cursor's column). A flood of millions of lines then
  // costs its newest lines here, not a search per line.
  // Line k starts after the line feed ending line k - 1, found backwards
  // from line k's start (line m starts at b_end, line 0 at a_end).
  auto line_before = [&](size_t line_start) {
    const void* lf = memrchr(in.data() + a_end, '\n', line_start - 1 - a_end);
    return lf == nullptr ? a_end
                         : static_cast<size_t>(static_cast<const char*>(lf) - in.data()) + 1;
  };
  size_t lazy_start = b_end;  // where line `lazy` (the first left on screen) starts
  for (size_t k = m; k > lazy; --k) lazy_start = line_before(lazy_start);
  size_t start = a_end;  // where line built_from starts
  if (built_from > 0) {
    start = lazy_start;
    for (size_t k = lazy; k > built_from; --k) start = line_before(start);
  }
  if (start > a_end) {
    const void* cr = memrchr(in.data() + a_end, '\r', start - a_end);
    const size_t from =
        cr == nullptr ? a_end : static_cast<size_t>(static_cast<const char*>(cr) - in.data()) + 1;
    if (cr != nullptr) col = 0;
    for (size_t i = from; i < start; ++i) col += in[i] != '\n';
  }
  tail_known.assign(static_cast<size_t>(height), KnownRow{});
  size_t line = built_from, tail_begin = b_end, first = start;
  int tail_col = col;
  bool tail_glyph = false;
  const absl::string_view kept = in.substr(start, lazy_start - start);
  if (col == 0 && IsCrlfLines(kept)) {
    // `seq`'s output: the kept lines are stored as written (a CRLF block,
    // cut when taken); only the lines left on screen are looked at below.
    block.crlf = true;
    block.crlf_lines = lazy - built_from;
    block.text.assign(kept.data(), kept.size());
    line = lazy;
    first = tail_begin = lazy_start;
    tail_col = col = 0;
  } else {
    block.ends.reserve(lazy - built_from);
  }
  // Line by line (B holds only printable ASCII, CR and LF). A line that
  // starts in column 0 with no CR but one at its end (`seq`'s "N\r\n")
  // is its own text; any other is laid out character by character (a CR
  // inside returns to column 0 and overwrites).
  for (size_t i = first; i < b_end;) {
    const size_t nl = in.find('\n', i);  // < b_end: B ends with a line feed
    const absl::string_view seg = in.substr(i, nl - i);
    const size_t first_cr = seg.find('\r');
    if (line >= lazy) {
      if (seg.find_first_not_of('\r') != absl::string_view::npos) tail_glyph = true;
      // The tail writes line `line` on row line - lazy from the top (it
      // scrolls nothing): a line that starts in column 0 and has no CR but
      // one at its end is that row's text (known_rows, once written).
      if (col == 0 && (first_cr == absl::string_view::npos || first_cr == seg.size() - 1) &&
          line - lazy < static_cast<size_t>(height)) {
        tail_known[line - lazy] = {static_cast<int>(i - tail_begin),
                                   static_cast<int>(std::min(first_cr, seg.size()))};
      }
    }
    if (line >= built_from && line < lazy) {
      std::string& text = block.text;
      if (col == 0 && (first_cr == absl::string_view::npos || first_cr == seg.size() - 1)) {
        text.append(seg.data(), first_cr == absl::string_view::npos ? seg.size() : first_cr);
      } else {
        const size_t start = text.size();
        size_t c0 = static_cast<size_t>(col);
        for (char c : seg) {
          if (c == '\r') {
            c0 = 0;
            continue;
          }
          if (text.size() - start <= c0) text.resize(start + c0 + 1, '\0');
          text[start + c0++] = c;
        }
      }
      block.ends.push_back(static_cast<uint32_t>(text.size()));
    }
    const size_t last_cr = seg.rfind('\r');
    col = last_cr == absl::string_view::npos ? col + static_cast<int>(seg.size())
                                             : static_cast<int>(seg.size() - last_cr - 1);
    i = nl + 1;
    if (++line == lazy) {
      tail_begin = i;
      tail_col = col;
    }
  }
  if (!tail_glyph) return false;

  Inject(in.substr(0, a_end));
  // Rows 0..height-2 leave the screen (the cursor is on the bottom row, a
  // fresh one): kept here, top down, as height - 1 line feeds would push
  // them (a row wraps if the next continues it).
  // A row the last Feed's fast path wrote is kept from its text.
  row_cells.resize(width);
  for (int y = 0; y + 1 < height; ++y) {
    const bool wraps = LineContinues(y);
    const KnownRow known = known_rows[y];
    if (known.begin >= 0 && !wraps && options.plain_rows) {
      KeepText(known_palette, absl::string_view(known_text).substr(known.begin, known.size));
      continue;
    }
    for (int x = 0; x < width; ++x) {
      vterm_screen_get_cell(screen, VTermPos{y, x}, &row_cells[x]);
    }
    KeepRow(width, row_cells.data(), links.empty() ? nullptr : &links[y], wraps,
            /*may_be_text=*/true);
  }
  // The pen's cells: a blank of the fresh row, and a probe printed on it.
  VTermScreenCell blank_cell;
  VTermScreenCell glyph_cell;
  vterm_screen_get_cell(screen, VTermPos{height - 1, 0}, &blank_cell);
  moshx_vterm_set_cursor(vt.get(), VTermPos{height - 1, 0}, /*pending_wrap=*/0);
  Inject("X");
  vterm_screen_get_cell(screen, VTermPos{height - 1, 0}, &glyph_cell);
  std::shared_ptr<core::PlainPalette> pen = MakePalette(width, blank_cell, glyph_cell);
  // Then the whole screen scrolls off at once (SU by its height: libvterm
  // erases every row with the pen and clears the line info, as height line
  // feeds would, but moves no cell and pushes no line; the rows above the
  // probe's were kept above, the probe's is not).
  Inject(absl::StrCat("\x1b[", height, "S"));
  if (built_from > 0) {
    lines_not_kept += kept_lines + built_from;
    scrollback.clear();
    kept_lines = 0;
    kept_rows = 0;
  }
  const std::shared_ptr<const core::PlainPalette> block_pen = pen;
  block.pen = std::move(pen);
  Keep(std::move(block));
  // The screen is blank: B's last height - 1 lines are written from the
  // top row down, the same rows and cursor as writing them from the
  // bottom row, without a scroll of the whole screen per line.
  suppress_push = true;
  moshx_vterm_set_cursor(vt.get(), VTermPos{0, std::min(tail_col, width - 1)},
                         tail_col >= width && s.autowrap ? 1 : 0);
  Inject(in.substr(tail_begin, b_end - tail_begin));
  suppress_push = false;
  // What the tail wrote (tail_known, from the loop above).
  known_palette = block_pen;
  known_text.assign(in.data() + tail_begin, b_end - tail_begin);
  known_rows.swap(tail_known);
  ++fast_path_skips;
  bytes->remove_prefix(b_end);
  return true;
}

std::string Emulator::Feed(absl::string_view bytes) {
  Impl& m = *impl_;
  m.answers.clear();
  if (m.options.plain_text_fast_path && m.framer.held() == 0) {
    const MoshxVTermState s = m.ReadState();
    if (s.scroll_top == 0 && s.scroll_bottom == m.height && !s.left_right_margins) {
      // With scrollback kept (primary screen), a flood of plain ASCII
      // keeps its lines as text (SkipKeepingPlainLines). Otherwise only
      // lines that the tail pushes out of the scrollback buffer again may
      // be skipped: the tail must scroll scrollback_lines fresh lines after
      // the height - 1 rows on screen at the cut. The skipped lines are
      // counted exactly: from cursor row r, K line feeds without autowrap
      // scroll K - (height - 1 - r) lines off; the fast path's own line
      // feed below pushes one.
      const bool keeps = m.options.scrollback_lines > 0 && !m.alternate_screen;
      if (!keeps || !m.SkipKeepingPlainLines(&bytes, s)) {
        const size_t tail_need =
            keeps ? m.options.scrollback_lines + m.height - 1 : static_cast<size_t>(m.height);
        size_t prefix_line_feeds = 0;
        size_t skip = SkippablePrefix(bytes, m.height, tail_need, &prefix_line_feeds);
        if (skip > 0 && keeps) {
          const int col = s.pending_wrap ? m.width : s.cursor.col;
          if (PrintsWithoutWrap(bytes.substr(0, skip), col, m.width)) {
            m.lines_not_kept +=
                prefix_line_feeds - static_cast<size_t>(m.height - 1 - s.cursor.row) - 1;
          } else {
            skip = 0;
          }
        }
        if (skip > 0) {
          ++m.fast_path_skips;
          bytes.remove_prefix(skip);
          // Where the skipped line feeds left the cursor: at the start of a
          // fresh bottom row, scrolled in by the last of them.
          moshx_vterm_set_cursor(m.vt.get(), VTermPos{m.height - 1, 0}, /*pending_wrap=*/0);
          m.Inject("\n");
        }
      }
    }
  }
  m.marks.clear();
  const std::string ready = m.framer.Push(bytes, &m.marks);
  const absl::string_view in = ready;
  size_t done = 0;
  for (const Mark& mark : m.marks) {
    if (mark.begin < done) continue;  // inside a run already written
    m.Write(in.substr(done, mark.begin - done));
    std::string controls, clean;
    if (mark.kind != Mark::Kind::kTextStart) {
      clean = CleanSequence(in.substr(mark.begin, mark.end - mark.begin), &controls);
      if (!controls.empty()) m.Inject(controls);
    }
    const absl::string_view sequence = clean;
    switch (mark.kind) {
      case Mark::Kind::kSgr:
        m.WriteSgr(sequence);
        done = mark.end;
        break;
      case Mark::Kind::kRep:
        m.WriteRep(sequence.substr(2, sequence.size() - 3));
        done = mark.end;
        break;
      case Mark::Kind::kLongCsi:
        m.WriteLongCsi(sequence);
        done = mark.end;
        break;
      case Mark::Kind::kClipboard:
        m.Inject(sequence);  // libvterm ignores it, but ends text runs
        m.OnClipboard(sequence);
        done = mark.end;
        break;
      case Mark::Kind::kTextStart:
        done = m.WriteTextStart(in, mark.begin);
        break;
    }
  }
  m.Write(in.substr(done));
  return std::move(m.answers);
}

// libvterm 0.3 resizes on its own (cutting or padding rows, moving rows
// that no longer fit into scrollback, keeping the scroll region clamped).
// Around it: rows below the cursor that the shrink drops anyway are erased
// first (KeepCursorLineOnShrink); a region (or left/right margins) that the
// clamp left empty is reset, as libvterm would scroll it with a negative
// size; a cursor saved before a shrink, which libvterm would restore outside
// the screen, is moved inside. Hyperlinks follow their cells (MatchRows),
// on the screen showing; the other screen's are dropped (libvterm resizes it
// unseen).
void Emulator::Resize(int width, int height) {
  Impl& m = *impl_;
  width = ClampWidth(width);
  height = ClampHeight(height);
  if (width == m.width && height == m.height) return;
  m.KeepCursorLineOnShrink(height);
  const std::vector<Impl::Line> before = m.Lines(/*with_links=*/!m.links.empty());
  const bool same_width = width == m.width;
  m.resizing = true;
  m.pushed = 0;
  vterm_set_size(m.vt.get(), height, width);
  m.resizing = false;
  m.pushed = 0;
  m.width = width;
  m.height = height;
  moshx_vterm_repair_margins(m.vt.get());
  moshx_vterm_clamp_saved_cursor(m.vt.get());
  m.fb.Resize(width, height);
  m.dirty.assign(height, true);
  m.known_rows.assign(height, Impl::KnownRow{});
  const std::vector<int> match = m.MatchRows(before, m.Lines(/*with_links=*/false));
  // libvterm clears every continuation flag when it resizes without reflow;
  // a height change alone leaves the rows as they were, so their wraps stay
  // (as in mosh and xterm; a width change clears them, as there).
  if (same_width) {
    for (size_t i = 0; i + 1 < before.size(); ++i) {
      if (before[i].wrapped && match[i] >= 0 && match[i + 1] == match[i] + 1) {
        moshx_vterm_set_line_continues(m.vt.get(), match[i + 1], 1);
      }
    }
  }
  // Hyperlinks follow their cells.
  if (!m.links.empty()) {
    m.links.assign(height, std::vector<Link>(width));
    for (size_t i = 0; i < before.size(); ++i) {
      if (match[i] < 0) continue;
      const size_t n = std::min<size_t>(before[i].links.size(), width);
      std::copy(before[i].links.begin(), before[i].links.begin() + n,
                m.links[match[i]].begin());
    }
    m.other_links.clear();
  }
}

core::Framebuffer Emulator::Snapshot() {
  Impl& m = *impl_;
  for (int y = 0; y < m.height; ++y) {
    if (!m.dirty[y]) {
      // A row's wrapped flag changes when the next row starts or stops
      // continuing it, which may not damage this row.
      if (m.fb.row(y).wrapped() == m.LineContinues(y)) continue;
    }
    core::Row row = m.ReadRow(y);
    if (!m.budget_needed && core::CarriesBudgetedBytes(row)) m.budget_needed = true;
    m.fb.SetRow(y, std::move(row));
    m.dirty[y] = false;
  }
  // Only screens that ever showed a link or a combining mark pay for the walk.
  if (m.budget_needed) {
    const core::ScreenBudgetCuts cuts = core::EnforceScreenBudget(&m.fb);
    m.budget_cuts.links_dropped += cuts.links_dropped;
    m.budget_cuts.marks_dropped += cuts.marks_dropped;
  }
  VTermPos pos;
  vterm_state_get_cursorpos(m.state, &pos);
  core::Cursor* cursor = m.fb.mutable_cursor();
  cursor->row = std::clamp(pos.row, 0, m.height - 1);
  cursor->col = std::clamp(pos.col, 0, m.width - 1);
  cursor->visible = m.cursor_visible;
  cursor->blinking = m.cursor_blink;
  cursor->shape = m.cursor_shape == VTERM_PROP_CURSORSHAPE_UNDERLINE
                      ? core::CursorShape::kUnderline
                  : m.cursor_shape == VTERM_PROP_CURSORSHAPE_BAR_LEFT
                      ? core::CursorShape::kBar
                      : core::CursorShape::kBlock;
  m.ReadModes(m.fb.mutable_modes());
  return m.fb;
}

core::ScreenBudgetCuts Emulator::budget_cuts() const { return impl_->budget_cuts; }

std::vector<core::Row> Emulator::TakeScrollback() {
  return TakeScrollback(impl_->kept_lines);
}

std::vector<core::Row> Emulator::TakeScrollback(size_t max) {
  std::vector<core::Row> lines;
  lines.reserve(std::min(max, impl_->kept_lines));
  TakeScrollback(max, [&lines](core::Row* row, const core::PlainRow* plain) {
    lines.push_back(row != nullptr ? std::move(*row) : core::LayOut(*plain));
  });
  return lines;
}

size_t Emulator::TakeScrollback(
    size_t max, absl::FunctionRef<void(core::Row* row, const core::PlainRow* plain)> visit) {
  Impl& m = *impl_;
  const size_t n = std::min(max, m.kept_lines);
  size_t taken = 0;
  while (taken < n) {
    Impl::Kept& front = m.scrollback.front();
    if (front.pen == nullptr) {
      --m.kept_rows;
      ++taken;
      visit(&*front.row, nullptr);
      m.scrollback.pop_front();
      continue;
    }
    while (taken < n && front.lines() > 0) {
      const core::PlainRow plain = Impl::TakeLine(front);
      ++taken;
      visit(nullptr, &plain);
    }
    if (front.lines() == 0) m.scrollback.pop_front();
  }
  m.kept_lines -= n;
  return n;
}

uint64_t Emulator::fast_path_skips() const { return impl_->fast_path_skips; }

size_t Emulator::pending_scrollback() const { return impl_->kept_lines; }

size_t Emulator::pending_scrollback_rows() const { return impl_->kept_rows; }

uint64_t Emulator::TakeLinesNotKept() {
  const uint64_t n = impl_->lines_not_kept;
  impl_->lines_not_kept = 0;
  return n;
}

}  // namespace moshx::term
