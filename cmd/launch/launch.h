// Starting the server `moshx connect` attaches to: over ssh on the remote
// host (after `--bootstrap` made sure moshx is there, cmd/launch/bootstrap.h),
// or on loopback with --local; then reading its CONNECT line
// (cmd/launch/connect_line.h).
#ifndef MOSHX_CMD_LAUNCH_LAUNCH_H_
#define MOSHX_CMD_LAUNCH_LAUNCH_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cmd/launch/connect_line.h"
#include "cmd/launch/session_lines.h"
#include "cmd/launch/ssh_channel.h"
#include "cmd/options.h"
#include "net/datagram_socket.h"

namespace moshx::cmd {

// A server that is up: what its CONNECT line said, and where to send.
struct LaunchedServer {
  ConnectInfo info;
  net::Address address;  // IP of the server host, with info.port
  // The session host's SESSION/DETACHED lines (empty fields without a host).
  SessionLines session;
  // --transport ssh: the ssh process whose stdin/stdout carry the session's
  // datagrams (docs/ssh-path.md); it must live as long as the session.
  // Null otherwise.
  std::shared_ptr<SshChannel> ssh_channel;
  // --transport auto with a bridge: UDP first, `ssh_channel` when UDP
  // fails (net/dual_path.h). False: `ssh_channel` (if any) carries all.
  bool switch_paths = false;
  // With switch_paths: ssh goes through a ProxyJump/ProxyCommand host, so
  // the session starts on the SSH connection and probes UDP (which seldom
  // reaches a host behind a bastion) at once.
  bool start_on_ssh = false;
  // With ssh_channel: the remote command line that bridges to this
  // session again (`SERVER serve --ssh-bridge-to PORT`) when ssh dropped.
  std::string bridge_again;
};

// Starts the server (ssh, or locally with options.local) and parses its
// CONNECT line; with options.attach / options.name it asks the session host
// for that session instead (docs/sessions.md), in the same one SSH
// connection. Errors are complete, user-facing sentences (ssh failed and
// why, the remote has no moshx and how to install it, what the remote's
// moshx refused — no such session, and which exist —, no CONNECT line and
// what came instead, a remote moshx too old for --transport ssh).
// With --transport ssh the ssh process stays: after the CONNECT lines the
// remote `moshx serve --ssh-bridge` says "MOSHX BRIDGE" and its stdout and
// stdin carry frames from then on (LaunchedServer::ssh_channel); a
// bootstrap, when one runs, uses a connection of its own first. With
// --transport auto the bridge is asked for too (switch_paths), unless a
// upload runs (it ends the connection's input) or --server is mosh-server;
// a remote moshx too old to bridge then means UDP alone (a second
// connection, with a warning on stderr). Behind a ProxyJump/ProxyCommand
// (`ssh -G`) auto starts on the SSH path (start_on_ssh).
absl::StatusOr<LaunchedServer> StartServer(const ConnectOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_LAUNCH_H_
