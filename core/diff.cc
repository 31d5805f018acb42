#include "core/diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/escape.h"
#include "core/painter.h"

namespace moshx::core {
namespace {

// BELs, titles, clipboard and reverse video: the parts of a diff that do
// not touch the cursor or the pen.
void AppendHeader(const Framebuffer& from, const Framebuffer& to,
                  std::string* out) {
  if (to.bell_count() > from.bell_count()) {
    const uint64_t bells = to.bell_count() - from.bell_count();
    out->append(std::min<uint64_t>(bells, kMaxBells), '\x07');
  }
  const bool icon_changed = to.icon_name() != from.icon_name();
  const bool title_changed = to.title() != from.title();
  if ((icon_changed || title_changed) && to.icon_name() == to.title()) {
    absl::StrAppend(out, "\x1b]0;", StripControls(to.title()), "\x07");
  } else {
    if (icon_changed) {
      absl::StrAppend(out, "\x1b]1;", StripControls(to.icon_name()), "\x07");
    }
    if (title_changed) {
      absl::StrAppend(out, "\x1b]2;", StripControls(to.title()), "\x07");
    }
  }
  if (to.clipboard().has_value() && to.clipboard() != from.clipboard()) {
    absl::StrAppend(out, "\x1b]52;", StripControls(to.clipboard()->selection, ";"),
                    ";", StripControls(to.clipboard()->data), "\x07");
  }
  if (to.modes().reverse_video != from.modes().reverse_video) {
    absl::StrAppend(out, "\x1b[?5", to.modes().reverse_video ? "h" : "l");
  }
}

uint64_t HashRow(const Row& row) {
  uint64_t h = row.wrapped() ? 0x9E3779B97F4A7C15ull : 0x2545F4914F6CDD1Dull;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 0x100000001B3ull; };
  for (const Cell& cell : row.cells()) {
    for (char c : cell.text) mix(static_cast<unsigned char>(c));
    const Renditions& r = cell.renditions;
    mix((uint64_t{cell.width} << 8) | r.attributes);
    mix((uint64_t{static_cast<uint8_t>(r.fg.kind)} << 24) | (r.fg.r << 16) |
        (r.fg.g << 8) | r.fg.b);
    mix((uint64_t{static_cast<uint8_t>(r.bg.kind)} << 24) | (r.bg.r << 16) |
        (r.bg.g << 8) | r.bg.b);
    if (cell.link != nullptr) mix(cell.link->uri.size() + 1);
  }
  return h;
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

// Finds the upward scroll of the whole screen that saves the most painting:
// new row i == old row i + k for many costly rows that are not already in
// place.
ScrollPlan FindScroll(const Framebuffer& from, const Framebuffer& to) {
  const int height = to.height();
  std::vector<uint64_t> old_hash(height), new_hash(height);
  std::vector<int> cost(height);
  for (int y = 0; y < height; ++y) {
    old_hash[y] = HashRow(from.row(y));
    new_hash[y] = HashRow(to.row(y));
    const bool in_place =
        old_hash[y] == new_hash[y] && RowsEqual(from, y, to, y);
    cost[y] = in_place ? 0 : PaintCost(to.row(y));
  }
  ScrollPlan best;
  int best_gain = 0;
  for (int k = 1; k < height; ++k) {
    int gain = 0, last_match = -1;
    for (int i = 0; i + k < height; ++i) {
      if (cost[i] == 0 || new_hash[i] != old_hash[i + k]) continue;
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

std::string PaintCandidate(const Framebuffer& from, const Framebuffer& to,
                           int scroll_bottom, int scroll_lines) {
  Painter painter(from);
  if (scroll_lines > 0) painter.ScrollUp(scroll_bottom, scroll_lines);
  painter.PaintRows(to);
  painter.Finish(from, to);
  return painter.TakeOut();
}

}  // namespace

std::string Diff(const Framebuffer& from, const Framebuffer& to) {
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
    Painter painter(start);
    if (switched) {
      absl::StrAppend(&out, "\x1b[?1049", to.modes().alternate_screen ? "h" : "l");
      painter.ForgetCursor();
    }
    painter.EraseScreen();
    painter.PaintRows(to);
    painter.Finish(from, to);
    return out + painter.out();
  }
  std::string best = PaintCandidate(from, to, 0, 0);
  const ScrollPlan plan = FindScroll(from, to);
  if (plan.lines > 0) {
    const int last = to.height() - 1;
    std::vector<int> bottoms = {last};
    if (plan.last_match < last && !from.row(plan.last_match).wrapped()) {
      bottoms.push_back(plan.last_match);
    }
    for (int bottom : bottoms) {
      std::string candidate = PaintCandidate(from, to, bottom, plan.lines);
      if (candidate.size() < best.size()) best = std::move(candidate);
    }
  }
  return out + best;
}

}  // namespace moshx::core
