#include "cmd/launch/ssh.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;

TEST(SshTest, SplitsLikeAShell) {
  EXPECT_THAT(*SplitCommandLine("ssh -p 2222"), ElementsAre("ssh", "-p", "2222"));
  EXPECT_THAT(*SplitCommandLine("  ssh   -o 'ProxyCommand=nc %h %p'  "),
              ElementsAre("ssh", "-o", "ProxyCommand=nc %h %p"));
  EXPECT_THAT(*SplitCommandLine("ssh -i \"my key\" a\\ b"),
              ElementsAre("ssh", "-i", "my key", "a b"));
  EXPECT_THAT(*SplitCommandLine("a\"b\"'c'"), ElementsAre("abc"));
  EXPECT_THAT(*SplitCommandLine("x \"a\\\"b\\n\""), ElementsAre("x", "a\"b\\n"));
  EXPECT_THAT(*SplitCommandLine("x ''"), ElementsAre("x", ""));
}

TEST(SshTest, RejectsBrokenCommandLines) {
  for (const char* bad : {"", "   ", "ssh 'open", "ssh \"open", "ssh \\"}) {
    EXPECT_FALSE(SplitCommandLine(bad).ok()) << bad;
  }
}

TEST(SshTest, QuotesEveryWordForTheRemoteShell) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellJoin({"moshx", "serve", "--", "echo", "$HOME; rm -rf /"}),
            "'moshx' 'serve' '--' 'echo' '$HOME; rm -rf /'");
}

TEST(SshTest, QuotedWordsSplitBackToTheOriginals) {
  std::vector<std::string> words = {"a b", "it's", "\"q\"", "back\\slash", "$x", ""};
  EXPECT_EQ(*SplitCommandLine(ShellJoin(words)), words);
}

TEST(SshTest, BuildsArgvWithDestinationAndQuotedRemoteCommand) {
  EXPECT_THAT(BuildSshArgv({"ssh", "-p", "2222"}, "me@host", {"moshx", "serve", "-l", "LANG=C"}),
              ElementsAre("ssh", "-p", "2222", "-n", "-T", "--", "me@host",
                          "'moshx' 'serve' '-l' 'LANG=C'"));
}

TEST(SshTest, ArgvWithInputLeavesStdinToTheRemoteCommand) {
  EXPECT_THAT(BuildSshArgvWithInput({"ssh"}, "me@host", "'moshx' 'serve' '--ssh-bridge'"),
              ElementsAre("ssh", "-T", "-o", "IPQoS=lowdelay", "--", "me@host",
                          "'moshx' 'serve' '--ssh-bridge'"));
}

}  // namespace
}  // namespace moshx::cmd
