// Hostile screens (docs/security.md §6): whatever an application prints,
// the server's screen stays within the screen budget, so the update that
// carries it stays under the receiver's instruction limit, and the screen
// keeps updating after it.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "core/diff.h"
#include "core/framebuffer.h"
#include "gtest/gtest.h"
#include "net/packet_format.h"
#include "term/emulator.h"
#include "term/screen_text.h"

namespace moshx::cmd {
namespace {

size_t LinkBytes(const core::Framebuffer& fb) {
  std::set<const core::Hyperlink*> seen;
  size_t bytes = 0;
  for (int y = 0; y < fb.height(); ++y) {
    for (int x = 0; x < fb.width(); ++x) {
      const core::Hyperlink* l = fb.cell(y, x).link.get();
      if (l != nullptr && seen.insert(l).second) bytes += l->uri.size() + l->id.size();
    }
  }
  return bytes;
}

size_t MarkBytes(const core::Framebuffer& fb) {
  size_t bytes = 0;
  for (int y = 0; y < fb.height(); ++y) {
    for (int x = 0; x < fb.width(); ++x) {
      const std::string& t = fb.cell(y, x).text;
      if (t.size() > 1) bytes += t.size() - 1;  // the tests' base is ASCII
    }
  }
  return bytes;
}

// 1100 cells, each under its own 4000-byte URI: 4.4 MB of links, more than
// a receiver takes in one update.
std::string HostileLinks() {
  std::string out;
  for (int i = 0; i < 1100; ++i) {
    std::string uri = absl::StrFormat("https://example.com/%05d/", i);
    uri.resize(4000, 'a');
    absl::StrAppend(&out, "\x1b]8;;", uri, "\x1b\\L\x1b]8;;\x1b\\");
  }
  return out;
}

TEST(ScreenBudgetTest, HostileLinksStayUnderTheReceiversLimitAndTheScreenUpdates) {
  term::Emulator emulator(80, 24);
  const core::Framebuffer blank = emulator.Snapshot();
  (void)emulator.Feed(HostileLinks());
  const core::Framebuffer hostile = emulator.Snapshot();
  EXPECT_LE(LinkBytes(hostile), core::kMaxScreenLinkBytes);
  EXPECT_GT(emulator.budget_cuts().links_dropped, 0u);
  const std::string update = core::Diff(blank, hostile);
  EXPECT_LT(update.size(), net::kMaxInstructionSize);
  // Every cell still shows its character; only links beyond the budget went.
  EXPECT_EQ(hostile.cell(0, 0).text, "L");
  EXPECT_EQ(hostile.cell(13, 59).text, "L");  // cell 1099
  // The screen keeps updating after it.
  (void)emulator.Feed("\r\n\x1b[2Kafter the links");
  const core::Framebuffer after = emulator.Snapshot();
  EXPECT_TRUE(absl::StrContains(term::ScreenText(after), "after the links"));
  EXPECT_LT(core::Diff(hostile, after).size(), net::kMaxInstructionSize);
  EXPECT_LE(LinkBytes(after), core::kMaxScreenLinkBytes);
}

TEST(ScreenBudgetTest, CombiningMarksBeyondTheBudgetAreDropped) {
  // The emulator keeps 5 marks (10 bytes) per cell: 400 x 200 such cells
  // carry 800 KB of marks.
  term::Emulator emulator(400, 200);
  const core::Framebuffer blank = emulator.Snapshot();
  std::string cell = "e";
  for (int i = 0; i < 5; ++i) cell += "\xcc\x81";  // U+0301, 2 bytes each
  std::string screen;
  for (int i = 0; i < 400 * 200 - 1; ++i) screen += cell;
  (void)emulator.Feed(screen);
  const core::Framebuffer marked = emulator.Snapshot();
  EXPECT_LE(MarkBytes(marked), core::kMaxScreenMarkBytes);
  EXPECT_GT(emulator.budget_cuts().marks_dropped, 0u);
  EXPECT_EQ(marked.cell(199, 100).text, "e");  // kept its base character
  EXPECT_EQ(marked.cell(0, 0).text, cell);       // within the budget: whole
  EXPECT_LT(core::Diff(blank, marked).size(), net::kMaxInstructionSize);
}

TEST(ScreenBudgetTest, ScreensWithinTheBudgetAreUntouched) {
  term::Emulator emulator(80, 24);
  (void)emulator.Feed("\x1b]8;id=a;https://example.com/\x1b\\link\x1b]8;;\x1b\\ e\xcc\x81");
  const core::Framebuffer fb = emulator.Snapshot();
  EXPECT_EQ(emulator.budget_cuts().links_dropped, 0u);
  EXPECT_EQ(emulator.budget_cuts().marks_dropped, 0u);
  ASSERT_NE(fb.cell(0, 0).link, nullptr);
  EXPECT_EQ(fb.cell(0, 0).link->uri, "https://example.com/");
  EXPECT_EQ(fb.cell(0, 5).text, "e\xcc\x81");
}

}  // namespace
}  // namespace moshx::cmd
