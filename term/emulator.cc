// The one file that includes <vterm.h>. libvterm calls back into the
// trampolines below (anonymous namespace); they update Emulator::Impl, which
// turns libvterm's screen into core::Framebuffer rows on Snapshot().
#include "term/emulator.h"

#include <vterm.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/base/internal/raw_logging.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/char_width.h"
#include "term/mode_tracker.h"
#include "term/sequence_framer.h"

namespace moshx::term {

using core::Color;
using Link = std::shared_ptr<const core::Hyperlink>;

namespace {

struct VTermDeleter {
  void operator()(VTerm* vt) const { vterm_free(vt); }
};
using VTermPtr = std::unique_ptr<VTerm, VTermDeleter>;

// Titles, icon names, hyperlink URIs and clipboard payloads longer than this
// are cut (at a UTF-8 boundary for text): bounds what one OSC can cost.
constexpr size_t kMaxTitleBytes = 1024;
constexpr size_t kMaxUriBytes = 4096;
constexpr size_t kMaxClipboardBytes = 1 << 20;

// The column used by the mouse-encoding probe: large enough that X10 and
// UTF-8 encodings differ (col + 33 > 127), small enough for X10 (< 223).
constexpr int kMouseProbeCol = 199;

constexpr uint32_t kContinuation = static_cast<uint32_t>(-1);

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
std::string TitleText(const char* s, size_t max) {
  std::string text;
  for (; *s != '\0'; ++s) {
    if (IsOscSafe(absl::string_view(s, 1))) text.push_back(*s);
  }
  if (text.size() <= max) return text;
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  text.resize(max);
  return text;
}

Color ToColor(const VTermColor& c, bool foreground) {
  if (foreground ? VTERM_COLOR_IS_DEFAULT_FG(&c) : VTERM_COLOR_IS_DEFAULT_BG(&c)) {
    return Color::Default();
  }
  if (VTERM_COLOR_IS_INDEXED(&c)) return Color::Indexed(c.indexed.idx);
  return Color::Rgb(c.rgb.red, c.rgb.green, c.rgb.blue);
}

// libvterm's screen reports a cell's reverse attribute XORed with reverse
// video (DECSCNM); `screen_reverse` undoes that.
core::Renditions ToRenditions(const VTermScreenCell& cell, bool screen_reverse) {
  core::Renditions r;
  r.set(core::kBold, cell.attrs.bold);
  r.set(core::kItalic, cell.attrs.italic);
  r.set(core::kUnderline, cell.attrs.underline != 0);
  r.set(core::kBlink, cell.attrs.blink);
  r.set(core::kInverse, cell.attrs.reverse != screen_reverse);
  r.set(core::kStrikethrough, cell.attrs.strike);
  r.fg = ToColor(cell.fg, /*foreground=*/true);
  r.bg = ToColor(cell.bg, /*foreground=*/false);
  return r;
}

// The cell's grapheme in canonical form: a base that core does not consider
// printable becomes U+FFFD, marks it does not accept are dropped.
std::string ToText(const uint32_t* chars) {
  std::string text;
  for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && chars[i] != 0; ++i) {
    char32_t cp = chars[i];
    const int width = core::CharWidth(cp);
    if (i == 0 && width < 1) cp = 0xFFFD;
    if (i > 0 && width < 0) continue;
    core::AppendUtf8(cp, &text);
  }
  return text;
}

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
  void OnOsc(absl::string_view command);
  void OnHyperlink(absl::string_view params_and_uri);
  void PushScrollback(core::Row row);
  void ReadModes(core::Modes* modes);
  void PrepareResize(int new_height);
  void ClampCursor();
  void Inject(const std::string& bytes);
  std::string Probe(void (*action)(Impl*));
  core::MouseEncoding ProbeMouseEncoding();
  void Output(const char* bytes, size_t len);

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
  SequenceFramer framer;
  ModeTracker tracker;
  // Terminal properties reported by libvterm.
  bool cursor_visible = true;
  bool cursor_blink = true;
  int cursor_shape = VTERM_PROP_CURSORSHAPE_BLOCK;
  bool alternate_screen = false;
  bool reverse_video = false;
  int mouse = VTERM_PROP_MOUSE_NONE;
  // OSC 8: the open link, and the link of every cell (empty until the first
  // link is opened, so that link-free output costs nothing).
  Link current_link;
  std::vector<std::vector<Link>> links;
  std::vector<std::vector<Link>> other_links;  // the other screen's
  // libvterm's output goes to *sink: `answers`, or a probe's buffer.
  std::string answers;
  std::string* sink = &answers;
  uint64_t dropped_answer_bytes = 0;
  std::deque<core::Row> scrollback;
  // A one-line libvterm used to learn libvterm's own width of a character
  // (cached), and a buffer for reading one row of cells.
  VTermPtr width_probe;
  absl::flat_hash_map<uint32_t, int> widths;
  std::vector<VTermScreenCell> row_cells;
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
  if (!self->links.empty()) self->UpdateLinks(rect);
  return 1;
}

int OnMoveRect(VTermRect dest, VTermRect src, void* user) {
  Emulator::Impl* self = Self(user);
  if (!self->links.empty()) self->MoveLinks(dest, src);
  self->MoveRows(dest, src);
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
      self->fb.set_title(TitleText(val->string, kMaxTitleBytes));
      break;
    case VTERM_PROP_ICONNAME:
      self->fb.set_icon_name(TitleText(val->string, kMaxTitleBytes));
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
  self->PushScrollback(self->CellsToRow(
      cols, cells, self->links.empty() ? nullptr : &self->links[0]));
  return 1;
}

int OnUnknownOsc(const char* command, size_t len, void* user) {
  // libvterm reports SIZE_MAX for some strings split across writes; the
  // SequenceFramer prevents those, this guards against any other.
  if (len > SequenceFramer::kMaxStringBytes) return 0;
  Self(user)->OnOsc(absl::string_view(command, len));
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
};

const VTermParserCallbacks kFallbacks = {
    nullptr,       // text
    nullptr,       // control
    nullptr,       // escape
    OnUnknownCsi,  // csi
    OnUnknownOsc,  // osc
    nullptr,       // dcs
    nullptr,       // resize
};

}  // namespace

// ---------------------------------------------------------------- Impl

Emulator::Impl::Impl(int w, int h, const Options& opts)
    : options(opts),
      vt(vterm_new(ClampHeight(h), ClampWidth(w))),
      width(ClampWidth(w)),
      height(ClampHeight(h)),
      fb(width, height),
      dirty(height, true) {
  ABSL_RAW_CHECK(vt != nullptr, "vterm_new failed");
  vterm_set_utf8(vt.get(), 1);
  vterm_output_set_callback(vt.get(), OnOutput, this);
  screen = vterm_obtain_screen(vt.get());
  state = vterm_obtain_state(vt.get());
  vterm_screen_set_callbacks(screen, &kScreenCallbacks, this);
  vterm_screen_set_unrecognised_fallbacks(screen, &kFallbacks, this);
  vterm_screen_enable_altscreen(screen, 1);
  vterm_screen_reset(screen, 1);
  // libvterm 0.1.4 loops forever on REP (CSI b) before any character was
  // printed; printing and erasing a space gives REP a character to repeat.
  Inject(" \r\x1b[K");
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

void Emulator::Impl::MarkDirty(int begin_row, int end_row) {
  begin_row = std::max(begin_row, 0);
  end_row = std::min(end_row, height);
  for (int y = begin_row; y < end_row; ++y) dirty[y] = true;
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
  for (int x = 0; x < cols; ++x) {
    const VTermScreenCell& raw = cells[x];
    const Link link = row_links && x < width ? (*row_links)[x] : nullptr;
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
  return CellsToRow(width, row_cells.data(), links.empty() ? nullptr : &links[y]);
}

// libvterm damages each printed glyph on its own (one or two cells of one
// row): a damaged cell there that holds a character was printed and takes
// the open link. Any damaged blank cell was erased and loses its link. Larger
// damage (reverse video, screen switches) leaves the links of characters.
void Emulator::Impl::UpdateLinks(const VTermRect& rect) {
  const bool glyph = rect.end_row - rect.start_row == 1 &&
                     rect.end_col - rect.start_col <= 2;
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
void Emulator::Impl::MoveRows(const VTermRect& dest, const VTermRect& src) {
  const int n = dest.end_row - dest.start_row;
  const bool full_width = dest.start_col == 0 && dest.end_col == width &&
                          src.start_col == 0 && src.end_col == width;
  if (!full_width || n != src.end_row - src.start_row || dest.start_row < 0 ||
      src.start_row < 0 || dest.end_row > height || src.end_row > height) {
    MarkDirty(dest.start_row, dest.end_row);
    return;
  }
  std::vector<std::shared_ptr<const core::Row>> rows;
  std::vector<bool> flags;
  for (int i = 0; i < n; ++i) {
    rows.push_back(fb.shared_row(src.start_row + i));
    flags.push_back(dirty[src.start_row + i]);
  }
  for (int i = 0; i < n; ++i) {
    fb.SetRow(dest.start_row + i, rows[i]);
    dirty[dest.start_row + i] = flags[i];
  }
}

void Emulator::Impl::OnOsc(absl::string_view command) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(command, absl::MaxSplits(';', 1));
  int number;
  if (!absl::SimpleAtoi(parts.first, &number)) return;
  if (number == 8) {
    OnHyperlink(parts.second);
  } else if (number == 52) {
    std::pair<std::string, std::string> sel_data =
        absl::StrSplit(parts.second, absl::MaxSplits(';', 1));
    // "?" asks for the clipboard's contents: the server cannot know them.
    if (sel_data.second == "?" || sel_data.second.size() > kMaxClipboardBytes ||
        !IsOscSafe(sel_data.first) || !IsOscSafe(sel_data.second)) {
      return;
    }
    fb.set_clipboard({std::move(sel_data.first), std::move(sel_data.second)});
  }
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

void Emulator::Impl::PushScrollback(core::Row row) {
  scrollback.push_back(std::move(row));
  while (scrollback.size() > options.scrollback_lines) scrollback.pop_front();
}

// Sends bytes of our own to libvterm. Safe only at a sequence boundary,
// which the SequenceFramer guarantees between Feed() calls.
void Emulator::Impl::Inject(const std::string& bytes) {
  vterm_input_write(vt.get(), bytes.data(), bytes.size());
}

// libvterm 0.1.4 mishandles resizes in several ways: it does not clamp the
// scroll region to a smaller screen (and then writes out of bounds on the
// next scroll); it corrupts memory when the height shrinks while rows below
// the new bottom hold text and the cursor is above them; and to keep
// non-blank bottom rows it scrolls the screen up so far that the cursor row
// goes negative. So before a resize the scroll region is reset (terminals do
// that on resize) and every row below both the cursor and the new bottom is
// erased (those rows are dropped anyway): libvterm then scrolls up only when
// the cursor itself would fall off, just enough to keep it on the last row.
// The cursor is put back (a pending wrap, if any, is lost).
void Emulator::Impl::PrepareResize(int new_height) {
  VTermPos cursor;
  vterm_state_get_cursorpos(state, &cursor);
  // With the region reset, CUP is absolute even in origin mode.
  std::string s = "\x1b[r";
  const int first_dropped = std::max(cursor.row + 1, new_height);
  if (first_dropped < height) {
    absl::StrAppend(&s, "\x1b[", first_dropped + 1, ";1H\x1b[J");
  }
  absl::StrAppend(&s, "\x1b[", cursor.row + 1, ";", cursor.col + 1, "H");
  Inject(s);
}

// After a resize or a cursor restore: a cursor outside the screen (libvterm
// restores positions saved before a resize unclamped) is moved in.
void Emulator::Impl::ClampCursor() {
  VTermPos cursor;
  vterm_state_get_cursorpos(state, &cursor);
  if (cursor.row >= 0 && cursor.row < height && cursor.col >= 0 &&
      cursor.col < width) {
    return;
  }
  Inject(absl::StrCat("\x1b[", std::clamp(cursor.row, 0, height - 1) + 1, ";",
                      std::clamp(cursor.col, 0, width - 1) + 1, "H"));
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
  m->origin_mode = tracker.origin_mode();
  m->autowrap = tracker.autowrap();
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

namespace {

// Fast path for floods of plain text (`seq`, `cat big.log`): the length of a
// prefix of `bytes` that can be skipped without changing the visible screen.
//
// It is exact under these conditions, which the caller checks for the state
// (no sequence in progress, scrolling covers the whole screen, no scrollback
// kept) and this function for the bytes: only printable text, CR and LF (no
// ESC, no other control, no C1 in UTF-8), cut right after a CR LF, and at
// least 2 * height line feeds after the cut. Then at most height - 1 of those
// line feeds reach the bottom row and at least height + 1 scroll, so every row
// of the final screen is a fresh line written by the kept tail alone, with the
// same pen (plain text cannot change it), and the cursor ends in the same
// place. What the skipped prefix wrote only ever scrolled off the top.
size_t SkippablePrefix(absl::string_view bytes, int height) {
  const size_t need = 2 * static_cast<size_t>(height) + 1;
  if (bytes.size() < need * 2) return 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c != 0x7f && c != 0xc2) continue;
    if (c == '\r' || c == '\n') continue;
    if (c == 0xc2 && i + 1 < bytes.size() &&
        (static_cast<unsigned char>(bytes[i + 1]) < 0x80 ||
         static_cast<unsigned char>(bytes[i + 1]) >= 0xa0)) {
      continue;  // U+00A0..U+00BF, not a C1 control
    }
    return 0;
  }
  size_t line_feeds = 0;
  for (size_t i = bytes.size(); i-- > 0;) {
    if (bytes[i] != '\n') continue;
    if (++line_feeds >= need && i > 0 && bytes[i - 1] == '\r') return i + 1;
  }
  return 0;
}

}  // namespace

std::string Emulator::Feed(absl::string_view bytes) {
  Impl& m = *impl_;
  m.answers.clear();
  if (m.options.plain_text_fast_path && m.framer.held() == 0 && m.tracker.at_ground() &&
      m.options.scrollback_lines == 0 && m.tracker.FullScreenScrollRegion(m.height)) {
    bytes.remove_prefix(SkippablePrefix(bytes, m.height));
  }
  std::vector<size_t> restores;
  const std::string ready = m.framer.Push(bytes, &restores);
  m.tracker.Scan(ready);
  size_t done = 0;
  for (size_t end : restores) {  // a restored cursor may lie off screen
    vterm_input_write(m.vt.get(), ready.data() + done, end - done);
    m.ClampCursor();
    done = end;
  }
  vterm_input_write(m.vt.get(), ready.data() + done, ready.size() - done);
  return std::move(m.answers);
}

void Emulator::Resize(int width, int height) {
  Impl& m = *impl_;
  width = ClampWidth(width);
  height = ClampHeight(height);
  if (width == m.width && height == m.height) return;
  m.PrepareResize(height);
  vterm_set_size(m.vt.get(), height, width);
  m.width = width;
  m.height = height;
  m.ClampCursor();
  m.fb.Resize(width, height);
  m.dirty.assign(height, true);
  // libvterm may move content while resizing; links do not follow.
  if (!m.links.empty()) {
    m.links.assign(height, std::vector<Link>(width));
    m.other_links.clear();
  }
}

core::Framebuffer Emulator::Snapshot() {
  Impl& m = *impl_;
  for (int y = 0; y < m.height; ++y) {
    if (!m.dirty[y]) continue;
    m.fb.SetRow(y, m.ReadRow(y));
    m.dirty[y] = false;
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

std::vector<core::Row> Emulator::TakeScrollback() {
  std::vector<core::Row> lines(std::make_move_iterator(impl_->scrollback.begin()),
                               std::make_move_iterator(impl_->scrollback.end()));
  impl_->scrollback.clear();
  return lines;
}

}  // namespace moshx::term
