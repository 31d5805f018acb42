#include "core/diff.h"

#include <cstdio>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/test_screens.h"
#include "gtest/gtest.h"

namespace moshx::core {
namespace {

using testing::Describe;
using testing::EscapeDiff;
using testing::RandomScreen;
using testing::RandomSuccessor;
using testing::Rng;
using testing::WriteText;

// Checks Apply(a, Diff(a, b)) == b (after resizing a when sizes differ).
::testing::AssertionResult RoundTrips(
    const Framebuffer& a, const Framebuffer& b,
    const DiffOptions& options = DiffOptions()) {
  const std::string diff = Diff(a, b, options);
  // mosh's repertoire: ECH only for runs longer than 4 cells.
  static const std::regex kShortEch("\x1b\\[[1-4]X");
  if (std::regex_search(diff, kShortEch)) {
    return ::testing::AssertionFailure() << "short ECH in " << EscapeDiff(diff);
  }
  Framebuffer start = a;
  start.Resize(b.width(), b.height());
  absl::StatusOr<Framebuffer> applied = Apply(start, diff);
  if (!applied.ok()) {
    return ::testing::AssertionFailure()
           << applied.status() << "\ndiff: " << EscapeDiff(diff);
  }
  if (*applied != b) {
    return ::testing::AssertionFailure()
           << "diff: " << EscapeDiff(diff) << "\nfrom:\n" << Describe(a)
           << "want:\n" << Describe(b) << "got:\n" << Describe(*applied);
  }
  return ::testing::AssertionSuccess();
}

TEST(DiffTest, IdenticalFramebuffersGiveEmptyDiff) {
  Rng rng(1);
  for (int i = 0; i < 50; ++i) {
    Framebuffer f = RandomScreen(rng, 30, 10, 0.5);
    EXPECT_EQ(Diff(f, f), "");
    Framebuffer copy = f;
    EXPECT_EQ(Diff(f, copy), "");
  }
}

TEST(DiffTest, RandomPairsRoundTripExactly) {
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    Rng rng(seed);
    const int w = 1 + static_cast<int>(rng() % 40);
    const int h = 1 + static_cast<int>(rng() % 12);
    const Framebuffer a = RandomScreen(rng, w, h, (rng() % 100) / 100.0);
    const Framebuffer b = RandomSuccessor(rng, a);
    ASSERT_TRUE(a.Validate().ok()) << a.Validate();
    ASSERT_TRUE(b.Validate().ok()) << b.Validate();
    DiffOptions options;  // mostly the wire's, sometimes a poorer terminal
    options.background_color_erase = seed % 7 != 0;
    options.erase_characters = seed % 5 != 0;
    ASSERT_TRUE(RoundTrips(a, b, options)) << "seed " << seed;
  }
}

TEST(DiffTest, ChainsOfSuccessorsRoundTrip) {
  // Like a session: each frame is diffed against the previous one.
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng rng(1000000 + seed);
    Framebuffer a = RandomScreen(rng, 80, 24, 0.3);
    for (int frame = 0; frame < 10; ++frame) {
      Framebuffer b = RandomSuccessor(rng, a);
      ASSERT_TRUE(RoundTrips(a, b)) << "seed " << seed << " frame " << frame;
      a = std::move(b);
    }
  }
}

// Screens reached by applying random strings of the subset to a random
// screen (early wraps, combining marks, scroll regions, origin mode...) must
// round-trip too.
TEST(DiffTest, ScreensMadeByApplyRoundTrip) {
  static constexpr const char* kTokens[] = {
      "a", "Z", " ", "\xc3\xa9", "\xe4\xb8\xad", "\xcc\x81", "\r", "\n", "\b",
      "\x07", "\x1b[H", "\x1b[2;3H", "\x1b[9;99H", "\x1b[K", "\x1b[3X",
      "\x1b[2J", "\x1b[0;1;31m", "\x1b[0;38;5;100;48;2;1;2;3m", "\x1b[0m",
      "\x1b[1;2r", "\x1b[r", "\x1b[?6h", "\x1b[?6l", "\x1b[?7l", "\x1b[?7h",
      "\x1b[?25l", "\x1b[?1049h", "\x1b]0;t\x07", "\x1b]2;u\x07",
      "\x1b]52;c;x\x07", "\x1b]8;id=1;http://a\x1b\\", "\x1b]8;;\x1b\\",
      "\x1b[4 q", "\x1b=", "\x1b[?1003h", "\x1b[?1015h"};
  constexpr int kTokenCount = sizeof(kTokens) / sizeof(kTokens[0]);
  int applied_count = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    Rng rng(5000000 + seed);
    const int w = 1 + static_cast<int>(rng() % 12);
    const int h = 1 + static_cast<int>(rng() % 6);
    const Framebuffer a = RandomScreen(rng, w, h, 0.5);
    std::string input;
    for (int i = static_cast<int>(rng() % 40); i > 0; --i) {
      input += kTokens[rng() % kTokenCount];
    }
    absl::StatusOr<Framebuffer> b = Apply(a, input);
    if (!b.ok()) continue;  // e.g. a combining mark with nothing before it
    ++applied_count;
    ASSERT_TRUE(b->Validate().ok()) << b->Validate() << " seed " << seed;
    ASSERT_TRUE(RoundTrips(a, *b)) << "seed " << seed << " input "
                                   << EscapeDiff(input);
  }
  EXPECT_GT(applied_count, 1000);
}

TEST(DiffTest, OneCharacterChangeIsCheap) {
  Rng rng(7);
  size_t worst = 0, total = 0;
  constexpr int kCases = 2000;
  for (int i = 0; i < kCases; ++i) {
    Framebuffer a(80, 24);
    for (int y = 0; y < 24; ++y) WriteText(&a, y, "some text on a line $ ls -l");
    a.mutable_cursor()->row = static_cast<int>(rng() % 24);
    a.mutable_cursor()->col = static_cast<int>(rng() % 80);
    Framebuffer b = a;
    Cell cell;
    cell.text = "x";
    b.MutableRow(static_cast<int>(rng() % 24))->Set(static_cast<int>(rng() % 80), cell);
    const std::string diff = Diff(a, b);
    worst = std::max(worst, diff.size());
    total += diff.size();
    ASSERT_TRUE(RoundTrips(a, b));
  }
  std::printf("one-character diff: worst %zu bytes, mean %.2f bytes\n", worst,
              static_cast<double>(total) / kCases);
  // Worst case: CUP there (8 bytes), the character, CUP back (8 bytes).
  EXPECT_LE(worst, 17u);
  EXPECT_LE(total, 16u * kCases);  // measured mean: 15.76
}

TEST(DiffTest, TypingAtTheCursorCostsOneByte) {
  Framebuffer a(80, 24);
  WriteText(&a, 5, "$ ech");
  a.mutable_cursor()->row = 5;
  a.mutable_cursor()->col = 5;
  Framebuffer b = a;
  WriteText(&b, 5, "$ echo");
  b.mutable_cursor()->col = 6;
  EXPECT_EQ(Diff(a, b), "o");
}

TEST(DiffTest, FullScreenScrollCostsAboutOneLine) {
  Rng rng(11);
  for (int i = 0; i < 100; ++i) {
    Framebuffer a(80, 24);
    for (int y = 0; y < 24; ++y) {
      WriteText(&a, y, absl::StrCat("line ", rng() % 100000, " of some output text"));
    }
    a.mutable_cursor()->row = static_cast<int>(rng() % 24);
    Framebuffer b = testing::ScrolledWithText(a, 1, rng);
    const std::string diff = Diff(a, b);
    EXPECT_LE(diff.size(), 80u + 32u) << EscapeDiff(diff);
    ASSERT_TRUE(RoundTrips(a, b));
  }
}

TEST(DiffTest, ScrollIsSentAsLineFeeds) {
  Framebuffer a(20, 4);
  for (int y = 0; y < 4; ++y) WriteText(&a, y, absl::StrCat("row ", y));
  a.mutable_cursor()->row = 3;
  Framebuffer b = a;
  b.ScrollUp(0, 3, 2, Renditions());
  b.mutable_cursor()->row = 3;
  EXPECT_EQ(Diff(a, b), "\n\n");
  EXPECT_TRUE(RoundTrips(a, b));
}

TEST(DiffTest, ScrollAboveAStatusLineUsesARegion) {
  Framebuffer a(20, 6);
  for (int y = 0; y < 5; ++y) WriteText(&a, y, absl::StrCat("text line ", y));
  WriteText(&a, 5, "[status]");
  Framebuffer b = a;
  b.ScrollUp(0, 4, 1, Renditions());
  WriteText(&b, 4, "new");
  const std::string diff = Diff(a, b);
  EXPECT_NE(diff.find("\x1b[1;5r"), std::string::npos) << EscapeDiff(diff);
  EXPECT_TRUE(RoundTrips(a, b));
}

TEST(DiffTest, ClearingTheScreenUsesEraseDisplay) {
  Framebuffer a(80, 24);
  for (int y = 0; y < 24; ++y) WriteText(&a, y, absl::StrCat("output line ", y));
  a.mutable_cursor()->row = 23;
  Framebuffer b(80, 24);
  WriteText(&b, 0, "$ ");
  b.mutable_cursor()->col = 2;
  const std::string diff = Diff(a, b);
  EXPECT_EQ(diff, "\x1b[H\x1b[2J$ ");
  EXPECT_TRUE(RoundTrips(a, b));
}

TEST(DiffTest, BottomRightCornerDoesNotScroll) {
  Framebuffer a(10, 3);
  WriteText(&a, 2, "abcdefghi");
  Framebuffer b = a;
  WriteText(&b, 2, "abcdefghij");
  WriteText(&b, 0, "top");
  b.mutable_cursor()->row = 2;
  b.mutable_cursor()->col = 9;
  ASSERT_TRUE(RoundTrips(a, b));
  // And again from the pending-wrap position: the engine must not rely on it.
  Framebuffer c = b;
  WriteText(&c, 2, "abcdefghiX");
  WriteText(&c, 1, "mid");
  ASSERT_TRUE(RoundTrips(b, c));
  EXPECT_EQ(Diff(b, c).find('\b'), std::string::npos) << EscapeDiff(Diff(b, c));
}

TEST(DiffTest, OverwritingHalfAWideCharacter) {
  Framebuffer a(10, 2);
  WriteText(&a, 0, "a中文b");
  Framebuffer b = a;
  Cell x;
  x.text = "x";
  b.MutableRow(0)->Set(2, x);  // right half of 中: the left half goes blank
  ASSERT_TRUE(RoundTrips(a, b));
  Framebuffer c = a;
  c.MutableRow(0)->Set(3, x);  // left half of 文
  ASSERT_TRUE(RoundTrips(a, c));
  Framebuffer d = a;
  Cell wide;
  wide.text = "字";
  wide.width = 2;
  d.MutableRow(0)->Set(2, wide);  // straddles 中 and 文
  ASSERT_TRUE(RoundTrips(a, d));
}

TEST(DiffTest, WrappedRowsAreContinuedThroughAutowrap) {
  Framebuffer a(5, 3);
  Framebuffer b = a;
  WriteText(&b, 0, "hello");
  WriteText(&b, 1, "world");
  b.MutableRow(0)->set_wrapped(true);
  ASSERT_TRUE(RoundTrips(a, b));
  // Unwrapping needs the last column erased.
  Framebuffer c = b;
  c.MutableRow(0)->set_wrapped(false);
  ASSERT_TRUE(RoundTrips(b, c));
}

TEST(DiffTest, TitleModesCursorAndBell) {
  Framebuffer a(10, 2);
  Framebuffer b = a;
  b.set_title("t");
  b.set_icon_name("t");
  b.RingBell();
  b.mutable_modes()->bracketed_paste = true;
  b.mutable_modes()->mouse_tracking = MouseTracking::kButton;
  b.mutable_modes()->mouse_encoding = MouseEncoding::kSgr;
  b.mutable_cursor()->visible = false;
  b.mutable_cursor()->shape = CursorShape::kBar;
  b.set_clipboard({"p", "aGk="});
  EXPECT_EQ(Diff(a, b),
            "\x07\x1b]0;t\x07\x1b]52;p;aGk=\x07\x1b[?25l\x1b[5 q\x1b[?2004h"
            "\x1b[?1002h\x1b[?1006h");
  ASSERT_TRUE(RoundTrips(a, b));
  Framebuffer back = a;  // titles differ now, bells and clipboard stay
  back.set_title("t");
  back.set_icon_name("u");
  back.set_bell_count(1);
  back.set_clipboard(*b.clipboard());
  ASSERT_TRUE(RoundTrips(b, back));
}

// DECRC (part of CSI ? 1049 l) may restore a cursor style and visibility
// saved long ago: after a switch both are sent whatever `from` says.
TEST(DiffTest, AlternateScreenSwitchResendsCursorStyle) {
  Framebuffer a(10, 2);
  a.mutable_cursor()->blinking = false;
  a.mutable_modes()->alternate_screen = true;
  a.mutable_modes()->origin_mode = true;
  Framebuffer b = a;
  b.mutable_modes()->alternate_screen = false;
  b.mutable_modes()->origin_mode = true;
  const std::string diff = Diff(a, b);
  EXPECT_EQ(diff, "\x1b[?1049l\x1b[?6l\x1b[H\x1b[2J\x1b[?6h\x1b[?25h\x1b[2 q")
      << EscapeDiff(diff);
  EXPECT_TRUE(RoundTrips(a, b));
}

TEST(DiffTest, SgrIsAlwaysAbsolute) {
  Framebuffer a(10, 1);
  Framebuffer b = a;
  Cell cell;
  cell.text = "R";
  cell.renditions.set(kBold, true);
  cell.renditions.fg = Color::Ansi(7);
  cell.renditions.bg = Color::Ansi(4);
  b.MutableRow(0)->Set(0, cell);
  cell.text = "G";
  cell.renditions.set(kBold, false);
  cell.renditions.fg = Color::Rgb(1, 2, 3);
  cell.renditions.bg = Color::Indexed(200);
  b.MutableRow(0)->Set(1, cell);
  cell.text = "B";
  cell.renditions.fg = Color::Ansi(9);    // SGR 91
  cell.renditions.bg = Color::Indexed(9);  // 48;5;9: the same colour, asked otherwise
  b.MutableRow(0)->Set(2, cell);
  b.mutable_cursor()->col = 3;
  EXPECT_EQ(Diff(a, b),
            "\x1b[0;1;37;44mR\x1b[0;38;2;1;2;3;48;5;200mG\x1b[0;91;48;5;9mB\x1b[0m");
  absl::StatusOr<Framebuffer> applied = Apply(a, Diff(a, b));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, b);
}

TEST(DiffTest, BlankRunsUseEraseWhenShorter) {
  Framebuffer a(40, 2);
  WriteText(&a, 0, "0123456789012345678901234567890123456789");
  Framebuffer b = a;
  WriteText(&b, 0, "0123");
  b.mutable_cursor()->col = 4;
  EXPECT_EQ(Diff(a, b), "0123\x1b[K");  // reprinting 0123 beats a CUP
  ASSERT_TRUE(RoundTrips(a, b));
}

TEST(RepaintTest, DrawsTheWholeStateOnAnyScreen) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    Rng rng(9000000 + seed);
    const int w = 1 + static_cast<int>(rng() % 30);
    const int h = 1 + static_cast<int>(rng() % 10);
    const Framebuffer to = RandomScreen(rng, w, h, 0.6);
    Framebuffer x = RandomScreen(rng, w, h, 0.6);
    x.set_bell_count(to.bell_count());
    if (to.clipboard()) x.set_clipboard(*to.clipboard());
    if (!to.clipboard() && x.clipboard()) continue;
    x.mutable_modes()->alternate_screen = to.modes().alternate_screen;
    absl::StatusOr<Framebuffer> applied = Apply(x, Repaint(to));
    ASSERT_TRUE(applied.ok()) << applied.status();
    ASSERT_TRUE(*applied == to) << "seed " << seed << "\n"
                                << Describe(*applied) << Describe(to);
  }
}

TEST(DiffTest, InvalidCursorGivesAbsoluteMoves) {
  Framebuffer a(10, 3);
  a.mutable_cursor()->row = -4;
  a.mutable_cursor()->col = 99;
  Framebuffer b(10, 3);
  WriteText(&b, 1, "hi");
  b.mutable_cursor()->col = 2;
  EXPECT_EQ(Diff(a, b), "\x1b[2;1Hhi\x1b[1;3H");
}

TEST(DiffTest, OptionsForTerminalsWithoutBceOrEch) {
  Framebuffer a(40, 2);
  WriteText(&a, 0, "0123456789012345678901234567890123456789");
  Framebuffer b = a;
  Renditions blue;
  blue.bg = Color::Indexed(4);
  b.MutableRow(0)->Erase(2, 40, blue);  // coloured blanks to the end
  b.MutableRow(0)->Erase(0, 1, Renditions());
  DiffOptions no_bce;
  no_bce.background_color_erase = false;
  const std::string spaces = Diff(a, b, no_bce);
  EXPECT_EQ(spaces.find("\x1b[K"), std::string::npos) << EscapeDiff(spaces);
  EXPECT_TRUE(RoundTrips(a, b));  // the default (BCE) diff
  EXPECT_NE(Diff(a, b).find("\x1b[K"), std::string::npos);
  Framebuffer c = a;
  c.MutableRow(0)->Erase(5, 30, Renditions());
  DiffOptions no_ech;
  no_ech.erase_characters = false;
  EXPECT_NE(Diff(a, c).find('X'), std::string::npos);
  EXPECT_EQ(Diff(a, c, no_ech).find('X'), std::string::npos);
  for (const DiffOptions& options : {no_bce, no_ech}) {
    for (const Framebuffer* to : {&b, &c}) {
      absl::StatusOr<Framebuffer> applied = Apply(a, Diff(a, *to, options));
      ASSERT_TRUE(applied.ok());
      EXPECT_TRUE(*applied == *to);
    }
  }
}

TEST(ApplyTest, RejectsSequencesOutsideTheSubset) {
  Framebuffer f(10, 3);
  for (const char* bad : {"\x1b[c", "\x1b[5n", "\x1b[6n", "\x1b[>c", "\x1b[1J",
                          "\x1b[2K", "\x1b[L", "\x1bM", "\x1b[?47h", "\t",
                          "\x1b]52;c", "\xff", "\xc3", "\x1b", "\x1b[", "\xcc\x81"}) {
    EXPECT_FALSE(Apply(f, bad).ok()) << EscapeDiff(bad);
  }
}

// Host bytes as a real mosh-server 1.4 sends them (docs/protocol.md §13
// capture, and an uninitialised frame in mosh's repertoire,
// docs/prediction.md §C.2, §C.4).
TEST(ApplyTest, LenientApplySkipsUnknownSequencesAndKeepsTheRest) {
  Framebuffer fb(20, 3);
  // "a", an unknown CSI (DECSCA), an unknown ESC, malformed UTF-8, then "b".
  std::string diff = "a\x1b[1\"q\x1b#3\xff" "b";
  EXPECT_FALSE(Apply(fb, diff).ok());
  int skipped = 0;
  Framebuffer out = ApplyLenient(fb, diff, &skipped);
  EXPECT_EQ(out.cell(0, 0).text, "a");
  EXPECT_EQ(out.cell(0, 1).text, "b");
  EXPECT_EQ(skipped, 3);
  EXPECT_TRUE(ApplyLenient(fb, "", nullptr) == fb);
}

TEST(ApplyTest, AcceptsMoshServerHostBytes) {
  Framebuffer f(80, 24);
  absl::StatusOr<Framebuffer> r = Apply(f, "\x1b[?25l\nhi\x1b[?25h");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cell(1, 0).text, "h");
  EXPECT_EQ(r->cursor().col, 2);
  const char kInitFrame[] =
      "\x07\x1b]0;[title]\x07\x1b]52;c;aGk=\x07\x1b[?5l\x1b[r\x1b[0m\x1b[H"
      "\x1b[2J\x1b[?25l\x1b[0;1;37;44mX\x1b[0;38;5;10m\xc2\xa0\xcc\x81"
      "\x1b[2;1H\x1b[0m\x1b[10X\x1b[K\r\n\b\x1b[1;3r\x1b[3;1H\n\x1b[r"
      "\x1b[24;80H\x1b[?25h\x1b[0m\x1b[?2004l\x1b[?1003l\x1b[?1002l"
      "\x1b[?1001l\x1b[?1000l\x1b[?1004l\x1b[?1015l\x1b[?1006l\x1b[?1005l"
      "\x1b[?1001h";
  r = Apply(f, kInitFrame);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cell(0, 0).text, "");  // scrolled away by the region scroll
  EXPECT_EQ(r->modes().mouse_tracking, MouseTracking::kNormal);
  EXPECT_EQ(r->title(), "[title]");
  EXPECT_EQ(r->bell_count(), 1u);
  // A mosh "fallback" cell: NBSP carrying a combining mark.
  r = Apply(f, "\x1b[0;38;5;10m\xc2\xa0\xcc\x81");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cell(0, 0).text, "\xc2\xa0\xcc\x81");
  EXPECT_EQ(r->cell(0, 0).renditions.fg, Color::Indexed(10));
}

// A diff starts from the receiver's SGR being from.pen() and leaves it at
// to.pen() (SGR 0 for moshx's own frames; a mosh-server's frames end with
// the application's pen and rely on it in the next frame).
TEST(DiffTest, PenIsTheSgrAtTheBoundaries) {
  Framebuffer a(10, 2);
  Renditions red;
  red.fg = Color::Ansi(1);
  a.set_pen(red);
  Framebuffer b = a;
  Cell cell;
  cell.text = "r";
  cell.renditions = red;
  b.MutableRow(0)->Set(0, cell);
  b.mutable_cursor()->col = 1;
  EXPECT_EQ(Diff(a, b), "r");  // drawn with the pen the receiver already has
  Renditions blue;
  blue.bg = Color::Indexed(4);
  b.set_pen(blue);
  EXPECT_EQ(Diff(a, b), "r\x1b[0;48;5;4m");
  absl::StatusOr<Framebuffer> applied = Apply(a, Diff(a, b));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, b);
  applied = Apply(Framebuffer(10, 2), Repaint(b));
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, b);
}

TEST(ApplyTest, DropsCombiningMarksBeyondTheCellLimit) {
  std::string input = "a";
  for (int i = 0; i < 1000; ++i) input += "\xcc\x81";
  absl::StatusOr<Framebuffer> r = Apply(Framebuffer(4, 1), input);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LE(r->cell(0, 0).text.size(), kMaxCellTextBytes);
  EXPECT_GT(r->cell(0, 0).text.size(), kMaxCellTextBytes - 2);
  EXPECT_TRUE(r->Validate().ok());
}

// Regression (mosh interop): a zero-width character after a space, e.g.
// " " U+200B, is sent by mosh-server (and by moshx's Diff) as the space
// followed by the mark; rejecting it stalled the client for good.
TEST(ApplyTest, CombiningMarkOnABlankCellKeepsTheSpaceAsBase) {
  Framebuffer f(4, 1);
  absl::StatusOr<Framebuffer> r = Apply(f, " \xe2\x80\x8bz");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cell(0, 0).text, " \xe2\x80\x8b");
  EXPECT_EQ(r->cell(0, 1).text, "z");
  EXPECT_TRUE(r->Validate().ok());
  r = Apply(f, "\x1b[1;2H\xcc\x81");  // onto a never-written cell
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cell(0, 0).text, " \xcc\x81");
  absl::StatusOr<Framebuffer> back = Apply(f, Diff(f, *r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == *r);
}

TEST(ApplyTest, PendingWrapAndEarlyWrap) {
  Framebuffer f(3, 2);
  absl::StatusOr<Framebuffer> r = Apply(f, "abcd");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->row(0).wrapped());
  EXPECT_EQ(r->cell(1, 0).text, "d");
  r = Apply(f, "ab\xe4\xb8\xad");  // 中 does not fit in the last column
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cell(0, 2).is_blank());
  EXPECT_FALSE(r->row(0).wrapped());
  EXPECT_EQ(r->cell(1, 0).width, 2);
}

}  // namespace
}  // namespace moshx::core

namespace moshx::core {
namespace {

// Terminals disagree on the width of ZWJ emoji sequences: the cell after one
// is positioned absolutely instead of relying on the cursor's advance.
TEST(DiffTest, PositionsAbsolutelyAfterAZwjSequence) {
  Framebuffer from(20, 2);
  Framebuffer to(20, 2);
  Row* row = to.MutableRow(0);
  row->Set(0, Cell{"a", 1, {}, nullptr});
  // As an emulator stores 👨‍👩: the joiner is a zero-width mark on the first.
  row->Set(1, Cell{"\xf0\x9f\x91\xa8\xe2\x80\x8d", 2, {}, nullptr});
  row->Set(3, Cell{"\xf0\x9f\x91\xa9", 2, {}, nullptr});
  row->Set(5, Cell{"b", 1, {}, nullptr});
  std::string diff = Diff(from, to);
  // 👩 comes right after a CUP to row 1, column 4 (1-based); "b" follows it.
  EXPECT_NE(diff.find("\x1b[1;4H\xf0\x9f\x91\xa9" "b"), std::string::npos) << diff;
  auto applied = Apply(from, diff);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(*applied == to);
  // Plain combining marks keep relying on the advance (no extra CUP).
  Framebuffer plain(20, 2);
  plain.MutableRow(0)->Set(0, Cell{"e\xcc\x81", 1, {}, nullptr});
  plain.MutableRow(0)->Set(1, Cell{"x", 1, {}, nullptr});
  EXPECT_EQ(Diff(from, plain).find("\x1b[1;2H"), std::string::npos);
}

}  // namespace
}  // namespace moshx::core
