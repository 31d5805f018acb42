#include "cmd/mosh_compat.h"

#include "cmd/sys/testing/terminfo_entry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::StartsWith;

using Env = std::map<std::string, std::string>;
constexpr char kKey[] = "AAECAwQFBgcICQoLDA0ODw";

ParsedCommandLine Server(std::vector<std::string> args, const Env& env = {}) {
  args.insert(args.begin(), "/usr/local/bin/mosh-server");
  return ParseMoshServerCommandLine(args, env);
}

ParsedCommandLine Client(std::vector<std::string> args, const Env& env = {{"MOSH_KEY", kKey}},
                         const std::vector<std::string>& dirs = {}) {
  args.insert(args.begin(), "/opt/bin/mosh-client");
  return ParseMoshClientCommandLine(args, env, dirs);
}

TEST(MoshCompatTest, PersonalityFollowsBasenameOfArgv0) {
  EXPECT_EQ(PersonalityOf("mosh-server"), Personality::kMoshServer);
  EXPECT_EQ(PersonalityOf("/opt/x/bin/mosh-server"), Personality::kMoshServer);
  EXPECT_EQ(PersonalityOf("./mosh-client"), Personality::kMoshClient);
  EXPECT_EQ(PersonalityOf("moshx"), Personality::kMoshx);
  EXPECT_EQ(PersonalityOf("/usr/bin/mosh-server-old"), Personality::kMoshx);
  EXPECT_EQ(PersonalityOf(""), Personality::kMoshx);
}

TEST(MoshServerCommandLineTest, NewWithAllOptionsMapsOntoServe) {
  ParsedCommandLine r = Server({"new", "-s", "-c", "256", "-p", "60100:60200", "-l",
                                "LANG=en_US.UTF-8", "-l", "LC_ALL=C.UTF-8", "-v", "-v", "--",
                                "bash", "-c", "echo hi"},
                               {{"SSH_CONNECTION", "10.0.0.9 50000 10.0.0.1 22"}});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kServe);
  const ServeOptions& o = r.serve;
  EXPECT_EQ(o.mode, net::WireMode::kMosh);
  EXPECT_TRUE(o.mosh_server);
  EXPECT_FALSE(o.foreground);
  EXPECT_EQ(o.term, "xterm-256color");
  EXPECT_EQ(o.bind_address, "10.0.0.1");
  EXPECT_EQ(o.port_range.low, 60100);
  EXPECT_EQ(o.port_range.high, 60200);
  EXPECT_THAT(o.environment,
              ElementsAre(Pair("LANG", "en_US.UTF-8"), Pair("LC_ALL", "C.UTF-8")));
  EXPECT_EQ(o.verbose, 2);
  EXPECT_THAT(o.command, ElementsAre("bash", "-c", "echo hi"));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(MoshServerCommandLineTest, AttachedAndClusteredOptionsLikeGetopt) {
  ParsedCommandLine r = Server({"new", "-p60005", "-c8", "-vi", "127.0.0.1", "-@", "new"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.serve.port_range.low, 60005);
  EXPECT_EQ(r.serve.port_range.high, 60005);
  EXPECT_EQ(r.serve.term, "xterm");
  EXPECT_EQ(r.serve.verbose, 1);
  EXPECT_EQ(r.serve.bind_address, "127.0.0.1");
  EXPECT_THAT(r.serve.command, IsEmpty());  // -@ swallowed its argument
}

TEST(MoshServerCommandLineTest, DefaultsWithoutOptions) {
  ParsedCommandLine r = Server({"new"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun);
  EXPECT_EQ(r.serve.term, "xterm");
  EXPECT_EQ(r.serve.bind_address, "0.0.0.0");
  EXPECT_EQ(r.serve.port_range.low, 60001);
  EXPECT_EQ(r.serve.port_range.high, 60999);
  EXPECT_THAT(r.serve.command, IsEmpty());
  // Nothing after "--": the login shell.
  EXPECT_THAT(Server({"new", "--"}).serve.command, IsEmpty());
}

TEST(MoshServerCommandLineTest, HelpAndVersionArePrescannedUntilDoubleDash) {
  for (const char* flag : {"--help", "-h"}) {
    ParsedCommandLine r = Server({"new", "-s", flag});
    EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("Usage: /usr/local/bin/mosh-server new [-s] [-v] [-i LOCALADDR]"));
  }
  ParsedCommandLine v = Server({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, StartsWith("mosh-server (moshx "));
  // After "--" they belong to the command.
  ParsedCommandLine c = Server({"new", "--", "ls", "--help"});
  ASSERT_EQ(c.action, ParsedCommandLine::Action::kRun);
  EXPECT_THAT(c.serve.command, ElementsAre("ls", "--help"));
}

TEST(MoshServerCommandLineTest, BadColorsIsFatalWithMoshText) {
  ParsedCommandLine r = Server({"new", "-c", "lots"});
  EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("/usr/local/bin/mosh-server: Bad number of colors (lots)\n"
                                "Usage: /usr/local/bin/mosh-server new"));
}

TEST(MoshServerCommandLineTest, BadPortIsFatalWithMoshTexts) {
  ParsedCommandLine r = Server({"new", "-p", "61000:60000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("Low port 61000 greater than high port 60000\n"
                               "/usr/local/bin/mosh-server: Bad UDP port range (61000:60000)\n"
                               "Usage:"));
  EXPECT_THAT(Server({"new", "-p", "abc"}).err,
              StartsWith("Invalid (low) port number (abc)\n/usr/local/bin/mosh-server: Bad UDP "
                         "port range (abc)"));
  EXPECT_THAT(Server({"new", "-p", "70000"}).err,
              StartsWith("(Low) port number 70000 outside valid range [0..65535]\n"));
  EXPECT_THAT(Server({"new", "-p", "0:100"}).err, HasSubstr("Bad UDP port range (0:100)"));
}

TEST(MoshServerCommandLineTest, UnknownOptionPrintsUsageButStillRuns) {
  ParsedCommandLine r = Server({"new", "-x", "-s"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0],
              HasSubstr("new: invalid option -- 'x'\nUsage: /usr/local/bin/mosh-server new"));
  EXPECT_EQ(r.warnings[1], "Warning: SSH_CONNECTION not found; binding to any interface.");
}

TEST(MoshServerCommandLineTest, SshConnectionForms) {
  ParsedCommandLine mapped =
      Server({"new", "-s"}, {{"SSH_CONNECTION", "::ffff:10.1.1.1 4000 ::ffff:10.1.1.2 22"}});
  EXPECT_EQ(mapped.serve.bind_address, "10.1.1.2");
  ParsedCommandLine bad = Server({"new", "-s"}, {{"SSH_CONNECTION", "garbage"}});
  EXPECT_EQ(bad.serve.bind_address, "0.0.0.0");
  EXPECT_THAT(bad.warnings,
              ElementsAre("Warning: Could not parse SSH_CONNECTION; binding to any interface."));
}

TEST(MoshServerCommandLineTest, LegacyForms) {
  ParsedCommandLine none = Server({});
  ASSERT_EQ(none.action, ParsedCommandLine::Action::kRun);
  EXPECT_EQ(none.serve.mode, net::WireMode::kMosh);
  ParsedCommandLine ip = Server({"127.0.0.1"});
  EXPECT_EQ(ip.serve.bind_address, "127.0.0.1");
  ParsedCommandLine ip_port = Server({"127.0.0.1", "60444"});
  EXPECT_EQ(ip_port.serve.port_range.low, 60444);
  EXPECT_EQ(ip_port.serve.port_range.high, 60444);
  ParsedCommandLine too_many = Server({"a", "b", "c"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_THAT(too_many.err, StartsWith("Usage: /usr/local/bin/mosh-server new"));
}

TEST(MoshServerCommandLineTest, TimeoutVariablesWithMoshWarnings) {
  ParsedCommandLine r = Server({"new"}, {{"MOSH_SERVER_NETWORK_TMOUT", "30"},
                                         {"MOSH_SERVER_SIGNAL_TMOUT", "x"}});
  EXPECT_EQ(r.serve.network_timeout, absl::Seconds(30));
  EXPECT_EQ(r.serve.signal_timeout, absl::ZeroDuration());
  EXPECT_THAT(r.warnings, ElementsAre("MOSH_SERVER_SIGNAL_TMOUT not a valid integer, ignoring"));
  ParsedCommandLine neg = Server({"new"}, {{"MOSH_SERVER_NETWORK_TMOUT", "-4"}});
  EXPECT_THAT(neg.warnings, ElementsAre("MOSH_SERVER_NETWORK_TMOUT is negative, ignoring"));
}

TEST(MoshClientCommandLineTest, IpPortAndEnvironment) {
  ParsedCommandLine r = Client({"-#", "mosh host |", "127.0.0.1", "60001"},
                               {{"MOSH_KEY", kKey},
                                {"MOSH_PREDICTION_DISPLAY", "never"},
                                {"MOSH_PREDICTION_OVERWRITE", "yes"}});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kClient);
  EXPECT_EQ(r.client.mode, net::WireMode::kMosh);
  EXPECT_EQ(r.client.ip, "127.0.0.1");
  EXPECT_EQ(r.client.port, 60001);
  EXPECT_EQ(r.client.terminal.predict, core::PredictionDisplay::kNever);
  EXPECT_TRUE(r.client.terminal.predict_overwrite);
  EXPECT_EQ(r.client.terminal.title_prefix, "[mosh] ");
  EXPECT_EQ(r.client.mosh_key, kKey);
  ParsedCommandLine plain =
      Client({"-v", "::1", "5"}, {{"MOSH_KEY", kKey}, {"MOSH_TITLE_NOPREFIX", ""}});
  ASSERT_EQ(plain.action, ParsedCommandLine::Action::kRun);
  EXPECT_EQ(plain.client.terminal.title_prefix, "");
  EXPECT_EQ(plain.client.terminal.predict, core::PredictionDisplay::kAdaptive);
}

TEST(MoshClientCommandLineTest, ErrorsUseMoshTexts) {
  ParsedCommandLine port = Client({"127.0.0.1", "abc"});
  EXPECT_EQ(port.exit_code, 1);
  EXPECT_THAT(port.err, StartsWith("/opt/bin/mosh-client: Bad UDP port (abc)\n\nmosh-client ("));
  EXPECT_THAT(port.err, HasSubstr("Usage: /opt/bin/mosh-client [-# 'ARGS'] IP PORT\n"));
  ParsedCommandLine count = Client({"1", "2", "3"});
  EXPECT_EQ(count.exit_code, 1);
  EXPECT_THAT(count.err, HasSubstr("Usage: /opt/bin/mosh-client"));
  ParsedCommandLine option = Client({"-x", "1", "2"});
  EXPECT_EQ(option.exit_code, 1);
  EXPECT_THAT(option.err, StartsWith("/opt/bin/mosh-client: invalid option -- 'x'\n"));
  ParsedCommandLine nokey = Client({"127.0.0.1", "60001"}, {});
  EXPECT_EQ(nokey.exit_code, 1);
  EXPECT_EQ(nokey.err, "MOSH_KEY environment variable not found.\n");
  ParsedCommandLine badkey = Client({"127.0.0.1", "60001"}, {{"MOSH_KEY", "AAAAAAAAAAAAAAAAAAAAAB"}});
  EXPECT_EQ(badkey.err, "Crypto exception: Base64 key was not encoded 128-bit key.\r\n");
  ParsedCommandLine mode =
      Client({"127.0.0.1", "60001"}, {{"MOSH_KEY", kKey}, {"MOSH_PREDICTION_DISPLAY", "maybe"}});
  EXPECT_EQ(mode.err, "Unknown prediction mode maybe.\n");
  ParsedCommandLine help = Client({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("       /opt/bin/mosh-client -c\n"));
}

TEST(MoshClientCommandLineTest, DashCPrintsTheColoursOfTerm) {
  const std::string dir = ::testing::TempDir() + "terminfo";
  sys::testing::WriteTerminfoEntry(dir, "x", "xterm-256color", false, 15, 256);
  sys::testing::WriteTerminfoEntry(dir, "d", "dumb", false, 2, 0);  // no colors capability
  ParsedCommandLine c = Client({"-c"}, {{"TERM", "xterm-256color"}}, {dir});
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.out, "256\n");
  EXPECT_EQ(Client({"-c"}, {{"TERM", "dumb"}}, {dir}).out, "-1\n");
  ParsedCommandLine unknown = Client({"-c"}, {{"TERM", "foo"}}, {dir});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "'foo': unknown terminal type.\n");
  EXPECT_EQ(Client({"-c"}, Env{}, {dir}).err, "TERM environment variable not set.\n");
}

}  // namespace
}  // namespace moshx::cmd
