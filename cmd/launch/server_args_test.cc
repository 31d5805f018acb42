#include "cmd/launch/server_args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;

TEST(ServeArgumentsTest, PortLocaleAndCommand) {
  ConnectOptions o;
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve"));
  o.port = "60010:60020";
  o.locale = {{"LANG", "en_US.UTF-8"}, {"LC_TIME", "de_DE.UTF-8"}};
  o.command = {"top", "-d", "1"};
  EXPECT_THAT(ServeArguments(o),
              ElementsAre("serve", "--port-range", "60010:60020", "-l", "LANG=en_US.UTF-8", "-l",
                          "LC_TIME=de_DE.UTF-8", "--", "top", "-d", "1"));
}

TEST(ServeArgumentsTest, AttachAsksForTheSessionOnly) {
  ConnectOptions o;
  o.port = "60010:60020";
  o.locale = {{"LANG", "en_US.UTF-8"}};
  o.attach = "work";
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve", "--attach", "work"));
  o.attach = "";  // the most recently detached
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve", "--attach", ""));
  EXPECT_EQ(ServeCommandLine("'moshx'", o), "'moshx' 'serve' '--attach' ''");
  // --history only when not the default: an older remote still attaches.
  o.history = 50;
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve", "--attach", "", "--history", "50"));
}

// The bootstrap script decides on the bridge: $bridge (unquoted) follows
// every `serve`, and no --ssh-bridge word is written whatever the transport.
TEST(ServeArgumentsTest, BootstrapLeavesTheBridgeToTheScript) {
  ConnectOptions o;
  o.name = "w";
  o.command = {"echo", "--ssh-bridge"};  // the user's words stay as they are
  const std::string want =
      "\"$srv\" 'serve' $bridge '--attach' 'w' || "
      "\"$srv\" 'serve' $bridge '--name' 'w' '--' 'echo' '--ssh-bridge'";
  EXPECT_EQ(BootstrapServeCommandLine("\"$srv\"", o), want);
  o.transport = Transport::kSsh;
  EXPECT_EQ(BootstrapServeCommandLine("\"$srv\"", o), want);
  o.name.clear();
  o.command.clear();
  EXPECT_EQ(BootstrapServeCommandLine("\"$srv\"", o), "\"$srv\" 'serve' $bridge");
}

TEST(ServeArgumentsTest, SshTransportAsksEveryServeForTheBridge) {
  ConnectOptions o;
  o.transport = Transport::kSsh;
  o.name = "w";
  EXPECT_EQ(ServeCommandLine("'moshx'", o),
            "'moshx' 'serve' '--ssh-bridge' '--attach' 'w' || "
            "'moshx' 'serve' '--ssh-bridge' '--name' 'w'");
  o.transport = Transport::kUdp;
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve", "--name", "w"));
}

TEST(ServeArgumentsTest, NameAttachesOrElseStartsTheNamedSessionInOneCommandLine) {
  ConnectOptions o;
  o.name = "it's";
  o.locale = {{"LANG", "C.UTF-8"}};
  EXPECT_THAT(ServeArguments(o), ElementsAre("serve", "-l", "LANG=C.UTF-8", "--name", "it's"));
  EXPECT_EQ(ServeCommandLine("'moshx'", o),
            "'moshx' 'serve' '--attach' 'it'\\''s' || "
            "'moshx' 'serve' '-l' 'LANG=C.UTF-8' '--name' 'it'\\''s'");
  ConnectOptions plain;
  EXPECT_EQ(ServeCommandLine("'/opt/moshx'", plain), "'/opt/moshx' 'serve'");
}

TEST(MoshServerArgumentsTest, LikeTheMoshWrapper) {
  EXPECT_TRUE(IsMoshServerCommand({"mosh-server"}));
  EXPECT_TRUE(IsMoshServerCommand({"env", "X=1", "/usr/local/bin/mosh-server"}));
  EXPECT_FALSE(IsMoshServerCommand({"moshx"}));
  EXPECT_FALSE(IsMoshServerCommand({"mosh-server", "--foo"}));
  EXPECT_FALSE(IsMoshServerCommand({}));
  MoshServerRequest req;
  req.colors = 8;
  req.port = "60010:60020";
  req.locale = {{"LANG", "C.UTF-8"}};
  req.command = {"top", "-d", "1"};
  EXPECT_THAT(MoshServerArguments(req),
              ElementsAre("new", "-c", "8", "-s", "-p", "60010:60020", "-l", "LANG=C.UTF-8",
                          "--", "top", "-d", "1"));
  EXPECT_THAT(MoshServerArguments(MoshServerRequest{}), ElementsAre("new", "-c", "256", "-s"));
}

TEST(MoshServerArgumentsTest, AnUnknownTerminalAsksForZeroColours) {
  ConnectOptions o;
  o.term = "moshx-no-such-terminal";
  o.terminfo_dirs = {"/nonexistent"};
  o.locale = {{"LANG", "C.UTF-8"}};
  EXPECT_THAT(MoshServerArgumentsFor(o),
              ElementsAre("new", "-c", "0", "-s", "-l", "LANG=C.UTF-8"));
}

}  // namespace
}  // namespace moshx::cmd
