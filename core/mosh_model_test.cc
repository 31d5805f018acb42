#include "core/mosh_model.h"

#include "gtest/gtest.h"

namespace moshx::core {
namespace {

TEST(MoshModelTest, DropsFaintAndStrikethroughKeepsTheRest) {
  Renditions r;
  for (Attribute a : {kBold, kFaint, kItalic, kUnderline, kBlink, kInverse, kInvisible,
                      kStrikethrough}) {
    r.set(a, true);
  }
  const Renditions m = MoshRenditions(r);
  EXPECT_EQ(m.attributes, kBold | kItalic | kUnderline | kBlink | kInverse | kInvisible);
}

TEST(MoshModelTest, StoresColoursAsMoshDoes) {
  Renditions r;
  r.fg = Color::Indexed(1);  // 38;5;1 is drawn as 31 by mosh
  r.bg = Color::Ansi(9);     // 101 is drawn as 48;5;9
  Renditions m = MoshRenditions(r);
  EXPECT_EQ(m.fg, Color::Ansi(1));
  EXPECT_EQ(m.bg, Color::Indexed(9));
  r.fg = Color::Ansi(3);
  r.bg = Color::Indexed(200);
  m = MoshRenditions(r);
  EXPECT_EQ(m.fg, Color::Ansi(3));
  EXPECT_EQ(m.bg, Color::Indexed(200));
  r.fg = Color::Rgb(1, 2, 3);
  EXPECT_EQ(MoshRenditions(r).fg, Color::Rgb(1, 2, 3));
}

TEST(MoshModelTest, ConvertsEveryCellAndSharesUntouchedRows) {
  Framebuffer fb(4, 2);
  Cell cell;
  cell.text = "\xe4\xb8\xad";  // wide: its continuation follows
  cell.width = 2;
  cell.renditions.set(kFaint, true);
  cell.renditions.fg = Color::Ansi(12);
  fb.MutableRow(0)->Set(1, cell);
  const Framebuffer before = fb;
  ToMoshModel(&fb);
  EXPECT_EQ(fb.cell(0, 1).renditions.attributes, 0);
  EXPECT_EQ(fb.cell(0, 1).renditions.fg, Color::Indexed(12));
  EXPECT_EQ(fb.cell(0, 1).width, 2);
  EXPECT_TRUE(fb.Validate().ok());
  EXPECT_EQ(fb.shared_row(1), before.shared_row(1));
}

}  // namespace
}  // namespace moshx::core
