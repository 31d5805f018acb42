#include "cmd/launch/remote_sessions.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/launch/ssh.h"
#include "cmd/launch/subprocess.h"
#include "cmd/launch/terminal_safe.h"

namespace moshx::cmd {
namespace {

// Longer than sshd's LoginGraceTime: a slowly typed password gets through.
constexpr absl::Duration kSshTimeout = absl::Seconds(180);

void PrintSafe(std::FILE* to, const std::string& text) {
  if (text.empty()) return;
  std::string safe = TerminalSafe(text);
  std::fputs(safe.c_str(), to);
  if (safe.back() != '\n') std::fputc('\n', to);
}

}  // namespace

absl::StatusOr<std::string> RemoteSessionsCommandLine(const SessionsOptions& o, bool kill) {
  absl::StatusOr<std::vector<std::string>> server = SplitCommandLine(o.server);
  if (!server.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", server.status().message()));
  }
  std::vector<std::string> words = *server;
  words.push_back("serve");
  if (kill) {
    words.insert(words.end(), {"--kill", o.target});
  } else {
    words.push_back("--list");
  }
  if (o.json) words.push_back("--json");
  return ShellJoin(words);
}

int RunRemoteSessions(const SessionsOptions& o, bool kill) {
  absl::StatusOr<std::vector<std::string>> ssh = SplitCommandLine(o.ssh);
  absl::StatusOr<std::string> command = RemoteSessionsCommandLine(o, kill);
  if (!ssh.ok() || !command.ok()) {
    std::fprintf(stderr, "moshx: %s\n",
                 std::string(!ssh.ok() ? absl::StrCat("--ssh: ", ssh.status().message())
                                       : command.status().message())
                     .c_str());
    return 1;
  }
  absl::StatusOr<ProcessResult> result = RunAndCapture(
      BuildSshArgvForCommandLine(*ssh, o.destination, *command), {}, kSshTimeout);
  if (!result.ok()) {
    std::fprintf(stderr, "moshx: could not run ssh: %s\n",
                 TerminalSafe(result.status().message()).c_str());
    return 1;
  }
  PrintSafe(stdout, result->out);
  std::fflush(stdout);
  if (result->exit_code == 0) {
    PrintSafe(stderr, result->err);  // warnings, if any
    return 0;
  }
  if (result->exit_code == 255) {
    std::fprintf(stderr, "moshx: ssh to %s failed:\n", TerminalSafe(o.destination).c_str());
    PrintSafe(stderr, result->err);
    return 1;
  }
  if (result->exit_code == 127) {
    PrintSafe(stderr, result->err);
    std::fprintf(stderr,
                 "moshx: '%s' is not installed on %s. Install it there (no root needed) with:  "
                 "moshx bootstrap %s\n",
                 TerminalSafe(o.server).c_str(), TerminalSafe(o.destination).c_str(),
                 TerminalSafe(o.destination).c_str());
    return 1;
  }
  if (absl::StrContains(result->err, "unknown option '--list'") ||
      absl::StrContains(result->err, "unknown option '--kill'")) {
    std::fprintf(stderr,
                 "moshx: the moshx on %s is older and has no session host (no ls or kill); "
                 "update it with:  moshx bootstrap %s\n",
                 TerminalSafe(o.destination).c_str(), TerminalSafe(o.destination).c_str());
    return 1;
  }
  PrintSafe(stderr, result->err);
  return 1;
}

}  // namespace moshx::cmd
