#include "cmd/launch/launch.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/launch/bootstrap.h"
#include "cmd/launch/resolve.h"
#include "cmd/launch/server_args.h"
#include "cmd/launch/ssh.h"
#include "cmd/launch/subprocess.h"

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

absl::StatusOr<LaunchedServer> StartLocal(const ConnectOptions& o) {
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
    return absl::UnavailableError(absl::StrCat("the local server did not start (exit ",
                                               result->exit_code, "):\n", result->err));
  }
  LaunchedServer server{*scan.connect, *net::Address::Parse("127.0.0.1", scan.connect->port)};
  return server;
}

absl::StatusOr<LaunchedServer> StartRemote(const ConnectOptions& o) {
  auto ssh_words = SplitCommandLine(o.ssh);
  if (!ssh_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--ssh: ", ssh_words.status().message()));
  }
  auto server_words = SplitCommandLine(o.server);
  if (!server_words.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", server_words.status().message()));
  }
  std::string host_name = SshHostName(*ssh_words, o.destination);
  auto ip = Resolve(host_name, o.family);
  if (!ip.ok()) return ip.status();
  std::vector<std::string> remote = *server_words;
  std::vector<std::string> args = IsMoshServerCommand(*server_words)  // mosh interop
                                      ? MoshServerArgumentsFor(o)
                                      : ServeArguments(o);
  remote.insert(remote.end(), args.begin(), args.end());
  // ssh's output is read with a deadline (the remote may never answer) and
  // capped by RunAndCapture; what is printed of it goes through TerminalSafe.
  auto result = RunAndCapture(BuildSshArgv(*ssh_words, o.destination, remote), {},
                              kSshStartTimeout);
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("could not run ssh: ", result.status().message()));
  }
  StartupOutput scan = ScanStartupOutput(result->out);
  std::vector<std::string> err_lines;
  for (absl::string_view l : absl::StrSplit(result->err, '\n', absl::SkipWhitespace())) {
    err_lines.emplace_back(absl::StripTrailingAsciiWhitespace(l));
  }
  if (scan.connect.ok()) {
    LaunchedServer server{*scan.connect, ip->WithPort(scan.connect->port)};
    return server;
  }
  if (result->exit_code == 255) {
    return absl::UnavailableError(
        absl::StrCat("ssh to ", o.destination, " failed:\n", Indent(err_lines)));
  }
  std::string all = absl::StrCat(result->out, result->err);
  if (result->exit_code == 127 || absl::StrContains(all, "not found") ||
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
      result->exit_code, "). It said:\n", Indent(lines)));
}

}  // namespace

absl::StatusOr<LaunchedServer> StartServer(const ConnectOptions& o) {
  if (o.local) return StartLocal(o);
  // --bootstrap: copy moshx over first when needed, then run that copy (its
  // directory is often not on a non-interactive PATH).
  auto server = ServerAfterBootstrap(o);
  if (!server.ok()) return server.status();
  ConnectOptions remote = o;
  remote.server = *server;
  return StartRemote(remote);
}

}  // namespace moshx::cmd
