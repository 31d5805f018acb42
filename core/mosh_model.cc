#include "core/mosh_model.h"

#include <utility>

namespace moshx::core {
namespace {

Color MoshColor(const Color& c) {
  if (c.kind == Color::Kind::kAnsi && c.index() >= 8) return Color::Indexed(c.index());
  if (c.kind == Color::Kind::kIndexed && c.index() < 8) return Color::Ansi(c.index());
  return c;
}

}  // namespace

Renditions MoshRenditions(const Renditions& r) {
  Renditions m = r;
  m.set(kFaint, false);
  m.set(kStrikethrough, false);
  m.fg = MoshColor(r.fg);
  m.bg = MoshColor(r.bg);
  return m;
}

void ToMoshModel(Framebuffer* fb) {
  for (int y = 0; y < fb->height(); ++y) {
    for (int x = 0; x < fb->width(); ++x) {
      const Cell& cell = fb->cell(y, x);
      if (cell.is_continuation()) continue;
      const Renditions mosh = MoshRenditions(cell.renditions);
      if (mosh == cell.renditions) continue;
      Cell changed = cell;
      changed.renditions = mosh;
      fb->MutableRow(y)->Set(x, std::move(changed));
    }
  }
  fb->set_pen(MoshRenditions(fb->pen()));
}

}  // namespace moshx::core
