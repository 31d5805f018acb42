#include "cmd/client/escape_key.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

EscapeKeyProcessor Default() { return EscapeKeyProcessor(EscapeKeyConfig::FromEnvironment({})); }

TEST(EscapeKeyTest, DefaultIsCtrlCaretWithMoshsHelpText) {
  EscapeKeyConfig c = EscapeKeyConfig::FromEnvironment({});
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.key, 0x1E);
  EXPECT_EQ(c.key_name, "Ctrl-^");
  EXPECT_EQ(c.help, "Commands: Ctrl-Z suspends, \".\" quits, \"^\" gives literal Ctrl-^");
}

TEST(EscapeKeyTest, PlainBytesPassThrough) {
  EscapeKeyProcessor p = Default();
  InputActions a = p.Process("ls -l\r");
  EXPECT_EQ(a.to_send, "ls -l\r");
  EXPECT_FALSE(a.quit || a.suspend || a.show_help);
}

TEST(EscapeKeyTest, EscapeDotQuitsAndDropsTheRest) {
  EscapeKeyProcessor p = Default();
  InputActions a = p.Process("ab\x1e.cd");
  EXPECT_EQ(a.to_send, "ab");
  EXPECT_TRUE(a.quit);
}

TEST(EscapeKeyTest, EscapeSplitAcrossReadsShowsHelpThenActs) {
  EscapeKeyProcessor p = Default();
  InputActions first = p.Process("\x1e");
  EXPECT_TRUE(first.show_help);
  EXPECT_EQ(first.to_send, "");
  EXPECT_TRUE(p.waiting_for_command());
  InputActions second = p.Process(".");
  EXPECT_TRUE(second.quit);
  EXPECT_TRUE(second.clear_help);
}

TEST(EscapeKeyTest, PassKeySendsTheEscapeByteAndOtherKeysSendBoth) {
  EscapeKeyProcessor p = Default();
  EXPECT_EQ(p.Process("\x1e^").to_send, "\x1e");
  EXPECT_EQ(p.Process("\x1ex").to_send, "\x1ex");
}

TEST(EscapeKeyTest, CtrlZSuspends) {
  EscapeKeyProcessor p = Default();
  InputActions a = p.Process("\x1e\x1a" "after");
  EXPECT_TRUE(a.suspend);
  EXPECT_EQ(a.to_send, "after");
}

TEST(EscapeKeyTest, CtrlLRequestsRepaintAndIsStillSent) {
  EscapeKeyProcessor p = Default();
  InputActions a = p.Process("\x0c");
  EXPECT_TRUE(a.repaint);
  EXPECT_EQ(a.to_send, "\x0c");
}

TEST(EscapeKeyTest, EmptyVariableDisablesTheEscapeKey) {
  EscapeKeyProcessor p(EscapeKeyConfig::FromEnvironment(absl::string_view("")));
  EXPECT_FALSE(p.config().enabled);
  EXPECT_EQ(p.config().key_name, "");
  EXPECT_EQ(p.Process("\x1e.").to_send, "\x1e.");
}

TEST(EscapeKeyTest, ControlKeyFromEnvironmentUsesLetterAsPassKey) {
  EscapeKeyProcessor p(EscapeKeyConfig::FromEnvironment(absl::string_view("\x02")));
  EXPECT_EQ(p.config().key_name, "Ctrl-B");
  EXPECT_EQ(p.config().help, "Commands: Ctrl-Z suspends, \".\" quits, \"B\" gives literal Ctrl-B");
  EXPECT_EQ(p.Process("\x02" "b").to_send, "\x02");  // lowercase twin accepted
  EXPECT_EQ(p.Process("\x02" "B").to_send, "\x02");
}

TEST(EscapeKeyTest, RefusedKeysFallBackToDefault) {
  for (const char* v : {"\x03", "\x04", "\n", "\x0c", "\r", "ab", "\x7f\x7f"}) {
    EXPECT_EQ(EscapeKeyConfig::FromEnvironment(absl::string_view(v)).key, 0x1E) << int(v[0]);
  }
}

TEST(EscapeKeyTest, PrintableEscapeWorksOnlyAfterNewline) {
  EscapeKeyProcessor p(EscapeKeyConfig::FromEnvironment(absl::string_view("~")));
  EXPECT_EQ(p.config().key_name, "\"~\"");
  EXPECT_EQ(p.config().help, "Commands: Ctrl-Z suspends, \".\" quits, \"~\" gives literal \"~\"");
  EXPECT_EQ(p.Process("~.").to_send, "~.");  // no Enter yet
  InputActions a = p.Process("x\r~.");
  EXPECT_EQ(a.to_send, "x\r");
  EXPECT_TRUE(a.quit);
}

}  // namespace
}  // namespace moshx::cmd
