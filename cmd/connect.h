// `moshx connect`: start a server (over ssh, or locally with --local), read
// its CONNECT line, and run the client on this terminal until the session
// ends. The terminal is restored on every way out (normal exit, errors,
// signals, suspend).
#ifndef MOSHX_CMD_CONNECT_H_
#define MOSHX_CMD_CONNECT_H_

#include <string>

#include "absl/status/statusor.h"
#include "cmd/connect_line.h"
#include "cmd/flags.h"
#include "net/datagram_socket.h"

namespace moshx::cmd {

// Where the client should send its datagrams, and what it learned from the
// server's startup output.
struct ServerEndpoint {
  ConnectInfo info;
  net::Address address;  // IP of the server host, with info.port
};

// Starts the server (ssh or local) and parses its CONNECT line. Errors are
// complete, user-facing sentences (ssh failed and why, the remote has no
// moshx and how to install it, no CONNECT line and what came instead).
absl::StatusOr<ServerEndpoint> StartServer(const ConnectOptions& options);

// `moshx client`: attach to a server that is already running (key from
// $MOSH_KEY, which is then removed from the environment).
int RunDirectClient(const ClientOptions& options);

// Runs the whole command; returns the process exit status (0: the session
// ended cleanly).
int RunConnect(const ConnectOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CONNECT_H_
