#include "core/framebuffer.h"

#include "gtest/gtest.h"

namespace moshx::core {
namespace {

Cell Text(const char* text, int width = 1) {
  Cell cell;
  cell.text = text;
  cell.width = static_cast<uint8_t>(width);
  return cell;
}

TEST(FramebufferTest, NewFramebufferIsBlankAndValid) {
  Framebuffer fb(80, 24);
  EXPECT_EQ(fb.width(), 80);
  EXPECT_EQ(fb.height(), 24);
  EXPECT_TRUE(fb.cell(23, 79).is_blank());
  EXPECT_TRUE(fb.Validate().ok());
  EXPECT_EQ(fb, Framebuffer(80, 24));
  EXPECT_EQ(Framebuffer(0, -3).width(), 1);
}

TEST(FramebufferTest, CopiesAreIndependentValues) {
  Framebuffer a(10, 3);
  Framebuffer b = a;
  EXPECT_EQ(a.shared_row(1), b.shared_row(1));  // shared until written
  b.MutableRow(1)->Set(2, Text("x"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.cell(1, 2).is_blank());
  EXPECT_EQ(b.cell(1, 2).text, "x");
  EXPECT_EQ(a.shared_row(0), b.shared_row(0));
  a.MutableRow(1)->Set(2, Text("x"));
  EXPECT_EQ(a, b);  // equal by value with different row objects
  EXPECT_NE(a.shared_row(1), b.shared_row(1));
}

TEST(FramebufferTest, EqualityCoversEveryField) {
  const Framebuffer base(5, 2);
  auto differs = [&base](auto change) {
    Framebuffer other = base;
    change(other);
    return other != base;
  };
  EXPECT_TRUE(differs([](Framebuffer& f) { f.mutable_cursor()->col = 1; }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.mutable_cursor()->visible = false; }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.mutable_cursor()->shape = CursorShape::kBar; }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.mutable_modes()->autowrap = false; }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.mutable_modes()->application_keypad = true; }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.set_title("t"); }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.set_icon_name("i"); }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.RingBell(); }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.set_clipboard({"c", ""}); }));
  EXPECT_TRUE(differs([](Framebuffer& f) { f.MutableRow(0)->set_wrapped(true); }));
  EXPECT_TRUE(differs([](Framebuffer& f) {
    Cell c = Text("a");
    c.link = std::make_shared<Hyperlink>(Hyperlink{"", "u"});
    f.MutableRow(0)->Set(0, c);
  }));
  Framebuffer x = base, y = base;
  Cell c = Text("a");
  c.link = std::make_shared<Hyperlink>(Hyperlink{"i", "u"});
  x.MutableRow(0)->Set(0, c);
  c.link = std::make_shared<Hyperlink>(Hyperlink{"i", "u"});
  y.MutableRow(0)->Set(0, c);
  EXPECT_EQ(x, y);  // links compare by value
}

TEST(RowTest, SpaceIsStoredAsBlank) {
  Row row(3);
  row.Set(0, Text(" "));
  EXPECT_TRUE(row.cell(0).is_blank());
  EXPECT_TRUE(row.Validate().ok());
}

TEST(RowTest, WideCharactersStayWhole) {
  Row row(6);
  row.Set(1, Text("中", 2));
  EXPECT_EQ(row.cell(1).width, 2);
  EXPECT_TRUE(row.cell(2).is_continuation());
  EXPECT_TRUE(row.Validate().ok());
  row.Set(2, Text("x"));  // right half overwritten: left half blanked
  EXPECT_TRUE(row.cell(1).is_blank());
  EXPECT_EQ(row.cell(1).width, 1);
  EXPECT_TRUE(row.Validate().ok());
  row.Set(3, Text("文", 2));
  row.Set(2, Text("字", 2));  // overlaps the left half of 文
  EXPECT_TRUE(row.cell(4).is_blank());
  EXPECT_EQ(row.cell(4).width, 1);
  EXPECT_TRUE(row.Validate().ok());
  row.Set(5, Text("中", 2));  // does not fit in the last column
  EXPECT_TRUE(row.cell(5).is_blank());
  EXPECT_TRUE(row.Validate().ok());
  row.Erase(3, 4, Renditions());  // cuts 字 at cols 2-3
  EXPECT_TRUE(row.cell(2).is_blank());
  EXPECT_TRUE(row.Validate().ok());
}

TEST(FramebufferTest, ResizeTruncatesPadsAndClampsCursor) {
  Framebuffer fb(4, 3);
  fb.MutableRow(0)->Set(2, Text("中", 2));
  fb.MutableRow(0)->set_wrapped(true);
  fb.MutableRow(2)->Set(0, Text("z"));
  fb.mutable_cursor()->row = 2;
  fb.mutable_cursor()->col = 3;
  fb.Resize(3, 2);
  EXPECT_EQ(fb.width(), 3);
  EXPECT_EQ(fb.height(), 2);
  EXPECT_TRUE(fb.cell(0, 2).is_blank());  // the cut wide character
  EXPECT_FALSE(fb.row(0).wrapped());
  EXPECT_EQ(fb.cursor().row, 1);
  EXPECT_EQ(fb.cursor().col, 2);
  EXPECT_TRUE(fb.Validate().ok());
  fb.Resize(5, 4);
  EXPECT_TRUE(fb.cell(3, 4).is_blank());
  EXPECT_TRUE(fb.Validate().ok());
}

TEST(FramebufferTest, ScrollUpMovesRowsAndFillsBlank) {
  Framebuffer fb(3, 4);
  for (int y = 0; y < 4; ++y) fb.MutableRow(y)->Set(0, Text(y == 0 ? "a" : y == 1 ? "b" : y == 2 ? "c" : "d"));
  Renditions red;
  red.bg = Color::Indexed(1);
  fb.ScrollUp(0, 2, 1, red);
  EXPECT_EQ(fb.cell(0, 0).text, "b");
  EXPECT_EQ(fb.cell(1, 0).text, "c");
  EXPECT_TRUE(fb.cell(2, 0).is_blank());
  EXPECT_EQ(fb.cell(2, 1).renditions, red);
  EXPECT_EQ(fb.cell(3, 0).text, "d");
}

TEST(FramebufferTest, ValidateFindsBrokenInvariants) {
  Framebuffer fb(3, 2);
  fb.MutableRow(1)->set_wrapped(true);
  EXPECT_FALSE(fb.Validate().ok());
  Framebuffer g(3, 2);
  g.mutable_cursor()->col = 3;
  EXPECT_FALSE(g.Validate().ok());
  Row row(3);
  row.Set(0, Text("\xcc\x81"));  // a lone combining mark
  EXPECT_FALSE(row.Validate().ok());
  Framebuffer t(3, 2);
  t.set_title("a\x07" "b");
  EXPECT_FALSE(t.Validate().ok());
  Framebuffer c(3, 2);
  c.set_clipboard({"c;d", "x"});
  EXPECT_FALSE(c.Validate().ok());
  Row linked(3);
  Cell cell = Text("a");
  cell.link = std::make_shared<Hyperlink>(Hyperlink{"", ""});
  linked.Set(0, cell);
  EXPECT_FALSE(linked.Validate().ok());
}

}  // namespace
}  // namespace moshx::core
