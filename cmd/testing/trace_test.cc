#include "cmd/testing/trace.h"

#include "gtest/gtest.h"

namespace moshx::cmd::testing {
namespace {

TEST(TraceTest, ParsesDirectivesAndKeys) {
  absl::StatusOr<Trace> t = ParseTrace(
      "# comment\n"
      "program bash --norc\n"
      "env PS1=$\\s\n"
      "size 100 30\n"
      "secret XYZ\n"
      "expect $\\s\n"
      "type 150 ab<left>\\r\xc3\xbc\n"
      "pause 500\n",
      "t");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->argv, (std::vector<std::string>{"bash", "--norc"}));
  EXPECT_EQ(t->env, std::vector<std::string>{"PS1=$ "});
  EXPECT_EQ(t->width, 100);
  EXPECT_EQ(t->height, 30);
  EXPECT_EQ(t->secret, "XYZ");
  ASSERT_EQ(t->steps.size(), 3u);
  EXPECT_EQ(t->steps[0].text, "$ ");
  EXPECT_EQ(t->steps[1].keys,
            (std::vector<std::string>{"a", "b", "\x1bOD", "\r", "\xc3\xbc"}));
  EXPECT_EQ(t->steps[1].gap, absl::Milliseconds(150));
  EXPECT_EQ(t->steps[2].gap, absl::Milliseconds(500));
  EXPECT_EQ(t->key_count(), 5);
}

TEST(TraceTest, RejectsBadLines) {
  EXPECT_FALSE(ParseTrace("type 10 a\n", "t").ok());                    // no program
  EXPECT_FALSE(ParseTrace("program sh\nfrobnicate\n", "t").ok());       // unknown
  EXPECT_FALSE(ParseTrace("program sh\ntype x a\n", "t").ok());         // bad ms
  EXPECT_FALSE(ParseTrace("program sh\ntype 5 <nokey>\n", "t").ok());   // unknown key
  EXPECT_FALSE(ParseTrace("program sh\ntype 5 \\q\n", "t").ok());       // bad escape
}

}  // namespace
}  // namespace moshx::cmd::testing
