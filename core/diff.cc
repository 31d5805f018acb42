#include "core/diff.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/escape.h"
#include "core/painter.h"

namespace moshx::core {
namespace {

// OSC 0 when icon name and title are equal, else OSC 1 and/or OSC 2, for
// what differs from the receiver's `icon` and `title`.
void AppendTitles(absl::string_view icon, absl::string_view title,
                  const Framebuffer& to, std::string* out) {
  const bool icon_changed = to.icon_name() != icon;
  const bool title_changed = to.title() != title;
  if ((icon_changed || title_changed) && to.icon_name() == to.title()) {
    absl::StrAppend(out, "\x1b]0;", StripControls(to.title()), "\x07");
    return;
  }
  if (icon_changed) {
    absl::StrAppend(out, "\x1b]1;", StripControls(to.icon_name()), "\x07");
  }
  if (title_changed) {
    absl::StrAppend(out, "\x1b]2;", StripControls(to.title()), "\x07");
  }
}

// BELs, titles, clipboard and reverse video: the parts of a diff that do
// not touch the cursor or the pen.
void AppendHeader(const Framebuffer& from, const Framebuffer& to,
                  std::string* out) {
  if (to.bell_count() > from.bell_count()) {
    const uint64_t bells = to.bell_count() - from.bell_count();
    out->append(std::min<uint64_t>(bells, kMaxBells), '\x07');
  }
  AppendTitles(from.icon_name(), from.title(), to, out);
  if (to.clipboard().has_value() && to.clipboard() != from.clipboard()) {
    absl::StrAppend(out, "\x1b]52;", StripControls(to.clipboard()->selection, ";"),
                    ";", StripControls(to.clipboard()->data), "\x07");
  }
  if (to.modes().reverse_video != from.modes().reverse_video) {
    absl::StrAppend(out, "\x1b[?5", to.modes().reverse_video ? "h" : "l");
  }
}

// Roughly what repainting a row costs: its non-blank cells.
int PaintCost(const Row& row) {
  int cost = 0;
  for (const Cell& cell : row.cells()) cost += cell.text.empty() ? 0 : 1;
  return cost;
}

bool RowsEqual(const Framebuffer& a, int ya, const Framebuffer& b, int yb) {
  return a.shared_row(ya) == b.shared_row(yb) || a.row(ya) == b.row(yb);
}

struct ScrollPlan {
  int lines = 0;         // 0: no useful scroll found
  int last_match = -1;   // the lowest old row that moved into place
};

// Finds the upward scroll of rows [0, ...] that saves the most painting:
// new row i == old row i + k for costly rows that are not already in place.
// Candidate k come from where the first two costly new rows appear in the
// old screen, so the search is O(height) row comparisons per candidate.
ScrollPlan FindScroll(const Framebuffer& from, const Framebuffer& to) {
  const int height = to.height();
  std::vector<int> cost(height, 0);
  std::vector<int> costly;
  for (int y = 0; y < height; ++y) {
    if (RowsEqual(from, y, to, y)) continue;
    cost[y] = PaintCost(to.row(y));
    if (cost[y] > 0) costly.push_back(y);
  }
  ScrollPlan best;
  if (costly.size() < 2) return best;  // a scroll moves at least two rows
  std::vector<int> candidates;
  for (size_t c = 0; c < 2; ++c) {
    const int i = costly[c];
    for (int j = i + 1; j < height; ++j) {
      if (RowsEqual(to, i, from, j)) candidates.push_back(j - i);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()),
                   candidates.end());
  int best_gain = 0;
  for (int k : candidates) {
    int gain = 0, last_match = -1;
    for (int i : costly) {
      if (i + k >= height) break;
      if (!RowsEqual(to, i, from, i + k)) continue;
      gain += cost[i];
      last_match = i + k;
    }
    if (gain > best_gain) {
      best_gain = gain;
      best.lines = k;
      best.last_match = last_match;
    }
  }
  return best;
}

// CSI ? 1049 h/l saves or restores the cursor (DECSC/DECRC), and with it,
// depending on the terminal, its visibility and style (libvterm) or origin
// mode (xterm), as they were at some earlier switch. The caller resets
// origin mode (CSI ? 6 l) right after the switch; here `start`, the
// receiver's believed state, gets a cursor visibility and style opposite to
// to's so that Finish() sends both.
void ForgetSavedCursorState(const Framebuffer& to, Framebuffer* start) {
  start->mutable_modes()->origin_mode = false;
  Cursor* cursor = start->mutable_cursor();
  cursor->visible = !to.cursor().visible;
  cursor->shape = to.cursor().shape;
  cursor->blinking = !to.cursor().blinking;
}

// How a candidate diff begins before painting rows.
struct Plan {
  int scroll_bottom = -1;  // scroll rows [0, scroll_bottom] ...
  int scroll_lines = 0;    // ... up by this many lines (0: no scroll)
  bool clear = false;      // CSI H CSI 2 J first
};

// The diff body for one plan, or nullopt once it grows past `budget` bytes.
std::optional<std::string> PaintCandidate(const Framebuffer& from,
                                          const Framebuffer& to,
                                          const DiffOptions& options,
                                          const Plan& plan, size_t budget) {
  Painter painter(from, options);
  if (plan.scroll_lines > 0) {
    painter.ScrollUp(plan.scroll_bottom, plan.scroll_lines);
  }
  if (plan.clear) painter.EraseScreen();
  if (!painter.PaintRows(to, budget)) return std::nullopt;
  painter.Finish(from, to);
  if (painter.out().size() > budget) return std::nullopt;
  return painter.TakeOut();
}

// True when clearing the display first may pay: most rows change and most
// of the new rows are blank (like after `clear` or Ctrl-L). Otherwise the
// clear would only add work, so the candidate is not computed at all.
bool ClearMayPay(const Framebuffer& from, const Framebuffer& to) {
  int changed = 0, blank = 0;
  for (int y = 0; y < to.height(); ++y) {
    if (RowsEqual(from, y, to, y)) continue;
    ++changed;
    const std::vector<Cell>& cells = to.row(y).cells();
    blank += std::all_of(cells.begin(), cells.end(), [](const Cell& c) {
      return c.text.empty() && c.width == 1 && c.renditions.is_default() &&
             c.link == nullptr;
    });
  }
  return to.height() > 1 && 2 * changed >= to.height() &&
         2 * blank >= to.height();
}

// The shortest of: painting the changed rows; scrolling first (when rows
// moved up); clearing the screen first (when most rows changed).
std::string ShortestBody(const Framebuffer& from, const Framebuffer& to,
                         const DiffOptions& options) {
  std::vector<Plan> plans;
  const ScrollPlan scroll =
      options.preserve_scrollback ? ScrollPlan() : FindScroll(from, to);
  if (scroll.lines > 0) {
    const int last = to.height() - 1;
    plans.push_back({last, scroll.lines, false});
    if (scroll.last_match < last && !from.row(scroll.last_match).wrapped()) {
      plans.push_back({scroll.last_match, scroll.lines, false});
    }
  }
  plans.push_back(Plan());
  if (ClearMayPay(from, to)) {
    plans.push_back({-1, 0, true});
  }
  std::optional<std::string> best;
  for (const Plan& plan : plans) {
    std::optional<std::string> candidate = PaintCandidate(
        from, to, options, plan, best ? best->size() - 1 : SIZE_MAX);
    if (candidate) best = std::move(candidate);
  }
  return std::move(*best);
}

}  // namespace

std::string Diff(const Framebuffer& from, const Framebuffer& to,
                 const DiffOptions& options) {
  if (from == to) return std::string();
  std::string out;
  AppendHeader(from, to, &out);
  const bool resized =
      from.width() != to.width() || from.height() != to.height();
  const bool switched =
      from.modes().alternate_screen != to.modes().alternate_screen;
  if (resized || switched) {
    Framebuffer start = from;
    start.Resize(to.width(), to.height());
    if (switched) {
      absl::StrAppend(&out, "\x1b[?1049", to.modes().alternate_screen ? "h" : "l",
                      "\x1b[?6l");
      ForgetSavedCursorState(to, &start);
    }
    Painter painter(start, options);
    if (switched) painter.ForgetCursor();
    painter.EraseScreen();
    painter.PaintRows(to);
    painter.Finish(start, to);
    return out + painter.out();
  }
  return out + ShortestBody(from, to, options);
}

std::string Repaint(const Framebuffer& to, const DiffOptions& options) {
  std::string out =
      "\x1b[r\x1b[0m\x1b]8;;\x1b\\\x1b[?6l\x1b[?7h\x1b[?25l"
      "\x1b[?9l\x1b[?1000l\x1b[?1002l\x1b[?1003l"
      "\x1b[?1005l\x1b[?1006l\x1b[?1015l";
  // Titles compared with values they cannot have, so both are sent.
  AppendTitles(absl::StrCat(to.icon_name(), "\x01"),
               absl::StrCat(to.title(), "\x01"), to, &out);
  absl::StrAppend(&out, "\x1b[?5", to.modes().reverse_video ? "h" : "l");
  // What the receiver is known to have after the resets above; every other
  // mode is set to the opposite of to's so that Finish() sends it.
  Framebuffer from(to.width(), to.height());
  from.set_title(to.title());
  from.set_icon_name(to.icon_name());
  Modes* modes = from.mutable_modes();
  *modes = Modes();
  modes->application_cursor_keys = !to.modes().application_cursor_keys;
  modes->application_keypad = !to.modes().application_keypad;
  modes->bracketed_paste = !to.modes().bracketed_paste;
  modes->focus_events = !to.modes().focus_events;
  modes->alternate_screen = to.modes().alternate_screen;
  modes->reverse_video = to.modes().reverse_video;
  Cursor* cursor = from.mutable_cursor();
  cursor->visible = false;
  cursor->shape = to.cursor().shape;
  cursor->blinking = !to.cursor().blinking;
  Painter painter(from, options);
  painter.EraseScreen();
  painter.PaintRows(to);
  painter.Finish(from, to);
  return out + painter.out();
}

}  // namespace moshx::core
