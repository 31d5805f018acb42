#include "term/renderer.h"

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "term/emulator.h"
#include "term/round_trip.h"
#include "term/vt_stream.h"

namespace moshx::term {
namespace {

// The user's terminal, played by an emulator: what it shows after the
// Renderer's bytes must be the frame (on the alternate screen).
class FakeTerminal {
 public:
  FakeTerminal(int width, int height) : terminal_(width, height) {}
  void Write(const std::string& bytes) {
    EXPECT_EQ(terminal_.Feed(bytes), "") << "the renderer made a query";
  }
  core::Framebuffer Shows() { return terminal_.Snapshot(); }
  void Resize(int width, int height) { terminal_.Resize(width, height); }

 private:
  Emulator terminal_;
};

// `frame` as the terminal should show it while the renderer is open.
core::Framebuffer AsDrawn(const core::Framebuffer& frame, bool alternate) {
  core::Framebuffer out = frame;
  out.mutable_modes()->alternate_screen = alternate;
  return out;
}

core::Framebuffer Screen(const std::string& bytes, int width = 20,
                         int height = 5) {
  Emulator e(width, height);
  (void)e.Feed(bytes);
  return e.Snapshot();
}

TEST(RendererTest, DrawsFramesOnTheAlternateScreen) {
  FakeTerminal terminal(20, 5);
  terminal.Write("user's shell\r\n$ ");
  Renderer renderer;
  terminal.Write(renderer.Open());
  const core::Framebuffer frame =
      Screen("\x1b]2;remote\x07\x1b[1;31mhello\x1b[0m\r\n\xe4\xb8\xad\x1b[?2004h");
  const std::string first = renderer.Draw(frame);
  terminal.Write(first);
  core::Framebuffer shown = terminal.Shows();
  shown.set_bell_count(frame.bell_count());
  EXPECT_EQ(DescribeDifference(AsDrawn(frame, true), shown), "");
  EXPECT_EQ(renderer.Draw(frame), "") << "nothing changed";
}

TEST(RendererTest, CloseRestoresTheTerminal) {
  FakeTerminal terminal(20, 5);
  terminal.Write("user's shell\r\n$ ");
  const core::Framebuffer before = terminal.Shows();
  Renderer renderer;
  terminal.Write(renderer.Open());
  terminal.Write(renderer.Draw(Screen(
      "\x1b[?1h\x1b=\x1b[?2004h\x1b[?1004h\x1b[?1003h\x1b[?1006h\x1b[?5h"
      "\x1b[?6h\x1b[?25l\x1b[6 q\x1b[41mX")));
  const std::string close = renderer.Close();
  terminal.Write(close);
  const core::Framebuffer after = terminal.Shows();
  EXPECT_EQ(DescribeDifference(before, after), "");
  EXPECT_EQ(after.modes(), core::Modes());
  EXPECT_TRUE(absl::StrContains(close, "\x1b[0 q"));
  EXPECT_TRUE(absl::StrContains(close, "\x1b[23;0t"));
}

TEST(RendererTest, InvalidateAndResizeRepaintEverything) {
  FakeTerminal terminal(20, 5);
  Renderer renderer;
  terminal.Write(renderer.Open());
  const core::Framebuffer frame = Screen("abc\r\ndef");
  terminal.Write(renderer.Draw(frame));
  terminal.Write("garbage from elsewhere");
  renderer.Invalidate();
  const std::string repaint = renderer.Draw(frame);
  EXPECT_TRUE(absl::StartsWith(repaint, "\x1b[r\x1b[0m\x1b[H\x1b[2J"));
  terminal.Write(repaint);
  EXPECT_EQ(DescribeDifference(AsDrawn(frame, true), terminal.Shows()), "");
  terminal.Resize(12, 3);
  const core::Framebuffer smaller = Screen("xyz", 12, 3);
  terminal.Write(renderer.Draw(smaller));
  EXPECT_EQ(DescribeDifference(AsDrawn(smaller, true), terminal.Shows()), "");
}

TEST(RendererTest, RepaintDoesNotReplayBellsOrClipboard) {
  Renderer renderer;
  const core::Framebuffer frame = Screen("\x07\x07\x1b]52;c;aGk=\x07");
  const std::string first = renderer.Draw(frame);
  EXPECT_FALSE(absl::StrContains(first, "\x07"));
  EXPECT_FALSE(absl::StrContains(first, "52;"));
  const core::Framebuffer rang = Screen("\x07\x07\x07\x1b]52;c;aGk=\x07");
  EXPECT_EQ(renderer.Draw(rang), "\x07");
}

TEST(RendererTest, WithoutAlternateScreenContinuesBelowTheLastFrame) {
  Renderer::Options options;
  options.alternate_screen = false;
  options.save_title = false;
  Renderer renderer(options);
  EXPECT_FALSE(absl::StrContains(renderer.Open(), "1049"));
  (void)renderer.Draw(Screen("x"));
  const std::string close = renderer.Close();
  EXPECT_FALSE(absl::StrContains(close, "1049"));
  EXPECT_TRUE(absl::EndsWith(close, "\x1b[5;1H\r\n"));
}

// The cells of `rows` as text, one line each, with the renditions of every
// non-default cell, for comparing history lines.
std::string Describe(const std::vector<core::Row>& rows) {
  std::string out;
  for (const core::Row& row : rows) {
    for (int x = 0; x < row.width(); ++x) {
      const core::Cell& c = row.cell(x);
      if (c.is_continuation()) continue;
      out += c.text.empty() ? " " : c.text;
      if (!c.renditions.is_default()) {
        out += "{" + std::to_string(c.renditions.attributes) + "," +
               std::to_string(static_cast<int>(c.renditions.fg.kind)) + ":" +
               std::to_string(c.renditions.fg.r) + "}";
      }
      if (c.link) out += "<" + c.link->uri + ">";
    }
    out += "\n";
  }
  return out;
}

Renderer HistoryRenderer() {
  Renderer::Options options;
  options.alternate_screen = false;
  options.save_title = false;
  options.write_history = true;
  return Renderer(options);
}

// Issue 14: frames never scroll lines into the terminal's scrollback, and
// the history lines pushed there arrive once, in order, with their
// renditions and links; the screen stays as drawn.
TEST(RendererTest, HistoryLinesReachTheScrollbackOnceAndTheScreenStays) {
  Emulator::Options keep;
  keep.scrollback_lines = 100000;
  Emulator source(20, 5, keep);
  Emulator terminal(20, 5, keep);
  Renderer renderer = HistoryRenderer();
  (void)terminal.Feed(renderer.Open());
  std::vector<core::Row> sent;
  std::mt19937 rng(9);
  std::string stream;
  for (int i = 1; i <= 400; ++i) {
    switch (rng() % 5) {
      case 0: stream += "\x1b[1;3" + std::to_string(i % 8) + "m" + std::to_string(i) + "\x1b[0m"; break;
      case 1: stream += "\x1b]8;;http://x/" + std::to_string(i) + "\x1b\\" + std::to_string(i) +
                        "\x1b]8;;\x1b\\"; break;
      case 2: stream += std::to_string(i) + " \xe4\xb8\xad\xe6\x96\x87 wide"; break;
      case 3: stream += std::to_string(i) + std::string(30, 'w'); break;  // wraps
      default: stream += std::to_string(i); break;
    }
    stream += "\r\n";
  }
  for (size_t pos = 0; pos < stream.size();) {
    const size_t n = std::uniform_int_distribution<size_t>(1, 300)(rng);
    (void)source.Feed(stream.substr(pos, n));
    pos += n;
    std::vector<core::Row> lines = source.TakeScrollback();
    sent.insert(sent.end(), lines.begin(), lines.end());
    const core::Framebuffer frame = source.Snapshot();
    EXPECT_EQ(terminal.Feed(renderer.Draw(frame, lines)), "");
    const std::string difference = DescribeDifference(AsDrawn(frame, false), terminal.Snapshot());
    ASSERT_EQ(difference, "") << "at byte " << pos;
  }
  ASSERT_GT(sent.size(), 400u);
  EXPECT_EQ(Describe(terminal.TakeScrollback()), Describe(sent));
}

// The shell lines above the cursor when the session starts (the command that
// started it) go into the terminal's scrollback, not away; the screen then
// shows the frame.
TEST(RendererTest, TheFirstFrameKeepsTheShellLinesInTheScrollback) {
  Emulator::Options keep;
  keep.scrollback_lines = 1000;
  for (const char* before : {"$ moshx connect h\r\n", "a\r\nb\r\nc\r\nd\r\n$ moshx connect h\r\n"}) {
    Emulator terminal(20, 5, keep);
    (void)terminal.Feed(before);
    (void)terminal.TakeScrollback();  // "a" scrolled off already
    std::vector<core::Row> expected;
    const core::Framebuffer shown = terminal.Snapshot();
    Renderer renderer = HistoryRenderer();
    (void)terminal.Feed(renderer.Open(5));
    const core::Framebuffer frame = Screen("remote$ ");
    EXPECT_EQ(terminal.Feed(renderer.Draw(frame, {})), "");
    EXPECT_EQ(DescribeDifference(AsDrawn(frame, false), terminal.Snapshot()), "");
    for (int y = 0; y <= shown.cursor().row; ++y) expected.push_back(shown.row(y));
    std::vector<core::Row> kept = terminal.TakeScrollback();
    EXPECT_EQ(Describe(kept), Describe(expected)) << before;
    // Later frames add nothing there.
    (void)terminal.Feed(renderer.Draw(Screen("remote$ ls\r\nx\r\ny\r\nz\r\nw\r\nv"), {}));
    EXPECT_TRUE(terminal.TakeScrollback().empty());
  }
}

TEST(RendererTest, HistoryLinesWiderThanTheScreenContinueOnTheNextRow) {
  Emulator::Options keep;
  keep.scrollback_lines = 100;
  Emulator terminal(6, 3, keep);
  Renderer renderer = HistoryRenderer();
  (void)terminal.Feed(renderer.Open());
  (void)terminal.Feed(renderer.Draw(Screen("$ ", 6, 3)));
  core::Row wide(10);
  const std::string text = "abcd";
  for (int i = 0; i < 4; ++i) {
    core::Cell c;
    c.text = text.substr(i, 1);
    wide.Set(i, c);
  }
  core::Cell han;
  han.text = "\xe4\xb8\xad";
  han.width = 2;
  wide.Set(5, han);  // columns 5-6: would straddle the edge of 6 columns
  core::Row narrow(3);
  core::Cell z;
  z.text = "z";
  narrow.Set(0, z);
  (void)terminal.Feed(renderer.PushToScrollback({wide, narrow}));
  EXPECT_EQ(Describe(terminal.TakeScrollback()), "abcd  \n\xe4\xb8\xad    \nz     \n");
  EXPECT_EQ(DescribeDifference(AsDrawn(Screen("$ ", 6, 3), false), terminal.Snapshot()), "");
  EXPECT_EQ(renderer.PushToScrollback({}), "");
  Renderer plain;
  (void)plain.Draw(Screen("$ ", 6, 3));
  EXPECT_EQ(plain.PushToScrollback({narrow}), "");  // alternate screen: nowhere to put them
}

// Every snapshot of every recorded stream, drawn in turn on a fake terminal.
TEST(RendererTest, FollowsRecordedSessions) {
  std::vector<std::string> paths;
  if (DIR* d = opendir("testdata/vt")) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".in")) paths.push_back("testdata/vt/" + name);
    }
    closedir(d);
  }
  ASSERT_FALSE(paths.empty());
  std::mt19937_64 rng(3);
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    const std::string stream((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    Emulator source(kDefaultWidth, kDefaultHeight);
    FakeTerminal terminal(kDefaultWidth, kDefaultHeight);
    Renderer renderer;
    terminal.Write(renderer.Open());
    for (const VtEvent& event : SplitVtStream(stream)) {
      if (event.is_resize) {
        source.Resize(event.width, event.height);
        terminal.Resize(event.width, event.height);
        continue;
      }
      for (size_t pos = 0; pos < event.bytes.size();) {
        const size_t n = std::uniform_int_distribution<size_t>(1, 500)(rng);
        (void)source.Feed(event.bytes.substr(pos, n));
        pos += n;
        const core::Framebuffer frame = source.Snapshot();
        terminal.Write(renderer.Draw(frame));
        core::Framebuffer shown = terminal.Shows();
        shown.set_bell_count(frame.bell_count());
        const std::string difference =
            DescribeDifference(AsDrawn(frame, true), shown);
        ASSERT_EQ(difference, "") << path << " at byte " << pos;
      }
    }
    terminal.Write(renderer.Close());
    EXPECT_FALSE(terminal.Shows().modes().alternate_screen);
  }
}

}  // namespace
}  // namespace moshx::term
