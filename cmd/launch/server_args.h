// The command line that starts a server on the remote host for `moshx
// connect`: moshx's own `serve ...`, or, when --server names mosh's server,
// the argv the stock `mosh` wrapper gives a real mosh-server
// (docs/mosh-interop.md §2.1). Pure functions of the options.
#ifndef MOSHX_CMD_LAUNCH_SERVER_ARGS_H_
#define MOSHX_CMD_LAUNCH_SERVER_ARGS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "cmd/options.h"

namespace moshx::cmd {

// What `serve --ssh-bridge` prints once its stdout turns into frames.
inline constexpr absl::string_view kBridgeLine = "MOSHX BRIDGE";
// Lines read before it at most (CONNECT, SESSION, DETACHED, JSON, and
// whatever a login script prints): a remote that talks on is not a bridge.
inline constexpr int kMaxLinesBeforeBridge = 1000;

// The words after the server command for moshx: `serve`, the port range,
// the client's locale (-l NAME=VALUE), `--name NAME` when given, then `--`
// and the user's command. With --attach: `serve --attach TARGET` only (the
// session already has its port, locale and command). With --transport ssh,
// `--ssh-bridge` follows `serve` in both (docs/ssh-path.md).
std::vector<std::string> ServeArguments(const ConnectOptions& options);

// The remote command line (shell text) that asks `server` (shell text, e.g.
// the quoted --server words) for the session: `SERVER ServeArguments...`;
// with --name NAME, `SERVER serve --attach NAME || SERVER serve ... --name
// NAME ...`, so that one SSH connection attaches to the session named NAME
// or, when there is none, starts it (`||` means the same in sh, bash, zsh,
// fish and csh).
std::string ServeCommandLine(absl::string_view server, const ConnectOptions& options);

// As ServeCommandLine, for the bootstrap script's SERVE (bootstrap_script.h):
// the unquoted shell variable `$bridge` follows each `serve` word in place of
// `--ssh-bridge` (whatever options.transport says), so the script decides:
// it sets it to `--ssh-bridge` only when the client keeps the connection's
// input open for the bridge's frames, and to nothing otherwise.
std::string BootstrapServeCommandLine(absl::string_view server, const ConnectOptions& options);

// True when the --server command of `moshx connect` names mosh's server (its
// last word is "mosh-server" or a path ending in "/mosh-server"): then the
// remote gets mosh-server's argv instead of moshx's `serve ...`.
bool IsMoshServerCommand(const std::vector<std::string>& server_words);

// What `moshx connect` asks a real mosh-server for (docs/mosh-interop.md §2.1).
struct MoshServerRequest {
  int colors = 256;                                           // local terminal colours
  std::optional<std::string> port;                            // -p PORT[:HIGH]
  std::vector<std::pair<std::string, std::string>> locale;    // -l NAME=VALUE, in order
  std::vector<std::string> command;                           // empty: login shell
};

// The words after the server command, as the `mosh` wrapper sends them:
// new -c COLORS -s [-p PORT] -l NAME=VALUE... [-- command...].
std::vector<std::string> MoshServerArguments(const MoshServerRequest& request);

// MoshServerArguments for `options`, with this terminal's colour count
// (terminfo's `colors` for options.term; 0 when terminfo does not know it).
std::vector<std::string> MoshServerArgumentsFor(const ConnectOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SERVER_ARGS_H_
