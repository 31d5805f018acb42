// The router's Unix socket (docs/router.md §3): where it lives, creating and
// connecting to it, the peer's uid, and one frame per SOCK_SEQPACKET packet.
//
// Access: every user's session host must be able to connect, so the socket
// is mode 0666 in a directory root creates 0755 (`/run/moshx` by default);
// who a connection belongs to is decided by its SO_PEERCRED uid, never by
// what it says.
//
// Errors are absl::Status with the path or the call in the message.
// Thread-compatible free functions; descriptors are owned by ScopedFd.
#ifndef MOSHX_CMD_ROUTER_ROUTER_SOCKET_H_
#define MOSHX_CMD_ROUTER_ROUTER_SOCKET_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/router/router_frame.h"
#include "cmd/sys/scoped_fd.h"

namespace moshx::cmd::router {

inline constexpr char kDefaultRouterSocket[] = "/run/moshx/router.sock";

// Creates the parent directory (0755) when missing, replaces a stale socket
// at `path` (anything else there is an error: AlreadyExists), binds, sets
// mode 0666 and listens. Nonblocking, close-on-exec.
absl::StatusOr<sys::ScopedFd> ListenRouterSocket(const std::string& path);

// Connects to a router at `path` (blocking, close-on-exec). NotFound when no
// router listens there.
absl::StatusOr<sys::ScopedFd> ConnectRouterSocket(const std::string& path);

// The uid of the process at the other end of a connected Unix socket.
absl::StatusOr<uid_t> RouterPeerUid(int fd);

// Sends one frame as one packet (blocking unless the socket is not).
absl::Status SendFrame(int fd, const Frame& frame);

// Waits up to `timeout` for one packet and parses it. Unavailable when the
// peer closed the connection, DeadlineExceeded on timeout, InvalidArgument
// for a bad frame.
absl::StatusOr<Frame> ReceiveFrame(int fd, absl::Duration timeout);

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_ROUTER_SOCKET_H_
