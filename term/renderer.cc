#include "term/renderer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/diff.h"

namespace moshx::term {
namespace {

// Every mode a frame can turn on, turned off (and autowrap and the cursor
// back on): the state Open() establishes and Close() restores.
constexpr char kDefaultModes[] =
    "\x1b[?1l"                                              // cursor keys
    "\x1b>"                                                 // keypad
    "\x1b[?2004l"                                           // bracketed paste
    "\x1b[?1004l"                                           // focus events
    "\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?9l"             // mouse tracking
    "\x1b[?1015l\x1b[?1006l\x1b[?1005l"                     // mouse encodings
    "\x1b[?5l"                                              // reverse video
    "\x1b[?6l"                                              // origin mode
    "\x1b[?7h"                                              // autowrap
    "\x1b[?25h"                                             // cursor visible
    "\x1b[4l"                                               // replace mode
    "\x1b(B\x0f"                                            // ASCII in G0, G0
    "\x1b[0m";                                              // SGR

// The frame as this Renderer draws it: never on the alternate screen, and
// the terminal left with SGR 0 between frames (a frame from mosh-server
// carries the application's pen for the next diff only: core/diff.h).
core::Framebuffer Drawable(const core::Framebuffer& frame) {
  core::Framebuffer out = frame;
  out.mutable_modes()->alternate_screen = false;
  out.set_pen(core::Renditions());
  return out;
}

}  // namespace

std::string Renderer::Open(int terminal_height) const {
  std::string out;
  // Line feeds from the terminal's cursor row push that row and every row
  // above it into the scrollback, so the user's shell lines stay there;
  // first, as resetting origin mode (below) homes the cursor.
  if (options_.write_history && !options_.alternate_screen && terminal_height > 0) {
    out += "\r" + std::string(terminal_height, '\n');
  }
  if (options_.save_title) out += "\x1b[22;0t";
  if (options_.alternate_screen) out += "\x1b[?1049h";
  out += kDefaultModes;
  return out;
}

std::string Renderer::Draw(const core::Framebuffer& frame) {
  core::Framebuffer next = Drawable(frame);
  if (next.cursor().shape != core::CursorShape::kBlock ||
      !next.cursor().blinking) {
    cursor_shape_changed_ = true;
  }
  std::string out;
  const bool repaint = !drawn_ || drawn_->width() != next.width() ||
                       drawn_->height() != next.height();
  if (repaint) {
    // A cleared screen in the state Open() (or the previous frame) left:
    // default modes, home cursor, and no bell or clipboard to replay.
    core::Framebuffer blank(next.width(), next.height());
    if (drawn_) {
      *blank.mutable_modes() = drawn_->modes();
      *blank.mutable_cursor() = drawn_->cursor();
      blank.mutable_cursor()->row = 0;
      blank.mutable_cursor()->col = 0;
    }
    blank.set_bell_count(next.bell_count());
    if (drawn_ && drawn_->clipboard()) blank.set_clipboard(*drawn_->clipboard());
    if (!drawn_ && next.clipboard()) blank.set_clipboard(*next.clipboard());
    if (drawn_) {
      blank.set_title(drawn_->title());
      blank.set_icon_name(drawn_->icon_name());
    }
    // With write_history the erase must not save the screen in the
    // terminal's scrollback (see core::DiffOptions::preserve_scrollback).
    out = options_.write_history ? "\x1b[r\x1b[0m\x1b[1;2H\x1b[J\x1b[H\x1b[K"
                                 : "\x1b[r\x1b[0m\x1b[H\x1b[2J";
    drawn_ = std::move(blank);
  }
  absl::StrAppend(&out, core::Diff(*drawn_, next, DiffOptions()));
  drawn_ = std::move(next);
  return out;
}

core::DiffOptions Renderer::DiffOptions() const {
  core::DiffOptions o;
  o.preserve_scrollback = options_.write_history;
  return o;
}

namespace {

// `line` as rows of exactly `width` columns (see PushToScrollback()).
void SplitRows(const core::Row& line, int width, std::vector<core::Row>* rows) {
  int used = line.width();
  while (used > 0) {
    const core::Cell& c = line.cell(used - 1);
    if (!c.text.empty() || c.is_continuation() || !c.renditions.is_default() || c.link) break;
    --used;
  }
  int col = 0;
  do {
    core::Row row(width);
    int x = 0;
    while (col < used && x < width) {
      const core::Cell& c = line.cell(col);
      const int w = c.width == 2 ? 2 : 1;
      if (c.is_continuation()) {  // a right half without its left: a blank
        core::Cell blank;
        blank.renditions = c.renditions;
        row.Set(x++, blank);
        ++col;
        continue;
      }
      if (x + w > width) {
        if (x == 0) {  // a wide character on a one-column screen: a blank
          ++col;
          ++x;
        }
        break;
      }
      row.Set(x, c);
      x += w;
      col += w;
    }
    rows->push_back(std::move(row));
  } while (col < used);
}

}  // namespace

std::string Renderer::Draw(const core::Framebuffer& frame,
                           const std::vector<core::Row>& history) {
  if (drawn_ && drawn_->width() == frame.width() && drawn_->height() == frame.height()) {
    std::string out = PushToScrollback(history);
    return out + Draw(frame);
  }
  std::string out = Draw(frame);
  return out + PushToScrollback(history);
}

std::string Renderer::PushToScrollback(const std::vector<core::Row>& lines) {
  if (!drawn_ || !options_.write_history || options_.alternate_screen || lines.empty()) {
    return std::string();
  }
  const core::Framebuffer shown = *drawn_;
  const int width = shown.width(), height = shown.height();
  std::vector<core::Row> rows;
  for (const core::Row& line : lines) SplitRows(line, width, &rows);
  std::string out;
  for (size_t first = 0; first < rows.size();) {
    const int n = static_cast<int>(std::min<size_t>(rows.size() - first, height));
    // Paint the lines over the top rows (the cursor, modes and pen end as
    // the diff leaves them: as drawn) ...
    core::Framebuffer painted = *drawn_;
    for (int y = 0; y < n; ++y) painted.SetRow(y, rows[first + y]);
    painted.mutable_cursor()->visible = false;  // no cursor flying over the rows
    absl::StrAppend(&out, core::Diff(*drawn_, painted, DiffOptions()));
    // ... and scroll them off: a whole-screen region, line feeds at the
    // bottom row, on the default background.
    absl::StrAppend(&out, "\x1b[r\x1b[0m\x1b[", height, ";1H", std::string(n, '\n'));
    painted.ScrollUp(0, height - 1, n, core::Renditions());
    core::Cursor* cursor = painted.mutable_cursor();
    cursor->row = height - 1;
    cursor->col = 0;
    drawn_ = std::move(painted);
    first += n;
  }
  absl::StrAppend(&out, core::Diff(*drawn_, shown, DiffOptions()));
  drawn_ = shown;
  return out;
}

std::string Renderer::Close() {
  std::string out = kDefaultModes;
  if (cursor_shape_changed_) out += "\x1b[0 q";
  if (options_.alternate_screen) {
    out += "\x1b[?1049l";
  } else if (drawn_) {
    // The last frame stays on screen: continue below it.
    absl::StrAppend(&out, "\x1b[", drawn_->height(), ";1H\r\n");
  }
  if (options_.save_title) out += "\x1b[23;0t";
  drawn_.reset();
  cursor_shape_changed_ = false;
  return out;
}

}  // namespace moshx::term
