// `moshx ls [user@]host` and `moshx kill [user@]host ID|NAME`: the user's
// moshx sessions on a remote host (docs/sessions.md), asked of the remote's
// session host through `moshx serve --list` / `moshx serve --kill ID|NAME`
// over one SSH connection.
//
// The remote's answer (a table, or with --json its JSON) is printed on
// stdout and its errors ("no session 'x'; sessions: 1, 2 (work)",
// "permission denied", ...) on stderr, all through TerminalSafe
// (cmd/launch/terminal_safe.h).
#ifndef MOSHX_CMD_LAUNCH_REMOTE_SESSIONS_H_
#define MOSHX_CMD_LAUNCH_REMOTE_SESSIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/options.h"

namespace moshx::cmd {

// The remote command line (shell text) for ls (`kill` false) or kill.
// InvalidArgument for a --server that cannot be split.
absl::StatusOr<std::string> RemoteSessionsCommandLine(const SessionsOptions& options, bool kill);

// Runs the command; returns the process exit status: the remote moshx's
// (0 on success, 1 when it refused, with its message), 1 when ssh or the
// remote moshx could not be run (said on stderr).
int RunRemoteSessions(const SessionsOptions& options, bool kill);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_REMOTE_SESSIONS_H_
