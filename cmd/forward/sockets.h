// The socket calls forwarding needs, with errors as clear Status messages:
// TCP listeners and nonblocking connects, unix-domain sockets for the agent.
// Every descriptor returned is nonblocking and close-on-exec.
//
// Name resolution uses getaddrinfo(3), which blocks the calling (loop)
// thread while it runs; numeric addresses and names in /etc/hosts resolve
// at once.
#ifndef MOSHX_CMD_FORWARD_SOCKETS_H_
#define MOSHX_CMD_FORWARD_SOCKETS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cmd/sys/scoped_fd.h"

namespace moshx::cmd::forward {

// Listens on `bind` ("localhost": the loopback address, "*": every IPv4
// interface, or an address/name) and `port`. The message names the address
// and the reason, e.g. "cannot listen on localhost:80 (ports below 1024 need
// privileges): Permission denied" or "...: Address already in use".
absl::StatusOr<sys::ScopedFd> ListenTcp(const std::string& bind, uint16_t port);
// The port a listener is bound to.
uint16_t LocalPort(int fd);

// Starts a nonblocking connect to host:port (the first address that takes
// it). The caller waits for writability, then calls FinishConnect().
absl::StatusOr<sys::ScopedFd> StartConnectTcp(const std::string& host, uint16_t port);
// OK once the connect succeeded; the connect error otherwise.
absl::Status FinishConnect(int fd);

absl::StatusOr<sys::ScopedFd> ListenUnix(const std::string& path);
absl::StatusOr<sys::ScopedFd> ConnectUnix(const std::string& path);

// accept4() a nonblocking connection; Unavailable if none is waiting.
absl::StatusOr<sys::ScopedFd> Accept(int listener);

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_SOCKETS_H_
