#include "core/painter.h"

#include <cassert>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/escape.h"

namespace moshx::core {
namespace {

// Erases the whole screen without ED 2 or ED 0 from the home position
// (DiffOptions::preserve_scrollback): ED 0 from the second column, then EL
// on the first row. Leaves the cursor at the home position.
constexpr char kEraseKeepingScrollback[] = "\x1b[1;2H\x1b[J\x1b[H\x1b[K";

bool Erasable(const Cell& cell) {
  return cell.text.empty() && cell.width == 1 && cell.link == nullptr &&
         cell.renditions.attributes == 0 && cell.renditions.fg.is_default();
}

// Start column of the cell covering the last column.
int LastCellStart(const Row& row) {
  const int last = row.width() - 1;
  return row.cell(last).width == 0 ? last - 1 : last;
}

void AppendDecMode(int mode, bool on, std::string* out) {
  absl::StrAppend(out, "\x1b[?", mode, on ? "h" : "l");
}

int MouseModeNumber(MouseTracking m) {
  switch (m) {
    case MouseTracking::kX10: return 9;
    case MouseTracking::kNormal: return 1000;
    case MouseTracking::kButton: return 1002;
    case MouseTracking::kAnyEvent: return 1003;
    case MouseTracking::kNone: break;
  }
  return 0;
}

int MouseEncodingNumber(MouseEncoding e) {
  switch (e) {
    case MouseEncoding::kUtf8: return 1005;
    case MouseEncoding::kSgr: return 1006;
    case MouseEncoding::kUrxvt: return 1015;
    case MouseEncoding::kDefault: break;
  }
  return 0;
}

// Switching between two non-off values needs only the new "h"; switching
// off resets the old one ("l" of any of them turns the feature off).
void AppendMultiMode(int old_mode, int new_mode, std::string* out) {
  if (old_mode == new_mode) return;
  if (new_mode != 0) {
    AppendDecMode(new_mode, true, out);
  } else {
    AppendDecMode(old_mode, false, out);
  }
}

int CursorStyleNumber(const Cursor& c) {
  const int base = c.shape == CursorShape::kBlock       ? 1
                   : c.shape == CursorShape::kUnderline ? 3
                                                        : 5;
  return c.blinking ? base : base + 1;
}

}  // namespace

Painter::Painter(const Framebuffer& start, const DiffOptions& options)
    : options_(options),
      screen_(start),
      y_(start.cursor().row),
      x_(start.cursor().col),
      pending_(start.cursor().col == start.width() - 1),
      pen_(start.pen()),
      visible_(start.cursor().visible),
      autowrap_(start.modes().autowrap) {
  if (y_ < 0 || y_ >= start.height() || x_ < 0 || x_ >= start.width()) {
    // An invalid cursor: start from an unknown position (absolute moves).
    y_ = x_ = 0;
    known_ = false;
  }
}

void Painter::EraseScreen() {
  SetPen(Renditions(), nullptr);
  out_.append(options_.preserve_scrollback ? kEraseKeepingScrollback : "\x1b[H\x1b[2J");
  y_ = x_ = 0;
  known_ = true;
  pending_ = false;
  screen_.EraseAll(Renditions());
}

void Painter::ScrollUp(int bottom, int lines) {
  const int last = screen_.height() - 1;
  BeginPaint(bottom);
  SetPen(Renditions(), nullptr);
  if (bottom == last) {
    MoveTo(last, pending_ || !known_ ? 0 : x_);
    out_.append(lines, '\n');
  } else {
    // DECSTBM homes the cursor on xterm, but not on every terminal: treat
    // the position as unknown afterwards, so the next move is absolute.
    absl::StrAppend(&out_, "\x1b[1;", bottom + 1, "r");
    known_ = false;
    MoveTo(bottom, 0);
    out_.append(lines, '\n');
    out_.append("\x1b[r");
    known_ = false;
  }
  screen_.ScrollUp(0, bottom, lines, Renditions());
}

bool Painter::PaintRows(const Framebuffer& to, size_t budget) {
  // Rows that stop wrapping first, top down (see ClearWrap).
  for (int y = 0; y < to.height(); ++y) {
    if (screen_.row(y).wrapped() && !to.row(y).wrapped()) ClearWrap(y);
  }
  for (int y = 0; y < to.height(); ++y) {
    PaintRow(y, to);
    if (out_.size() > budget) return false;
  }
  return true;
}

void Painter::PaintRow(int y, const Framebuffer& to) {
  const Row& want = to.row(y);
  if (force_row_ != y) force_x_ = -1;
  if (force_x_ < 0 && (screen_.shared_row(y) == to.shared_row(y) ||
                       screen_.row(y) == want)) {
    return;
  }
  // A row that starts to wrap must print its last cell, then row y+1's first.
  const bool start_wrap =
      want.wrapped() && !screen_.row(y).wrapped() && y + 1 < to.height();
  PaintCells(y, want, start_wrap ? LastCellStart(want) : -1);
  if (start_wrap) ContinueWrap(y, to.cell(y + 1, 0));
}

void Painter::PaintCells(int y, const Row& want, int must_print) {
  // Like mosh: the last cell of a wrapping row is always reached with an
  // absolute move, since terminals may disagree about the columns before.
  absolute_x_ = want.wrapped() ? LastCellStart(want) : -1;
  int run_begin = -1, run_end = -1;  // pending blanks; run_end: last changed
  Renditions run_renditions;
  for (int x = 0; x < want.width(); ++x) {
    const Cell& cell = want.cell(x);
    if (cell.is_continuation()) continue;
    const bool changed = x == force_x_ || x == must_print ||
                         cell != screen_.row(y).cell(x);
    const bool erasable = Erasable(cell);
    if (run_begin >= 0) {
      if (erasable && cell.renditions == run_renditions) {
        if (changed) run_end = x + 1;
        continue;
      }
      FlushRun(y, run_begin, run_end, run_renditions, want.wrapped());
      run_begin = -1;
    }
    if (!changed) continue;
    if (erasable) {
      run_begin = x, run_end = x + 1, run_renditions = cell.renditions;
    } else {
      DrawCell(y, x, cell);
    }
  }
  if (run_begin >= 0) {
    FlushRun(y, run_begin, run_end, run_renditions, want.wrapped());
  }
}

void Painter::ContinueWrap(int y, const Cell& next) {
  // The last column was just printed: the receiver is in pending wrap, so
  // printing row y+1's first cell wraps and marks row y as wrapped.
  assert(pending_ && y_ == y);
  SetPen(next.renditions, next.link);
  screen_.MutableRow(y)->set_wrapped(true);
  y_ = y + 1, x_ = 0, pending_ = false;
  PrintHere(y + 1, 0, next);
}

// A row stops wrapping: the whole row is erased (EL from its first column)
// and painted again. Terminals keep "this line continues" in different
// places: xterm and mosh drop it when the row's last column is erased, but
// tmux only when the whole line is cleared, and then it also drops the mark
// of the row above; so the row above is taken as not wrapping any more,
// and painted to wrap again if it should.
void Painter::ClearWrap(int y) {
  BeginPaint(y);
  MoveTo(y, 0);
  SetPen(Renditions(), nullptr);
  out_.append("\x1b[K");
  screen_.SetRow(y, Row(screen_.width()));
  if (y > 0 && screen_.row(y - 1).wrapped()) {
    screen_.MutableRow(y - 1)->set_wrapped(false);
  }
}

void Painter::FlushRun(int y, int begin, int end, const Renditions& r,
                       bool wrapped) {
  const int width = screen_.width();
  const int n = end - begin;
  const bool to_edge = end == width;
  const int ech_length = 3 + DecimalLength(n);
  const bool may_erase =
      options_.background_color_erase || r.bg.is_default();
  bool erase = false;
  if (to_edge && !wrapped) {
    // Always EL at the end of a row (as mosh): erased cells, unlike spaces,
    // are not copied by the terminal's copy-and-paste.
    erase = may_erase;
  } else if (!to_edge) {
    erase = may_erase && options_.erase_characters && n > 4 &&
            ech_length + CupLength(y, end) < n;
  }
  if (!erase) {
    Cell blank;
    blank.renditions = r;
    for (int x = begin; x < end; ++x) DrawCell(y, x, blank);
    return;
  }
  BeginPaint(y);
  MoveTo(y, begin);
  SetPen(r, nullptr);
  NoteCut(y, end);
  if (to_edge) {
    out_.append("\x1b[K");
  } else {
    absl::StrAppend(&out_, "\x1b[", n, "X");
  }
  Row* row = screen_.MutableRow(y);
  row->Erase(begin, end, r);
  if (to_edge) row->set_wrapped(false);
}

void Painter::DrawCell(int y, int x, const Cell& cell) {
  BeginPaint(y);
  EnsureAutowrap();
  if (x == absolute_x_) known_ = false;
  MoveTo(y, x);
  SetPen(cell.renditions, cell.link);
  PrintHere(y, x, cell);
}

void Painter::PrintHere(int y, int x, const Cell& cell) {
  NoteCut(y, x + cell.width);
  if (cell.text.empty()) {
    out_.push_back(' ');
  } else {
    out_.append(cell.text);
  }
  screen_.MutableRow(y)->Set(x, cell);
  x_ = x + cell.width;
  // Terminals disagree on how far a ZWJ sequence or an emoji presentation
  // selector advances the cursor (tmux draws 👨‍👩‍👧 in 4 columns, wcwidth says
  // 6): the next cell is positioned absolutely, so the damage stays in the
  // cell (docs/prediction.md §C.6).
  if (absl::StrContains(cell.text, "\xe2\x80\x8d") ||
      absl::StrContains(cell.text, "\xef\xb8\x8f")) {
    known_ = false;
  }
  if (x_ >= screen_.width()) {
    x_ = screen_.width() - 1;
    pending_ = true;
    // A wide character ending at the last column: xterm's cursor is then on
    // the last column, libvterm's on the character's first (both with the
    // wrap pending). The next move is absolute (docs/prediction.md §C.3).
    if (cell.width > 1) known_ = false;
  }
}

void Painter::NoteCut(int y, int end) {
  if (end < screen_.width() && screen_.cell(y, end).is_continuation()) {
    force_row_ = y;
    force_x_ = end;
  }
}

void Painter::BeginPaint(int y) {
  if (first_painted_row_ < 0) first_painted_row_ = y;
  if (y != first_painted_row_ && visible_) {
    // Painting several rows: hide the cursor so it does not flicker.
    out_.append("\x1b[?25l");
    visible_ = false;
  }
}

void Painter::EnsureAutowrap() {
  if (autowrap_) return;
  AppendDecMode(7, true, &out_);
  autowrap_ = true;
}

void Painter::MoveTo(int y, int x) {
  if (known_ && !pending_ && y == y_ && x == x_) return;
  int best = CupLength(y, x);
  int relative = -1;  // length of the relative motion, -1 if impossible
  // A CR ends a pending wrap in xterm, but not in libvterm 0.3.3 when its
  // cursor does not move: a wide character filling a 2-column line leaves
  // its cursor at column 0, pending. There CUP (which always ends it) is
  // used instead (docs/prediction.md §C.3).
  const bool cr_keeps_wrap = pending_ && screen_.width() <= 2;
  if (known_ && y >= y_ && !cr_keeps_wrap) {
    const int down = y - y_;
    if (x == 0) {
      relative = (pending_ || x_ != 0 ? 1 : 0) + down;
    } else if (!pending_ && x <= x_) {
      relative = down + (x_ - x);
    }
  }
  if (known_ && !pending_ && y == y_ && x > x_ &&
      ReprintLength(x, best) < best) {
    // Cheaper to print again what the receiver already shows there.
    for (int c = x_; c < x; c += screen_.cell(y, c).width) {
      const Cell& cell = screen_.cell(y, c);
      if (cell.text.empty()) {
        out_.push_back(' ');
      } else {
        out_.append(cell.text);
      }
    }
  } else if (relative >= 0 && relative <= best) {
    if (x == 0 && (pending_ || x_ != 0)) out_.push_back('\r');
    out_.append(y - y_, '\n');
    if (x != 0) out_.append(x_ - x, '\b');
  } else {
    AppendCup(y, x, &out_);
  }
  y_ = y, x_ = x;
  known_ = true;
  pending_ = false;
}

int Painter::ReprintLength(int x, int limit) const {
  int length = 0;
  for (int c = x_; c < x && length < limit; c += screen_.cell(y_, c).width) {
    const Cell& cell = screen_.cell(y_, c);
    if (cell.width == 0 || c + cell.width > x || cell.renditions != pen_ ||
        !SameLink(cell.link, link_)) {
      return limit;
    }
    length += cell.text.empty() ? 1 : static_cast<int>(cell.text.size());
  }
  return length;
}

void Painter::SetPen(const Renditions& r,
                     const std::shared_ptr<const Hyperlink>& l) {
  if (r != pen_) {
    AppendSgr(r, &out_);
    pen_ = r;
  }
  if (!SameLink(l, link_)) {
    AppendHyperlink(l, &out_);
    link_ = l;
  }
}

void Painter::Finish(const Framebuffer& from, const Framebuffer& to) {
  const Modes& was = from.modes();
  const Modes& want = to.modes();
  if (was.origin_mode != want.origin_mode) {
    AppendDecMode(6, want.origin_mode, &out_);
    y_ = x_ = 0;  // DECOM homes the cursor
    known_ = true;
    pending_ = false;
  }
  if (autowrap_ != want.autowrap) AppendDecMode(7, want.autowrap, &out_);
  const Cursor& cursor = to.cursor();
  if (!known_ || cursor.row != y_ || cursor.col != x_) {
    MoveTo(cursor.row, cursor.col);
  }
  SetPen(to.pen(), nullptr);
  if (visible_ != cursor.visible) AppendDecMode(25, cursor.visible, &out_);
  if (CursorStyleNumber(from.cursor()) != CursorStyleNumber(cursor)) {
    absl::StrAppend(&out_, "\x1b[", CursorStyleNumber(cursor), " q");
  }
  if (was.application_cursor_keys != want.application_cursor_keys) {
    AppendDecMode(1, want.application_cursor_keys, &out_);
  }
  if (was.application_keypad != want.application_keypad) {
    out_.append(want.application_keypad ? "\x1b=" : "\x1b>");
  }
  if (was.bracketed_paste != want.bracketed_paste) {
    AppendDecMode(2004, want.bracketed_paste, &out_);
  }
  AppendMultiMode(MouseModeNumber(was.mouse_tracking),
                  MouseModeNumber(want.mouse_tracking), &out_);
  AppendMultiMode(MouseEncodingNumber(was.mouse_encoding),
                  MouseEncodingNumber(want.mouse_encoding), &out_);
  if (was.focus_events != want.focus_events) {
    AppendDecMode(1004, want.focus_events, &out_);
  }
}

}  // namespace moshx::core
