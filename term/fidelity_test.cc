// Screen fidelity end to end (issue 17): real application bytes go into the
// server's emulator; what comes out is checked in the framebuffer, in the
// diff on the wire (moshx mode, and mosh mode as moshx-as-mosh-server sends
// it), in the client's copy (core::Apply) and in what the client's renderer
// writes to the user's terminal. The client side of a real mosh-server is
// fed HostBytes in the form mosh-server writes them.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "core/diff.h"
#include "core/framebuffer.h"
#include "core/mosh_model.h"
#include "gtest/gtest.h"
#include "term/emulator.h"
#include "term/renderer.h"

namespace moshx::term {
namespace {

using core::Color;
using core::Framebuffer;

enum class Mode { kMoshx, kMosh };

Framebuffer ServerScreen(absl::string_view bytes, int width = 80, int height = 24) {
  Emulator e(width, height);
  (void)e.Feed(bytes);
  return e.Snapshot();
}

// What the server sends for `fb` after a blank screen, in `mode`.
std::string WireDiff(const Framebuffer& fb, Mode mode) {
  Framebuffer sent = fb;
  if (mode == Mode::kMosh) core::ToMoshModel(&sent);
  return core::Diff(Framebuffer(fb.width(), fb.height()), sent);
}

// The client's copy after applying `diff` to a blank screen.
Framebuffer ClientCopy(const std::string& diff, int width, int height, Mode mode) {
  const Framebuffer blank(width, height);
  if (mode == Mode::kMosh) return core::ApplyLenient(blank, diff, nullptr);
  absl::StatusOr<Framebuffer> applied = core::Apply(blank, diff);
  EXPECT_TRUE(applied.ok()) << applied.status();
  return applied.ok() ? *applied : blank;
}

// What the client writes to the user's terminal for `fb`.
std::string Drawn(const Framebuffer& fb) {
  Renderer renderer;
  return renderer.Draw(fb);
}

// Every step of the pipeline for `bytes`: the server's screen, the client's
// copy (equal to what the server sent) and the renderer's output.
struct Pipeline {
  Framebuffer server;
  std::string wire;
  Framebuffer client;
  std::string drawn;
};

Pipeline RunPipeline(absl::string_view bytes, Mode mode, int width = 80, int height = 24) {
  Pipeline p{ServerScreen(bytes, width, height), "", Framebuffer(1, 1), ""};
  p.wire = WireDiff(p.server, mode);
  p.client = ClientCopy(p.wire, width, height, mode);
  Framebuffer sent = p.server;
  if (mode == Mode::kMosh) core::ToMoshModel(&sent);
  EXPECT_EQ(p.client, sent) << "client copy differs; wire: " << p.wire;
  p.drawn = Drawn(p.client);
  return p;
}

// Item 1: a line the application wrapped stays one line: the server marks
// the row, the diff prints through the terminal's own autowrap (no CR, LF
// or cursor move at the wrap point), the client's copy and the user's
// terminal get the same wrapped row.
TEST(FidelityTest, WrappedLineStaysOneLine) {
  const std::string line = std::string(60, 'a') + "\x1b[1m" + std::string(60, 'b') + "\x1b[0m";
  for (Mode mode : {Mode::kMoshx, Mode::kMosh}) {
    const Pipeline p = RunPipeline(line + "\r\nnext", mode);
    EXPECT_TRUE(p.server.row(0).wrapped());
    EXPECT_FALSE(p.server.row(1).wrapped());
    EXPECT_TRUE(p.client.row(0).wrapped());
    // The last cell of row 0 is reached absolutely (terminals may disagree
    // on the columns before it), then row 1's first cell is printed through
    // the terminal's pending autowrap: the terminal wraps the line itself.
    EXPECT_TRUE(absl::StrContains(p.wire, "\x1b[1;80Hbb")) << p.wire;
    EXPECT_TRUE(absl::StrContains(p.drawn, "\x1b[1;80Hbb")) << p.drawn;
  }
}

// Item 2: SGR 8 (concealed) reaches the client and the user's terminal.
TEST(FidelityTest, ConcealedTextStaysConcealed) {
  for (Mode mode : {Mode::kMoshx, Mode::kMosh}) {
    const Pipeline p = RunPipeline("\x1b[8msecret\x1b[28m shown", mode);
    EXPECT_TRUE(p.server.cell(0, 0).renditions.has(core::kInvisible));
    EXPECT_FALSE(p.server.cell(0, 7).renditions.has(core::kInvisible));
    EXPECT_TRUE(absl::StrContains(p.wire, "\x1b[0;8msecret")) << p.wire;
    EXPECT_TRUE(absl::StrContains(p.drawn, "\x1b[0;8msecret")) << p.drawn;
  }
}

// Item 3: a lone combining mark is sent as U+00A0 plus the mark, as mosh
// sends it (`printf 'abc\n\314\202\ndef\n'` through a pty).
TEST(FidelityTest, LoneCombiningMarkHasABase) {
  for (Mode mode : {Mode::kMoshx, Mode::kMosh}) {
    const Pipeline p = RunPipeline("abc\r\n\xcc\x82\r\ndef\r\n", mode);
    EXPECT_EQ(p.server.cell(1, 0).text, "\xc2\xa0\xcc\x82");
    EXPECT_TRUE(absl::StrContains(p.wire, "\xc2\xa0\xcc\x82")) << p.wire;
    EXPECT_EQ(p.client.cell(1, 0).text, "\xc2\xa0\xcc\x82");
    EXPECT_TRUE(absl::StrContains(p.drawn, "\xc2\xa0\xcc\x82")) << p.drawn;
  }
}

// Item 4: colours are drawn as they were asked for. In moshx mode SGR 90
// and 38;5;8 stay apart end to end; in mosh mode the server sends what
// mosh-server would (30-37 for 0-7, 38;5;N for the rest), and a client of
// mosh-server draws 38;5;8 as 38;5;8, not 90.
TEST(FidelityTest, SixteenColoursAsAsked) {
  const std::string bytes = "\x1b[90mA\x1b[38;5;8mB\x1b[38;5;1mC\x1b[31mD\x1b[48;5;12mE\x1b[0m";
  Pipeline p = RunPipeline(bytes, Mode::kMoshx);
  EXPECT_TRUE(absl::StrContains(p.drawn, "\x1b[0;90mA\x1b[0;38;5;8mB\x1b[0;38;5;1mC\x1b[0;31mD"
                                         "\x1b[0;31;48;5;12mE"))
      << p.drawn;
  p = RunPipeline(bytes, Mode::kMosh);
  EXPECT_TRUE(absl::StrContains(p.wire, "\x1b[0;38;5;8mAB\x1b[0;31mCD\x1b[0;31;48;5;12mE"))
      << p.wire;
  EXPECT_TRUE(absl::StrContains(p.drawn, "\x1b[0;38;5;8mAB\x1b[0;31mCD\x1b[0;31;48;5;12mE"))
      << p.drawn;
  // HostBytes as mosh-server writes them (absolute SGR, 38;5;N from 8 up).
  const Framebuffer client = core::ApplyLenient(
      Framebuffer(80, 24), "\x1b[0;38;5;8mX\x1b[0;38;5;15;48;5;9mY\x1b[0;33mZ\x1b[0m", nullptr);
  EXPECT_EQ(client.cell(0, 0).renditions.fg, Color::Indexed(8));
  EXPECT_TRUE(absl::StrContains(Drawn(client), "\x1b[0;38;5;8mX\x1b[0;38;5;15;48;5;9mY\x1b[0;33mZ"))
      << Drawn(client);
}

// Item 5: mosh-server ends a frame with the application's current SGR and
// leaves it out of the next frame for cells drawn with it (a frame boundary
// between an SGR and the text it colours). The client keeps that SGR from
// one frame to the next.
TEST(FidelityTest, PenCarriesOverBetweenMoshServerFrames) {
  const std::string pen = "\x1b[0;1;38;2;77;101;178;48;2;178;154;77m";
  Framebuffer client = core::ApplyLenient(Framebuffer(80, 24), "x" + pen, nullptr);
  client = core::ApplyLenient(client, "A\x1b[0m B", nullptr);
  const core::Renditions& a = client.cell(0, 1).renditions;
  EXPECT_EQ(a.fg, Color::Rgb(77, 101, 178));
  EXPECT_EQ(a.bg, Color::Rgb(178, 154, 77));
  EXPECT_TRUE(a.has(core::kBold));
  EXPECT_TRUE(client.cell(0, 3).renditions.is_default());
  EXPECT_TRUE(absl::StrContains(Drawn(client), pen + "A")) << Drawn(client);
  // The renderer leaves the user's terminal at SGR 0 between frames: a
  // frame whose pen no cell uses draws no such SGR.
  const std::string first = Drawn(core::ApplyLenient(Framebuffer(80, 24), "x" + pen, nullptr));
  EXPECT_FALSE(absl::StrContains(first, "38;2;77;101;178")) << first;
}

// Faint survives moshx mode end to end (mosh has no faint: mosh mode drops it,
// as mosh-server does).
TEST(FidelityTest, FaintInMoshxMode) {
  Pipeline p = RunPipeline("\x1b[2mdim\x1b[22m lit", Mode::kMoshx);
  EXPECT_TRUE(p.client.cell(0, 0).renditions.has(core::kFaint));
  EXPECT_TRUE(absl::StrContains(p.drawn, "\x1b[0;2mdim")) << p.drawn;
  p = RunPipeline("\x1b[2mdim\x1b[22m lit", Mode::kMosh);
  EXPECT_FALSE(p.client.cell(0, 0).renditions.has(core::kFaint));
}

// Every 256-colour index as foreground and background, and a line of
// truecolor cells with every attribute combination (fg and bg changing at
// every cell): each cell's SGR arrives exactly.
TEST(FidelityTest, EveryColourAndAttributeCombination) {
  std::string palette;
  for (int i = 0; i < 256; ++i) absl::StrAppend(&palette, "\x1b[38;5;", i, ";48;5;", 255 - i, "m#");
  const char* kAttrs[] = {"1", "2", "3", "4", "5", "7", "8", "9"};
  std::string truecolor = "\x1b[0m\r\n";
  for (int i = 0; i < 256; ++i) {
    std::string sgr = "0";
    for (int bit = 0; bit < 8; ++bit) {
      if (i & (1 << bit)) absl::StrAppend(&sgr, ";", kAttrs[bit]);
    }
    absl::StrAppendFormat(&truecolor, "\x1b[%s;38;2;%d;%d;%d;48;2;%d;%d;%dm%c", sgr,
                          (77 + i * 101) % 256, (101 + i * 53) % 256, (178 + i * 29) % 256,
                          (178 + i * 29) % 256, (154 + i * 17) % 256, (77 + i * 101) % 256,
                          'A' + i % 26);
  }
  for (Mode mode : {Mode::kMoshx, Mode::kMosh}) {
    const Pipeline p = RunPipeline(palette + truecolor, mode, 80, 12);
    for (int i = 0; i < 256; ++i) {
      const core::Cell& cell = p.client.cell(i / 80, i % 80);
      EXPECT_EQ(cell.renditions.fg,
                mode == Mode::kMosh && i < 8 ? Color::Ansi(i) : Color::Indexed(i));
      const int bg = 255 - i;
      EXPECT_EQ(cell.renditions.bg,
                mode == Mode::kMosh && bg < 8 ? Color::Ansi(bg) : Color::Indexed(bg));
    }
    for (int i = 0; i < 256; ++i) {
      const core::Cell& cell = p.client.cell(4 + i / 80, i % 80);
      uint8_t want = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (!(i & (1 << bit))) continue;
        static constexpr core::Attribute kBits[] = {
            core::kBold, core::kFaint, core::kItalic, core::kUnderline,
            core::kBlink, core::kInverse, core::kInvisible, core::kStrikethrough};
        want |= kBits[bit];
      }
      if (mode == Mode::kMosh) want &= ~(core::kFaint | core::kStrikethrough);
      EXPECT_EQ(cell.renditions.attributes, want) << i;
      EXPECT_EQ(cell.renditions.fg, Color::Rgb((77 + i * 101) % 256, (101 + i * 53) % 256,
                                               (178 + i * 29) % 256))
          << i;
    }
  }
}

}  // namespace
}  // namespace moshx::term
