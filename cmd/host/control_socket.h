// The session host's control socket (docs/sessions.md §3): where it lives,
// who may use it, and sending/receiving one ControlMessage per
// SOCK_SEQPACKET packet, optionally with one descriptor (SCM_RIGHTS).
//
// Access control, in depth:
//   1. The directory ($XDG_RUNTIME_DIR/moshx, else /tmp/moshx-UID) is created
//      0700 and must be a real directory owned by the user with no group or
//      other permission bits; otherwise it is refused (PermissionDenied), so
//      another user cannot plant a socket or a symlink there.
//   2. The socket itself is 0600.
//   3. The host checks each connecting peer's uid (SO_PEERCRED) and closes
//      connections from any other uid (PeerUid).
//
// Errors are absl::Status with the path in the message; PermissionDenied
// for access problems (another user's directory or socket), NotFound when
// no host listens there (no socket, or a stale one: ECONNREFUSED).
//
// Thread-compatible free functions; descriptors are owned by ScopedFd.
#ifndef MOSHX_CMD_HOST_CONTROL_SOCKET_H_
#define MOSHX_CMD_HOST_CONTROL_SOCKET_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/host/control_message.h"
#include "cmd/sys/scoped_fd.h"

namespace moshx::cmd {

// "$XDG_RUNTIME_DIR/moshx" when `xdg_runtime_dir` is non-empty, else
// "/tmp/moshx-UID".
std::string ControlDirectory(const std::string& xdg_runtime_dir, uid_t uid);
// The socket and lock file inside it.
std::string ControlSocketPath(const std::string& dir);
std::string ControlLockPath(const std::string& dir);
// The same for the host of one build in one network namespace: `tag` is
// "<netns inode>-<build id prefix>" (docs/sessions.md §1), e.g.
// "DIR/host-4026531840-1a2b3c4d5e6f7a8b.sock". Hosts of other builds (an
// upgrade while sessions run) or of other namespaces (whose UDP ports this
// one cannot reach) never share a socket.
std::string ControlSocketPath(const std::string& dir, const std::string& tag);
std::string ControlLockPath(const std::string& dir, const std::string& tag);
// The host sockets in `dir` other than `own` (hosts of other builds or
// namespaces), sorted.
std::vector<std::string> OtherHostSockets(const std::string& dir, const std::string& own);

// Creates `dir` (mode 0700) if missing, then checks it as described above.
absl::Status EnsurePrivateDirectory(const std::string& dir, uid_t uid);

// Binds and listens on `path` (a stale socket file there is replaced; the
// caller holds the lock, so no live host owns it). Mode 0600, close-on-exec,
// nonblocking.
absl::StatusOr<sys::ScopedFd> ListenControlSocket(const std::string& path);

// Connects to the host at `path` (blocking, close-on-exec).
absl::StatusOr<sys::ScopedFd> ConnectControlSocket(const std::string& path);

// The uid of the process at the other end of a connected Unix socket.
absl::StatusOr<uid_t> PeerUid(int fd);

// Takes an exclusive flock(2) on `path` (created 0600), waiting at most
// `timeout`. The lock lives as long as the returned descriptor.
// DeadlineExceeded when another process kept it.
absl::StatusOr<sys::ScopedFd> LockFile(const std::string& path, absl::Duration timeout);

// Sends one message as one packet, with `pass_fd` (>= 0) attached.
absl::Status SendControlMessage(int fd, const ControlMessage& message, int pass_fd = -1);

struct ReceivedMessage {
  ControlMessage message;
  sys::ScopedFd fd;  // a descriptor that came with it, or invalid
};

// Waits up to `timeout` for one packet and parses it. Unavailable when the
// peer closed the connection, DeadlineExceeded on timeout, InvalidArgument
// for a bad message (see ParseControlMessage). A packet carrying more than
// one descriptor is refused (all of them closed).
absl::StatusOr<ReceivedMessage> ReceiveControlMessage(int fd, absl::Duration timeout);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_CONTROL_SOCKET_H_
