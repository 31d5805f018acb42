#include "core/notification_bar.h"

#include "gtest/gtest.h"

namespace moshx::core {
namespace {

using absl::Milliseconds;
using absl::Seconds;

constexpr char kHint[] = " [To quit: Ctrl-^ .]";

std::string RowText(const Framebuffer& fb, int y) {
  std::string s;
  for (int x = 0; x < fb.width(); ++x) {
    const Cell& c = fb.cell(y, x);
    if (c.is_continuation()) continue;
    s += c.is_blank() ? " " : c.text;
  }
  return s;
}

TEST(NotificationBarTest, NoBarWhileServerIsFresh) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  EXPECT_EQ(bar.Line(Milliseconds(6500)), "");
  EXPECT_EQ(bar.WaitTime(Seconds(1)), absl::InfiniteDuration());
}

TEST(NotificationBarTest, LastContactAfterSixAndAHalfSeconds) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.ServerAcked(Seconds(0));
  EXPECT_EQ(bar.Line(Milliseconds(6501)), std::string("mosh: Last contact 6 seconds ago.") + kHint);
  EXPECT_EQ(bar.Line(Seconds(13)), std::string("mosh: Last contact 13 seconds ago.") + kHint);
  EXPECT_EQ(bar.Line(Seconds(65)), std::string("mosh: Last contact 1:05 ago.") + kHint);
  EXPECT_EQ(bar.Line(Seconds(3605)), std::string("mosh: Last contact 1:00:05 ago.") + kHint);
}

TEST(NotificationBarTest, LastReplyWhenOnlyTheUplinkFails) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.ServerHeard(Seconds(16));  // heartbeats still arrive
  EXPECT_EQ(bar.Line(Seconds(17)), std::string("mosh: Last reply 17 seconds ago.") + kHint);
}

TEST(NotificationBarTest, MessageWithAndWithoutCountUp) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.SetMessage("Exiting on user request...", NotificationBar::Kind::kPermanent, Seconds(1));
  EXPECT_EQ(bar.Line(Seconds(2)), std::string("mosh: Exiting on user request...") + kHint);
  EXPECT_EQ(bar.Line(Seconds(7)),
            std::string("mosh: Exiting on user request... (7 s without contact.)") + kHint);
}

// moshx on the SSH path: every line the bar shows names it; no bar appears
// for the note alone, and without a note the lines stay mosh's.
TEST(NotificationBarTest, APathNoteNamesThePathInEveryLineItShows) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.set_path_note("via SSH");
  EXPECT_EQ(bar.Line(Seconds(1)), "");
  EXPECT_EQ(bar.Line(Seconds(13)),
            std::string("mosh: Last contact 13 seconds ago. [via SSH]") + kHint);
  bar.SetMessage("Exiting on user request...", NotificationBar::Kind::kPermanent, Seconds(14));
  EXPECT_EQ(bar.Line(Seconds(14)),
            std::string("mosh: Exiting on user request... (14 s without contact.) [via SSH]") +
                kHint);
  bar.SetMessage("help", NotificationBar::Kind::kPermanent, Seconds(14), /*with_quit_hint=*/false);
  bar.ServerHeard(Seconds(14));
  bar.ServerAcked(Seconds(14));
  EXPECT_EQ(bar.Line(Seconds(15)), "mosh: help [via SSH]");
  bar.set_path_note("");
  EXPECT_EQ(bar.Line(Seconds(15)), "mosh: help");
}

TEST(NotificationBarTest, EscapeHelpHasNoQuitHint) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.SetMessage("Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^",
                 NotificationBar::Kind::kPermanent, Seconds(0), /*with_quit_hint=*/false);
  EXPECT_EQ(bar.Line(Seconds(1)),
            "mosh: Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^");
}

TEST(NotificationBarTest, DisabledEscapeKeyMeansNoQuitHint) {
  NotificationBar bar("", Seconds(0));
  EXPECT_EQ(bar.Line(Seconds(7)), "mosh: Last contact 7 seconds ago.");
}

TEST(NotificationBarTest, TemporaryMessagesExpireAfterOneSecond) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.SetMessage("Crypto exception: Packet failed integrity check.",
                 NotificationBar::Kind::kTemporary, Seconds(1));
  EXPECT_NE(bar.Line(Milliseconds(1999)), "");
  EXPECT_EQ(bar.WaitTime(Milliseconds(1500)), Milliseconds(500));
  EXPECT_EQ(bar.Line(Seconds(2)), "");
}

TEST(NotificationBarTest, NetworkErrorsLastThreeSecondsUnlessSendsRecover) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.SetMessage("sendto: Network is unreachable", NotificationBar::Kind::kNetworkError,
                 Seconds(0));
  EXPECT_TRUE(bar.showing_network_error());
  EXPECT_NE(bar.Line(Milliseconds(3099)), "");
  EXPECT_EQ(bar.Line(Milliseconds(3100)), "");
  bar.SetMessage("sendto: Network is unreachable", NotificationBar::Kind::kNetworkError,
                 Seconds(10));
  bar.ServerHeard(Seconds(10));
  bar.ServerAcked(Seconds(10));
  bar.ClearNetworkError(Milliseconds(10200));
  EXPECT_NE(bar.Line(Milliseconds(11100)), "");
  EXPECT_EQ(bar.Line(Milliseconds(11200)), "");
}

TEST(NotificationBarTest, CountUpTicksEverySecondThenEveryThreeAfterAMinute) {
  NotificationBar bar("Ctrl-^", Seconds(0));
  EXPECT_EQ(bar.WaitTime(Seconds(7)), Seconds(1));
  EXPECT_EQ(bar.WaitTime(Seconds(61)), Seconds(3));
}

TEST(NotificationBarTest, DrawsWhiteOnBlueBoldTextAndHidesCursorOnRowZero) {
  Framebuffer fb(40, 3);
  fb.mutable_cursor()->row = 0;
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.Draw(Seconds(7), &fb);
  EXPECT_EQ(RowText(fb, 0), "mosh: Last contact 7 seconds ago. [To qu");
  EXPECT_FALSE(fb.cursor().visible);
  const Cell& text = fb.cell(0, 0);
  EXPECT_TRUE(text.renditions.has(Attribute::kBold));
  EXPECT_EQ(text.renditions.fg, Color::Ansi(7));
  EXPECT_EQ(text.renditions.bg, Color::Ansi(4));
  Framebuffer wide(80, 3);
  bar.Draw(Seconds(7), &wide);
  const Cell& pad = wide.cell(0, 79);
  EXPECT_TRUE(pad.is_blank());
  EXPECT_FALSE(pad.renditions.has(Attribute::kBold));
  EXPECT_EQ(pad.renditions.bg, Color::Ansi(4));
  EXPECT_EQ(RowText(wide, 1), std::string(80, ' '));
}

TEST(NotificationBarTest, DrawLeavesFramebufferAloneWithoutBar) {
  Framebuffer fb(20, 2);
  Framebuffer before = fb;
  NotificationBar bar("Ctrl-^", Seconds(0));
  bar.Draw(Seconds(1), &fb);
  EXPECT_TRUE(fb == before);
}

TEST(NotificationBarTest, WideCharactersInMessagesTakeTwoColumns) {
  Framebuffer fb(30, 2);
  NotificationBar bar("", Seconds(0));
  bar.SetMessage("日本", NotificationBar::Kind::kPermanent, Seconds(0));
  bar.Draw(Seconds(0), &fb);
  EXPECT_EQ(fb.cell(0, 6).text, "日");
  EXPECT_EQ(fb.cell(0, 6).width, 2);
  EXPECT_TRUE(fb.cell(0, 7).is_continuation());
  EXPECT_EQ(fb.cell(0, 8).text, "本");
}

}  // namespace
}  // namespace moshx::core
