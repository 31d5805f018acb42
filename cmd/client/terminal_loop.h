// The client on the user's real terminal: raw mode, the UDP socket, a
// ClientSession (cmd/client/client_session.h) and term::Renderer between
// them, until the session ends. Used by `moshx connect` once its server is
// up (cmd/connect.h) and by `moshx client` / mosh-client
// (cmd/client/direct_client.h).
//
// The terminal is restored on every way out: normal exit, errors, fatal
// signals (SIGSEGV, SIGABRT... restore it from the handler, then die), and
// suspend (escape Ctrl-Z restores it until SIGCONT). SIGWINCH resizes the
// session; SIGTERM, SIGINT, SIGHUP and SIGPIPE end it with the shutdown
// handshake.
//
// Runs on the process's one event loop (cmd/sys/process.h); call once per
// process, from its main thread.
#ifndef MOSHX_CMD_CLIENT_TERMINAL_LOOP_H_
#define MOSHX_CMD_CLIENT_TERMINAL_LOOP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cmd/options.h"
#include "net/datagram_socket.h"
#include "net/packet_format.h"
#include "net/session_key.h"

namespace moshx::cmd {

// The server a client attaches to: where, in which wire mode, with which key.
struct ServerEndpoint {
  net::Address address;          // the server's IP and UDP port
  net::WireMode mode = net::WireMode::kMoshx;
  uint64_t connection_id = 0;    // moshx mode only
  net::SessionKey key{{}};
  // --transport ssh (docs/ssh-path.md): descriptors of a byte stream that
  // carries the datagrams as net/stream_path.h frames instead of UDP (the
  // ssh child's stdout and stdin); -1: UDP to `address`. RunTerminalLoop
  // takes them over and closes them.
  int stream_read_fd = -1;
  int stream_write_fd = -1;
  // --transport auto: UDP first, the stream only when UDP fails
  // (net/dual_path.h); each move is a notice in the notification bar.
  bool switch_paths = false;
  // With switch_paths: start on the stream, probing UDP at once (ssh goes
  // through a ProxyJump/ProxyCommand host).
  bool start_on_ssh = false;
  // With a stream: ssh's argv that runs `moshx serve --ssh-bridge-to
  // PORT` there with BatchMode, and the same without it (for a password),
  // to bring a dropped SSH path back (cmd/launch/ssh_reconnect.h). Empty:
  // no reconnect.
  std::vector<std::string> reconnect_batch_argv;
  std::vector<std::string> reconnect_argv;
  // -v: the moves, with their reasons, on stderr when the session ends.
  int verbose = 0;
};

// Runs the session on stdin/stdout, which must be a terminal, with the
// -L/-R/-D/-A forwardings of `forwarding` (cmd/forward/forwarder.h; moshx
// mode only). A forwarding that fails is a notice in the notification bar,
// repeated on stderr once the terminal is restored; the session goes on.
// Returns the process exit status: 0 when the session ended cleanly or
// another client attached to it ("moshx: session attached from <address>" on
// stderr); 1 when the terminal or the socket could not be used, no server
// state ever arrived, or the shutdown was not clean (each explained on
// stderr).
int RunTerminalLoop(const ServerEndpoint& server, const TerminalOptions& options,
                    const ForwardingOptions& forwarding = {});

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_TERMINAL_LOOP_H_
