#include "cmd/launch/launch.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/launch/bootstrap.h"
#include "cmd/launch/resolve.h"
#include "cmd/launch/server_args.h"
#include "cmd/launch/ssh.h"
#include "cmd/launch/ssh_channel.h"
#include "cmd/launch/subprocess.h"
#include "cmd/launch/terminal_safe.h"

namespace moshx::cmd {
namespace {

// As SshChannel::kDefaultReadTimeout: longer than sshd's LoginGraceTime, so a
// slowly typed password still gets through.
constexpr absl::Duration kSshStartTimeout = absl::Seconds(180);


std::string Indent(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, "  ", l, "\n");
  return out;
}

// What `moshx serve` said when it refused (its "moshx serve: ..." lines on
// stderr), one per line; empty when it said nothing of the kind.
std::string ServeRefusal(const std::vector<std::string>& err_lines) {
  std::string out;
  for (absl::string_view l : err_lines) {
    if (absl::ConsumePrefix(&l, "moshx serve: ")) absl::StrAppend(&out, out.empty() ? "" : "\n", l);
  }
  return out;
}

std::vector<std::string> Lines(absl::string_view text) {
  std::vector<std::string> lines;
  for (absl::string_view l : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    lines.emplace_back(absl::StripTrailingAsciiWhitespace(l));
  }
  return lines;
}

absl::StatusOr<LaunchedServer> StartLocalOnce(const ConnectOptions& o) {
  std::vector<std::string> argv = {"/proc/self/exe"};
  std::vector<std::string> args = ServeArguments(o);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.begin() + 2, {"--bind", "127.0.0.1"});
  auto result = RunAndCapture(argv, {}, absl::Seconds(20));
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("could not start the local server: ",
                                               result.status().message()));
  }
  StartupOutput scan = ScanStartupOutput(result->out);
  if (!scan.connect.ok()) {
    std::string refusal = ServeRefusal(Lines(result->err));
    if (!refusal.empty()) return absl::FailedPreconditionError(refusal);
    return absl::UnavailableError(absl::StrCat("the local server did not start (exit ",
                                               result->exit_code, "):\n", result->err));
  }
  LaunchedServer server{*scan.connect, *net::Address::Parse("127.0.0.1", scan.connect->port),
                        ParseSessionLines(scan.other_lines)};
  return server;
}

absl::StatusOr<LaunchedServer> StartLocal(const ConnectOptions& o) {
  if (o.name.empty() || o.attach.has_value()) return StartLocalOnce(o);
  // --name: attach to it, else start it (no password to type twice here).
  ConnectOptions attach = o;
  attach.attach = o.name;
  absl::StatusOr<LaunchedServer> attached = StartLocalOnce(attach);
  if (attached.ok()) return attached;
  return StartLocalOnce(o);
}

// What the remote printed when asked for the session (over ssh, with or
// without the bootstrap): the server, or why there is none.
absl::StatusOr<LaunchedServer> FromRemoteOutput(const ConnectOptions& o, const net::Address& ip,
                                                const ProcessResult& result) {
  StartupOutput scan = ScanStartupOutput(result.out);
  std::vector<std::string> err_lines;
  for (absl::string_view l : absl::StrSplit(result.err, '\n', absl::SkipWhitespace())) {
    err_lines.emplace_back(absl::StripTrailingAsciiWhitespace(l));
  }
  if (scan.connect.ok()) {
    LaunchedServer server{*scan.connect, ip.WithPort(scan.connect->port),
                          ParseSessionLines(scan.other_lines)};
    return server;
  }
  if (result.exit_code == 255) {
    return absl::UnavailableError(
        absl::StrCat("ssh to ", o.destination, " failed:\n", Indent(err_lines)));
  }
  // moshx's own refusal (no such session, and which exist; a host of
  // another build; ...) is the whole story.
  if (std::string refusal = ServeRefusal(err_lines); !refusal.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(o.destination, ": ", refusal));
  }
  std::string all = absl::StrCat(result.out, result.err);
  if ((o.attach.has_value() || !o.name.empty()) &&
      (absl::StrContains(all, "unknown option '--attach'") ||
       absl::StrContains(all, "unknown option '--name'"))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the moshx on ", o.destination, " is older and has no session host to attach to; "
        "update it with:  moshx bootstrap ", o.destination));
  }
  if (result.exit_code == 127 || absl::StrContains(all, "not found") ||
      absl::StrContains(all, "No such file")) {
    return absl::NotFoundError(absl::StrCat(
        "'", o.server, "' is not installed on ", o.destination, ":\n", Indent(err_lines),
        "Install it there (no root needed) with:  moshx bootstrap ", o.destination,
        "\nor name its path with --server=PATH."));
  }
  std::vector<std::string> lines = scan.other_lines;
  lines.insert(lines.end(), err_lines.begin(), err_lines.end());
  return absl::UnavailableError(absl::StrCat(
      "the server on ", o.destination, " did not start (no CONNECT line; exit status ",
      result.exit_code, "). It said:\n", Indent(lines)));
}


// --ssh and --server split into words; InvalidArgument naming the flag.
struct SshAndServerWords {
  std::vector<std::string> ssh, server;
};
absl::StatusOr<SshAndServerWords> SplitSshAndServer(const ConnectOptions& o) {
  auto ssh_words = SplitCommandLine(o.ssh);
  if (!ssh_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--ssh: ", ssh_words.status().message()));
  }
  auto server_words = SplitCommandLine(o.server);
  if (!server_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", server_words.status().message()));
  }
  return SshAndServerWords{*std::move(ssh_words), *std::move(server_words)};
}

absl::StatusOr<LaunchedServer> StartRemote(const ConnectOptions& o) {
  absl::StatusOr<SshAndServerWords> words = SplitSshAndServer(o);
  if (!words.ok()) return words.status();
  const std::vector<std::string>* ssh_words = &words->ssh;
  const std::vector<std::string>* server_words = &words->server;
  std::string host_name = SshHostName(*ssh_words, o.destination);
  auto ip = Resolve(host_name, o.family);
  if (!ip.ok()) return ip.status();
  std::string command_line;
  if (IsMoshServerCommand(*server_words)) {  // mosh interop
    if (o.attach.has_value() || !o.name.empty()) {
      return absl::InvalidArgumentError(
          "--attach and --name need moshx's session host on the remote, not mosh-server");
    }
    std::vector<std::string> remote = *server_words;
    std::vector<std::string> args = MoshServerArgumentsFor(o);
    remote.insert(remote.end(), args.begin(), args.end());
    command_line = ShellJoin(remote);
  } else {
    command_line = ServeCommandLine(ShellJoin(*server_words), o);
  }
  // ssh's output is read with a deadline (the remote may never answer) and
  // capped by RunAndCapture; what is printed of it goes through TerminalSafe.
  auto result = RunAndCapture(BuildSshArgvForCommandLine(*ssh_words, o.destination, command_line),
                              {}, kSshStartTimeout);
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("could not run ssh: ", result.status().message()));
  }
  return FromRemoteOutput(o, *ip, *result);
}
// Marks the status StartRemoteBridged returns for a remote moshx without
// --ssh-bridge, so --transport auto can go on with UDP alone.
constexpr absl::string_view kTooOldPayload = "moshx.too-old-to-bridge";

absl::Status TooOldForSsh(const ConnectOptions& o) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "the moshx on ", o.destination, " is too old to carry the session over SSH "
      "(--transport ssh needs `moshx serve --ssh-bridge`); update it with:  moshx bootstrap ",
      o.destination, "\nor use --transport udp."));
  s.SetPayload(kTooOldPayload, absl::Cord("1"));
  return s;
}

// The remote command that bridges to the session on `port` again after ssh
// dropped (cmd/launch/ssh_reconnect.h): `SERVER serve --ssh-bridge-to PORT`.
std::string BridgeAgainCommand(absl::string_view server, uint16_t port) {
  return absl::StrCat(server, " serve --ssh-bridge-to ", port);
}

// --transport ssh: one ssh process starts the server and then carries the
// session (docs/ssh-path.md).
absl::StatusOr<LaunchedServer> StartRemoteBridged(const ConnectOptions& o) {
  absl::StatusOr<SshAndServerWords> words = SplitSshAndServer(o);
  if (!words.ok()) return words.status();
  const std::vector<std::string>* ssh_words = &words->ssh;
  const std::vector<std::string>* server_words = &words->server;
  if (IsMoshServerCommand(*server_words)) {
    return absl::InvalidArgumentError(
        "--transport ssh needs moshx on the remote (serve --ssh-bridge), not mosh-server");
  }
  bool proxied = false;
  auto ip = Resolve(SshHostName(*ssh_words, o.destination, &proxied), o.family);
  if (!ip.ok()) return ip.status();
  const std::string command_line = ServeCommandLine(ShellJoin(*server_words), o);
  auto channel = SshChannel::Start(BuildSshArgvWithInput(*ssh_words, o.destination, command_line));
  if (!channel.ok()) {
    return absl::UnavailableError(absl::StrCat("could not run ssh: ", channel.status().message()));
  }
  SshChannel& ch = **channel;
  ch.set_read_timeout(kSshStartTimeout);
  ProcessResult result;
  if (!ReadLinesUntil(ch, kBridgeLine, kMaxLinesBeforeBridge, &result.out)) {
    result.exit_code = ch.Wait();
    result.err = ch.ErrorOutput();
    absl::StatusOr<LaunchedServer> server = FromRemoteOutput(o, *ip, result);
    // A CONNECT line without the bridge, or a refusal naming the option:
    // a moshx from before --ssh-bridge.
    if (server.ok() || absl::StrContains(absl::StrCat(result.out, result.err), "--ssh-bridge")) {
      return TooOldForSsh(o);
    }
    return server.status();
  }
  // The server sends nothing before it heard the client (docs/protocol.md
  // §8.1), so nothing may follow the bridge line yet.
  if (!ch.buffered_output().empty()) {
    return absl::UnavailableError(absl::StrCat(
        "the server on ", o.destination, " sent unexpected bytes after its bridge line"));
  }
  absl::StatusOr<LaunchedServer> server = FromRemoteOutput(o, *ip, result);
  if (!server.ok()) return server.status();
  server->ssh_channel = std::shared_ptr<SshChannel>(*std::move(channel));
  server->start_on_ssh = proxied;
  server->bridge_again = BridgeAgainCommand(ShellJoin(*server_words), server->info.port);
  return server;
}

}  // namespace

absl::StatusOr<LaunchedServer> StartServer(const ConnectOptions& o) {
  if (o.local) return StartLocal(o);
  if (o.transport == Transport::kSsh) {
    // The bootstrap (when it runs) takes a connection of its own: its
    // conversation ends by closing the remote's input, which the bridge needs.
    auto server = ServerAfterBootstrap(o);
    if (!server.ok()) return server.status();
    ConnectOptions remote = o;
    remote.server = *server;
    return StartRemoteBridged(remote);
  }
  auto words = SplitCommandLine(o.server);
  if (o.transport == Transport::kAuto && !ConnectBootstraps(o) && words.ok() &&
      !IsMoshServerCommand(*words)) {
    // auto: the bridge as well, in the same one connection; the client
    // starts on UDP and uses it only when UDP fails (docs/ssh-path.md §5).
    // Where a bootstrap runs this would take a second connection: UDP only.
    ConnectOptions bridged = o;
    bridged.transport = Transport::kSsh;
    absl::StatusOr<LaunchedServer> server = StartRemoteBridged(bridged);
    if (server.ok()) {
      server->switch_paths = true;
      return server;
    }
    if (!server.status().GetPayload(kTooOldPayload).has_value()) return server.status();
    std::fprintf(stderr, "moshx: the moshx on %s cannot carry the session over SSH when UDP "
                         "fails (update it with:  moshx bootstrap %s); UDP only\n",
                 TerminalSafe(o.destination).c_str(), TerminalSafe(o.destination).c_str());
  }
  auto server_words = SplitCommandLine(o.server);
  if (server_words.ok() && ConnectBootstraps(o) && !IsMoshServerCommand(*server_words)) {
    // Bootstrap and the session request in one SSH connection.
    auto ssh_words = SplitCommandLine(o.ssh);
    if (!ssh_words.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--ssh: ", ssh_words.status().message()));
    }
    bool proxied = false;
    auto ip = Resolve(SshHostName(*ssh_words, o.destination, &proxied), o.family);
    if (!ip.ok()) return ip.status();
    // auto: when this build is there already, the same connection also
    // carries the bridge, for when UDP fails (docs/ssh-path.md §5); after
    // an upload the session is on UDP alone.
    std::unique_ptr<SshChannel> bridge;
    std::string remote_server;
    absl::StatusOr<ProcessResult> output =
        BootstrapAndServe(o, BootstrapServeCommandLine("\"$srv\"", o),
                          o.transport == Transport::kAuto ? &bridge : nullptr, &remote_server);
    if (output.ok()) {
      absl::StatusOr<LaunchedServer> server = FromRemoteOutput(o, *ip, *output);
      if (server.ok() && bridge != nullptr) {
        server->ssh_channel = std::shared_ptr<SshChannel>(std::move(bridge));
        server->switch_paths = true;
        server->start_on_ssh = proxied;
        server->bridge_again = BridgeAgainCommand(ShellQuote(remote_server), server->info.port);
      }
      return server;
    }
    if (!absl::IsNotFound(output.status())) return output.status();
    return StartRemote(o);  // an unwritable home: --server as it is (warned)
  }
  // --bootstrap: copy moshx over first when needed, then run that copy (its
  // directory is often not on a non-interactive PATH).
  auto server = ServerAfterBootstrap(o);
  if (!server.ok()) return server.status();
  ConnectOptions remote = o;
  remote.server = *server;
  return StartRemote(remote);
}

}  // namespace moshx::cmd
