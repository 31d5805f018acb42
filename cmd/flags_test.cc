#include "cmd/flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ParsedCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "moshx");
  return ParseCommandLine(args);
}

int CountLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(FlagsTest, HelpPrintsUsageAndExitsZero) {
  for (const char* flag : {"--help", "-h"}) {
    ParsedCommandLine r = Parse({flag});
    EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("Usage: moshx"));
    EXPECT_THAT(r.out, HasSubstr("--version"));
    EXPECT_EQ(r.err, "");
  }
}

TEST(FlagsTest, VersionPrintsVersionAndBuildId) {
  ParsedCommandLine r = Parse({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("moshx 0.1.0 (build "));
  EXPECT_THAT(r.out, EndsWith(") libvterm 0.3.3\n"));
  EXPECT_EQ(CountLines(r.out), 1);
}

TEST(FlagsTest, UnknownCommandIsOneLineErrorWithHintAndStatusTwo) {
  ParsedCommandLine r = Parse({"frobnicate"});
  EXPECT_EQ(r.action, ParsedCommandLine::Action::kExit);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "moshx: unknown command 'frobnicate'; run 'moshx --help' for usage\n");
  EXPECT_EQ(r.out, "");
}

TEST(FlagsTest, UnknownOptionIsOneLineErrorWithHintAndStatusTwo) {
  for (const char* flag : {"--bogus", "-x", "--bogus=1"}) {
    ParsedCommandLine r = Parse({flag});
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_THAT(r.err, StartsWith("moshx: unknown option '-")) << flag;
    EXPECT_THAT(r.err, EndsWith("run 'moshx --help' for usage\n")) << flag;
    EXPECT_EQ(CountLines(r.err), 1) << flag;
  }
}

TEST(FlagsTest, VersionFlagWinsWhereverItStands) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--version", "frobnicate"}, {"frobnicate", "--version"}}) {
    ParsedCommandLine r = Parse(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, StartsWith("moshx 0.1.0"));
    EXPECT_EQ(r.err, "");
  }
}

TEST(FlagsTest, NoArgumentsShowsUsageOnStderrAndStatusTwo) {
  ParsedCommandLine r = Parse({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Usage: moshx"));
  EXPECT_THAT(r.err, HasSubstr("no command given"));
}

}  // namespace
}  // namespace moshx::cmd

namespace moshx::cmd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

ParsedCommandLine ParseWithEnv(std::vector<std::string> args,
                               std::map<std::string, std::string> env) {
  args.insert(args.begin(), "moshx");
  return ParseCommandLine(args, env);
}

TEST(ServeFlagsTest, DefaultsMatchTheDocumentation) {
  ParsedCommandLine r = ParseWithEnv({"serve"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kServe);
  EXPECT_EQ(r.serve.port_range.low, 60001);
  EXPECT_EQ(r.serve.port_range.high, 60999);
  EXPECT_EQ(r.serve.bind_address, "0.0.0.0");
  EXPECT_EQ(r.serve.mode, net::WireMode::kMoshx);
  EXPECT_EQ(r.serve.network_timeout, absl::ZeroDuration());
  EXPECT_TRUE(r.serve.command.empty());
}

TEST(ServeFlagsTest, ParsesEveryOption) {
  ParsedCommandLine r = ParseWithEnv(
      {"serve", "--port-range", "61000:61010", "--bind", "127.0.0.1", "-l", "LANG=en_US.UTF-8",
       "-l", "LC_ALL=C.UTF-8", "--json", "--mode", "mosh", "--network-timeout", "30",
       "--signal-timeout", "5", "--foreground", "-v", "--", "top", "-d", "1"},
      {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.serve.port_range.low, 61000);
  EXPECT_EQ(r.serve.port_range.high, 61010);
  EXPECT_EQ(r.serve.bind_address, "127.0.0.1");
  EXPECT_THAT(r.serve.environment,
              ElementsAre(Pair("LANG", "en_US.UTF-8"), Pair("LC_ALL", "C.UTF-8")));
  EXPECT_TRUE(r.serve.json);
  EXPECT_EQ(r.serve.mode, net::WireMode::kMosh);
  EXPECT_EQ(r.serve.network_timeout, absl::Seconds(30));
  EXPECT_EQ(r.serve.signal_timeout, absl::Seconds(5));
  EXPECT_TRUE(r.serve.foreground);
  EXPECT_EQ(r.serve.verbose, 1);
  EXPECT_THAT(r.serve.command, ElementsAre("top", "-d", "1"));
}

TEST(ServeFlagsTest, ScrollbackLines) {
  EXPECT_EQ(ParseWithEnv({"serve"}, {}).serve.scrollback_lines, 10000u);
  ParsedCommandLine r = ParseWithEnv({"serve", "--scrollback", "0"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.serve.scrollback_lines, 0u);
  EXPECT_EQ(ParseWithEnv({"serve", "--scrollback", "250000"}, {}).serve.scrollback_lines, 250000u);
  EXPECT_EQ(ParseWithEnv({"serve", "--scrollback", "-1"}, {}).exit_code, 2);
  EXPECT_EQ(ParseWithEnv({"serve", "--scrollback", "1000001"}, {}).err,
            "moshx: --scrollback: expected 0..1000000 lines, got 1000001; run 'moshx --help' for "
            "usage\n");
  EXPECT_EQ(ParseWithEnv({"serve", "--scrollback", "many"}, {}).exit_code, 2);
}

TEST(ServeFlagsTest, SinglePortIsAccepted) {
  ParsedCommandLine r = ParseWithEnv({"serve", "--port-range", "60005"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.serve.port_range.low, 60005);
  EXPECT_EQ(r.serve.port_range.high, 60005);
}

TEST(ServeFlagsTest, BadValuesAreUsageErrors) {
  EXPECT_EQ(ParseWithEnv({"serve", "--port-range", "9:1"}, {}).err,
            "moshx: --port-range: Low port 9 greater than high port 1; run 'moshx --help' for "
            "usage\n");
  EXPECT_EQ(ParseWithEnv({"serve", "-l", "NOEQUALS"}, {}).exit_code, 2);
  EXPECT_EQ(ParseWithEnv({"serve", "--mode", "telnet"}, {}).exit_code, 2);
  EXPECT_EQ(ParseWithEnv({"serve", "--network-timeout", "soon"}, {}).exit_code, 2);
  ParsedCommandLine r = ParseWithEnv({"serve", "--frobnicate"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "moshx: unknown option '--frobnicate'; run 'moshx --help' for usage\n");
}

TEST(ServeFlagsTest, TimeoutsComeFromMoshsVariablesUnlessFlagged) {
  ParsedCommandLine r = ParseWithEnv(
      {"serve"}, {{"MOSH_SERVER_NETWORK_TMOUT", "60"}, {"MOSH_SERVER_SIGNAL_TMOUT", "7"}});
  EXPECT_EQ(r.serve.network_timeout, absl::Seconds(60));
  EXPECT_EQ(r.serve.signal_timeout, absl::Seconds(7));
  r = ParseWithEnv({"serve", "--network-timeout", "5"}, {{"MOSH_SERVER_NETWORK_TMOUT", "60"}});
  EXPECT_EQ(r.serve.network_timeout, absl::Seconds(5));
  r = ParseWithEnv({"serve"},
                   {{"MOSH_SERVER_NETWORK_TMOUT", "x"}, {"MOSH_SERVER_SIGNAL_TMOUT", "-3"}});
  EXPECT_EQ(r.serve.network_timeout, absl::ZeroDuration());
  EXPECT_THAT(r.warnings, ElementsAre("MOSH_SERVER_NETWORK_TMOUT not a valid integer, ignoring",
                                      "MOSH_SERVER_SIGNAL_TMOUT is negative, ignoring"));
}

TEST(ServeFlagsTest, TheServersEnvironmentTravelsInTheOptions) {
  ParsedCommandLine r =
      ParseWithEnv({"serve"}, {{"HOME", "/h"}, {"SHELL", "/bin/zsh"}, {"LANG", "C.UTF-8"}});
  EXPECT_EQ(r.serve.home, "/h");
  EXPECT_EQ(r.serve.shell, "/bin/zsh");
  EXPECT_THAT(r.serve.locale_environment, ElementsAre(Pair("LANG", "C.UTF-8")));
}

TEST(ServeFlagsTest, SubcommandHelpDescribesTheSubcommand) {
  ParsedCommandLine r = ParseWithEnv({"serve", "--help"}, {});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--port-range"));
  EXPECT_THAT(r.out, HasSubstr("--network-timeout"));
}

TEST(ConnectFlagsTest, DestinationAndCommand) {
  ParsedCommandLine r = ParseWithEnv({"connect", "me@host", "--", "ls", "-l"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kConnect);
  EXPECT_EQ(r.connect.destination, "me@host");
  EXPECT_THAT(r.connect.command, ElementsAre("ls", "-l"));
  EXPECT_EQ(r.connect.ssh, "ssh");
  EXPECT_EQ(r.connect.server, "moshx");
  EXPECT_EQ(r.connect.terminal.predict, core::PredictionDisplay::kAdaptive);
}

TEST(ConnectFlagsTest, TransportDefaultsToAutoAndSshNeedsAnSshConnection) {
  ParsedCommandLine r = Parse({"connect", "host"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.transport, Transport::kAuto);
  r = Parse({"connect", "--transport", "ssh", "host"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.transport, Transport::kSsh);
  EXPECT_EQ(Parse({"connect", "--transport", "udp", "host"}).connect.transport, Transport::kUdp);
  EXPECT_EQ(Parse({"connect", "--transport", "tcp", "host"}).exit_code, 2);
  EXPECT_EQ(Parse({"connect", "--local", "--transport", "ssh"}).exit_code, 2);
}

TEST(ServeFlagsTest, SshBridgeOnlyWhereASessionIsAnswered) {
  ParsedCommandLine r = ParseWithEnv({"serve", "--ssh-bridge", "--attach", "w"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_TRUE(r.serve.ssh_bridge);
  EXPECT_FALSE(ParseWithEnv({"serve"}, {}).serve.ssh_bridge);
  for (const char* other : {"--foreground", "--list"}) {
    EXPECT_EQ(ParseWithEnv({"serve", "--ssh-bridge", other}, {}).exit_code, 2) << other;
  }
}

TEST(ConnectFlagsTest, LocalNeedsNoDestination) {
  ParsedCommandLine r = ParseWithEnv({"connect", "--local"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_TRUE(r.connect.local);
  r = ParseWithEnv({"connect", "--local", "--", "top"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.destination, "");
  EXPECT_THAT(r.connect.command, ElementsAre("top"));
}

TEST(ConnectFlagsTest, MissingDestinationIsAUsageError) {
  ParsedCommandLine r = ParseWithEnv({"connect"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("moshx: connect needs a destination"));
}

TEST(ConnectFlagsTest, ParsesEveryOption) {
  ParsedCommandLine r = ParseWithEnv(
      {"connect", "--ssh", "ssh -p 2222", "--server", "/opt/moshx serve", "-p", "60001:60010",
       "--family", "inet6", "--predict", "never", "--predict-overwrite", "--title-prefix",
       "[x] ", "-v", "host"},
      {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.ssh, "ssh -p 2222");
  EXPECT_EQ(r.connect.server, "/opt/moshx serve");
  EXPECT_EQ(*r.connect.port, "60001:60010");
  EXPECT_EQ(r.connect.family, "inet6");
  EXPECT_EQ(r.connect.terminal.predict, core::PredictionDisplay::kNever);
  EXPECT_TRUE(r.connect.terminal.predict_overwrite);
  EXPECT_EQ(r.connect.terminal.title_prefix, "[x] ");
  EXPECT_EQ(r.connect.verbose, 1);
  EXPECT_EQ(r.connect.destination, "host");
}

TEST(ConnectFlagsTest, PredictionModeFromEnvironmentAndBadValues) {
  EXPECT_EQ(ParseWithEnv({"connect", "h"}, {{"MOSH_PREDICTION_DISPLAY", "always"}}).connect.terminal.predict,
            core::PredictionDisplay::kAlways);
  ParsedCommandLine r = ParseWithEnv({"connect", "h"}, {{"MOSH_PREDICTION_DISPLAY", "sometimes"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown prediction mode 'sometimes'"));
  EXPECT_EQ(ParseWithEnv({"connect", "--predict", "maybe", "h"}, {}).exit_code, 2);
  EXPECT_EQ(ParseWithEnv({"connect", "--family", "ipx", "h"}, {}).exit_code, 2);
  EXPECT_EQ(ParseWithEnv({"connect", "-p", "0:5", "h"}, {}).exit_code, 2);
}

}  // namespace
}  // namespace moshx::cmd

namespace moshx::cmd {
namespace {

TEST(ClientFlagsTest, ParsesAddressModeAndConnectionId) {
  std::vector<std::string> args = {"moshx", "client", "--connection-id", "0123456789abcdef",
                                   "127.0.0.1", "60001"};
  ParsedCommandLine r = ParseCommandLine(args, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kClient);
  EXPECT_EQ(r.client.ip, "127.0.0.1");
  EXPECT_EQ(r.client.port, 60001);
  EXPECT_EQ(r.client.mode, net::WireMode::kMoshx);
  EXPECT_EQ(r.client.connection_id, 0x0123456789abcdefULL);
}

TEST(ConnectFlagsTest, TheTerminalsEnvironmentTravelsInTheOptions) {
  ParsedCommandLine r = ParseWithEnv(
      {"connect", "h"},
      {{"MOSH_ESCAPE_KEY", "~"}, {"MOSH_NO_TERM_INIT", "1"}, {"TERM", "xterm"}, {"LANG", "C"}});
  EXPECT_EQ(r.connect.terminal.escape_key, "~");
  EXPECT_FALSE(r.connect.terminal.alternate_screen);
  EXPECT_EQ(r.connect.term, "xterm");
  EXPECT_THAT(r.connect.locale, ElementsAre(Pair("LANG", "C")));
  EXPECT_TRUE(ParseWithEnv({"connect", "h"}, {}).connect.terminal.alternate_screen);
}

TEST(ConnectFlagsTest, ForwardingOptionsAreRepeatableAndKeepTheirOrder) {
  ParsedCommandLine r = ParseWithEnv(
      {"connect", "-L", "8080:web:80", "-D", "1080", "-R", "*:2222:localhost:22", "-L",
       "[::1]:5432:db:5432", "-A", "h", "--", "ls"},
      {{"SSH_AUTH_SOCK", "/tmp/agent.1"}});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.destination, "h");
  EXPECT_THAT(r.connect.command, ElementsAre("ls"));
  const auto& specs = r.connect.forwarding.specs;
  ASSERT_EQ(specs.size(), 4u);
  // Grouped by option, each group in command-line order.
  EXPECT_EQ(specs[0].ToString(), "-L localhost:8080:web:80");
  EXPECT_EQ(specs[1].ToString(), "-L [::1]:5432:db:5432");
  EXPECT_EQ(specs[2].kind, forward::ForwardKind::kRemote);
  EXPECT_TRUE(specs[2].binds_all());
  EXPECT_EQ(specs[3].kind, forward::ForwardKind::kDynamic);
  EXPECT_EQ(specs[3].port, 1080);
  EXPECT_TRUE(r.connect.forwarding.agent);
  EXPECT_EQ(r.connect.forwarding.agent_socket, "/tmp/agent.1");
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(ParseWithEnv({"connect", "h"}, {}).connect.forwarding.empty());
}

TEST(ConnectFlagsTest, BadForwardingOptionsAreUsageErrors) {
  for (std::vector<std::string> args : {std::vector<std::string>{"connect", "-L", "8080", "h"},
                                        {"connect", "-R", "x:1:h:2:3", "h"},
                                        {"connect", "-D", "70000", "h"}}) {
    ParsedCommandLine r = Parse(args);
    EXPECT_EQ(r.exit_code, 2) << args[2];
    EXPECT_THAT(r.err, HasSubstr(args[1] + " " + args[2])) << r.err;
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
  }
}

TEST(ConnectFlagsTest, AgentForwardingWithoutAnAgentWarns) {
  ParsedCommandLine r = ParseWithEnv({"connect", "-A", "h"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun);
  EXPECT_TRUE(r.connect.forwarding.agent);
  EXPECT_THAT(r.warnings, ElementsAre(HasSubstr("SSH_AUTH_SOCK is not set")));
}

TEST(ClientFlagsTest, TheKeyComesFromTheEnvironment) {
  ParsedCommandLine r = ParseWithEnv({"client", "--mode", "mosh", "127.0.0.1", "60001"},
                                     {{"MOSH_KEY", "AAECAwQFBgcICQoLDA0ODw"}});
  EXPECT_EQ(r.client.mosh_key, "AAECAwQFBgcICQoLDA0ODw");
  EXPECT_EQ(ParseWithEnv({"client", "--mode", "mosh", "127.0.0.1", "60001"}, {}).client.mosh_key,
            std::nullopt);
}

TEST(ClientFlagsTest, MoshModeNeedsNoConnectionId) {
  std::vector<std::string> args = {"moshx", "client", "--mode", "mosh", "::1", "60001"};
  ParsedCommandLine r = ParseCommandLine(args, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.client.mode, net::WireMode::kMosh);
}

TEST(ClientFlagsTest, RejectsBadPortsAndMissingIds) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"moshx", "client", "127.0.0.1", "abc", "--mode", "mosh"},
        {"moshx", "client", "127.0.0.1", "0", "--mode", "mosh"},
        {"moshx", "client", "127.0.0.1", "60001"},
        {"moshx", "client", "127.0.0.1"}}) {
    EXPECT_EQ(ParseCommandLine(args, {}).exit_code, 2) << args.size();
  }
}

TEST(ClientFlagsTest, AMalformedConnectionIdIsInvalidNotMissing) {
  ParsedCommandLine missing = ParseCommandLine({"moshx", "client", "127.0.0.1", "60001"}, {});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("needs --connection-id"));
  for (const char* bad : {"xyz", "0123456789abcdeg", "0x23456789abcdef", "0123456789abcdef0"}) {
    ParsedCommandLine r = ParseCommandLine(
        {"moshx", "client", "--connection-id", bad, "127.0.0.1", "60001"}, {});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.err, HasSubstr(std::string("invalid --connection-id '") + bad + "'")) << bad;
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("needs"))) << bad;
  }
}

// --- bootstrap (helper "bootstrap") ---

TEST(BootstrapFlagsTest, DefaultsToTheHomeAndNoForce) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "bootstrap", "me@host"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kBootstrap);
  EXPECT_EQ(r.bootstrap.destination, "me@host");
  EXPECT_EQ(r.bootstrap.ssh, "ssh");
  EXPECT_EQ(r.bootstrap.dest_path, "~/.local/bin/moshx");
  EXPECT_FALSE(r.bootstrap.force);
  EXPECT_FALSE(r.bootstrap.json);
  EXPECT_EQ(r.bootstrap.binary_path, "/proc/self/exe");
}

TEST(BootstrapFlagsTest, ParsesEveryOption) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "bootstrap", "--ssh", "ssh -p 2222", "--dest",
                                          "bin/moshx", "--force", "--json", "host"},
                                         {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.bootstrap.destination, "host");
  EXPECT_EQ(r.bootstrap.ssh, "ssh -p 2222");
  EXPECT_EQ(r.bootstrap.dest_path, "bin/moshx");
  EXPECT_TRUE(r.bootstrap.force);
  EXPECT_TRUE(r.bootstrap.json);
}

TEST(BootstrapFlagsTest, OtherArchitecturesBuildsAreLookedForInTheXdgDataDirectory) {
  const std::vector<std::string> bootstrap = {"moshx", "bootstrap", "host"};
  const std::vector<std::string> connect = {"moshx", "connect", "host"};
  std::map<std::string, std::string> env = {{"HOME", "/home/me"}};
  EXPECT_EQ(ParseCommandLine(bootstrap, env).bootstrap.data_dir, "/home/me/.local/share/moshx");
  EXPECT_EQ(ParseCommandLine(connect, env).connect.bootstrap_data_dir,
            "/home/me/.local/share/moshx");
  env["XDG_DATA_HOME"] = "/data";
  EXPECT_EQ(ParseCommandLine(bootstrap, env).bootstrap.data_dir, "/data/moshx");
  EXPECT_EQ(ParseCommandLine(connect, env).connect.bootstrap_data_dir, "/data/moshx");
  env["XDG_DATA_HOME"] = "relative";  // invalid by the XDG rules: ignored
  EXPECT_EQ(ParseCommandLine(bootstrap, env).bootstrap.data_dir, "/home/me/.local/share/moshx");
  EXPECT_EQ(ParseCommandLine(bootstrap, {}).bootstrap.data_dir, "");
}

TEST(BootstrapFlagsTest, NeedsADestinationAndAFileToWrite) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"moshx", "bootstrap"},
        {"moshx", "bootstrap", "host", "--dest", "~/bin/"},
        {"moshx", "bootstrap", "host", "--dest", ""},
        {"moshx", "bootstrap", "host", "extra"},
        {"moshx", "bootstrap", "host", "--bogus"}}) {
    ParsedCommandLine r = ParseCommandLine(args, {});
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_THAT(r.err, EndsWith("run 'moshx --help' for usage\n")) << args.back();
  }
}

TEST(BootstrapFlagsTest, HelpListsTheFlags) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "bootstrap", "--help"}, {});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--ssh", "--dest", "--force", "--json"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
}

TEST(RouterFlagsTest, DefaultsAndEveryOption) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "router"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kRouter);
  EXPECT_EQ(r.router.port, 60001);
  EXPECT_EQ(r.router.bind, "0.0.0.0");
  EXPECT_EQ(r.router.socket_path, "/run/moshx/router.sock");
  EXPECT_EQ(r.router.user, "");
  r = ParseCommandLine({"moshx", "router", "--port", "60100", "--bind", "::", "--socket",
                        "/tmp/r.sock", "--user", "nobody", "--max-sessions", "10",
                        "--max-sessions-per-user", "2", "-v"},
                       {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.router.port, 60100);
  EXPECT_EQ(r.router.bind, "::");
  EXPECT_EQ(r.router.socket_path, "/tmp/r.sock");
  EXPECT_EQ(r.router.user, "nobody");
  EXPECT_EQ(r.router.max_sessions, 10u);
  EXPECT_EQ(r.router.max_sessions_per_user, 2u);
  EXPECT_EQ(r.router.verbose, 1);
}

TEST(RouterFlagsTest, BadValuesAreUsageErrors) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"moshx", "router", "--port", "0"},
        {"moshx", "router", "--port", "70000"},
        {"moshx", "router", "--port", "6o001"},
        {"moshx", "router", "--max-sessions", "0"},
        {"moshx", "router", "extra"}}) {
    ParsedCommandLine r = ParseCommandLine(args, {});
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_THAT(r.err, EndsWith("run 'moshx --help' for usage\n")) << args.back();
  }
}

TEST(BootstrapFlagsTest, ConnectBootstrapModes) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "connect", "host"}, {});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.bootstrap, BootstrapMode::kAuto);
  r = ParseCommandLine({"moshx", "connect", "--bootstrap", "always", "host"}, {});
  EXPECT_EQ(r.connect.bootstrap, BootstrapMode::kAlways);
  r = ParseCommandLine({"moshx", "connect", "--bootstrap=never", "host"}, {});
  EXPECT_EQ(r.connect.bootstrap, BootstrapMode::kNever);
  r = ParseCommandLine({"moshx", "connect", "--bootstrap", "sometimes", "host"}, {});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace moshx::cmd

namespace moshx::cmd {
namespace {

TEST(ConnectAttachFlagsTest, AttachWithAndWithoutATargetAndName) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "connect", "host", "--attach"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  ASSERT_TRUE(r.connect.attach.has_value());
  EXPECT_EQ(*r.connect.attach, "");  // the most recently detached
  r = ParseCommandLine({"moshx", "connect", "host", "--attach", "work"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.destination, "host");
  EXPECT_EQ(r.connect.attach.value_or("?"), "work");
  r = ParseCommandLine({"moshx", "connect", "host"});
  EXPECT_FALSE(r.connect.attach.has_value());
  r = ParseCommandLine({"moshx", "connect", "host", "--name", "work", "--", "vim"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.name, "work");
  EXPECT_EQ(r.connect.command, std::vector<std::string>{"vim"});
}

TEST(ConnectAttachFlagsTest, AttachExcludesNameAndACommand) {
  ParsedCommandLine r =
      ParseCommandLine({"moshx", "connect", "host", "--attach", "1", "--name", "work"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exclude each other"), std::string::npos) << r.err;
  r = ParseCommandLine({"moshx", "connect", "host", "--attach", "1", "--", "vim"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only in a new session"), std::string::npos) << r.err;
}

TEST(ConnectAttachFlagsTest, HistoryGoesWithAttachOrNameWithinItsBounds) {
  ParsedCommandLine r =
      ParseCommandLine({"moshx", "connect", "host", "--attach", "--history", "5000"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.attach.value_or("?"), "");  // --history is not the session's name
  EXPECT_EQ(r.connect.history, 5000);
  r = ParseCommandLine({"moshx", "connect", "host", "--name", "w", "--history", "0"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.connect.history, 0);
  r = ParseCommandLine({"moshx", "connect", "host"});
  EXPECT_EQ(r.connect.history, kDefaultAttachHistory);
  r = ParseCommandLine({"moshx", "connect", "host", "--history", "10"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--history goes with --attach or --name"), std::string::npos) << r.err;
  r = ParseCommandLine({"moshx", "connect", "host", "--attach", "1", "--history", "10001"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected 0..10000"), std::string::npos) << r.err;
  r = ParseCommandLine({"moshx", "serve", "--attach", "1", "--history", "7"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.serve.history, 7);
  r = ParseCommandLine({"moshx", "serve", "--history", "7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--history goes with --attach"), std::string::npos) << r.err;
}

TEST(SessionCommandsFlagsTest, LsAndKillNameTheHostAndTheSession) {
  ParsedCommandLine r = ParseCommandLine({"moshx", "ls", "me@host", "--json", "--ssh", "ssh -p 2"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kLs);
  EXPECT_EQ(r.sessions.destination, "me@host");
  EXPECT_TRUE(r.sessions.json);
  EXPECT_EQ(r.sessions.ssh, "ssh -p 2");
  r = ParseCommandLine({"moshx", "kill", "host", "work"});
  ASSERT_EQ(r.action, ParsedCommandLine::Action::kRun) << r.err;
  EXPECT_EQ(r.command, Command::kKill);
  EXPECT_EQ(r.sessions.target, "work");
  EXPECT_EQ(r.sessions.server, "moshx");
  r = ParseCommandLine({"moshx", "kill", "host"});
  EXPECT_EQ(r.exit_code, 2);
  r = ParseCommandLine({"moshx", "ls"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace moshx::cmd
