#include "cmd/launch/terminal_safe.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(TerminalSafeTest, PrintableTextNewlinesTabsAndUtf8PassUnchanged) {
  EXPECT_EQ(TerminalSafe("/home/u/.local/bin/moshx: Permission denied\n\tnext"),
            "/home/u/.local/bin/moshx: Permission denied\n\tnext");
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 a\\b"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 a\\b");
}

TEST(TerminalSafeTest, EscapeSequencesAreWrittenOut) {
  // A retitle, a status query and a bell hidden in an error message.
  EXPECT_EQ(TerminalSafe("x\x1b]0;owned\x07y\x1b[6n\r"),
            "x\\x1b]0;owned\\x07y\\x1b[6n\\x0d");
  EXPECT_EQ(TerminalSafe(std::string("a\0b\x7f", 4)), "a\\x00b\\x7f");
}

TEST(TerminalSafeTest, C1ControlsAndMalformedUtf8AreWrittenOut) {
  EXPECT_EQ(TerminalSafe("\xc2\x9b" "31m"), "\\xc2\\x9b31m");  // CSI as UTF-8
  EXPECT_EQ(TerminalSafe("\x9b" "31m"), "\\x9b31m");           // CSI as one byte
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\xc0\\xaf");            // overlong '/'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");   // surrogate
  EXPECT_EQ(TerminalSafe("\xe2\x82"), "\\xe2\\x82");            // cut short
  EXPECT_EQ(TerminalSafe("\xc2\xa0"), "\xc2\xa0");              // U+00A0 is text
}

}  // namespace
}  // namespace moshx::cmd
