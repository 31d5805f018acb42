#include "cmd/launch/session_lines.h"

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(SessionLinesTest, ReadsTheSessionAndTheDetachedOnes) {
  SessionLines s = ParseSessionLines({"Welcome to the server", "MOSHX SESSION 3 work",
                                      "MOSHX DETACHED 1, 2 (play)", "MOSHX SESSION 9 other"});
  EXPECT_EQ(s.id, "3");
  EXPECT_EQ(s.name, "work");
  EXPECT_EQ(s.detached, "1, 2 (play)");
  EXPECT_EQ(DescribeSession(s), "session 3 (work)");
}

TEST(SessionLinesTest, UnnamedSessionAndNoDetachedOnes) {
  SessionLines s = ParseSessionLines({"MOSHX SESSION 4 -"});
  EXPECT_EQ(s.id, "4");
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.detached, "");
  EXPECT_EQ(DescribeSession(s), "session 4");
}

TEST(SessionLinesTest, ServersWithoutASessionHostPrintNeither) {
  SessionLines s = ParseSessionLines({"[moshx serve detached, pid = 42]", "MOSHX SESSION "});
  EXPECT_EQ(s.id, "");
  EXPECT_EQ(s.detached, "");
  EXPECT_EQ(DescribeSession(s), "");
}

}  // namespace
}  // namespace moshx::cmd
