// RouterDatagramSocket: a net::DatagramSocket whose datagrams travel through
// `moshx router` (docs/router.md §3) instead of a UDP port of its own; what a
// session host uses when a router runs. A transport runs on it unchanged:
// SendTo becomes a 'D' frame to the router, which sends it from the shared
// port; ReceiveFrom returns the 'D' frames the router forwards for the ids
// this socket claimed.
//
// Router restarts: when the router's connection ends, the socket reconnects
// at its next SendTo (the session sends at least a heartbeat every 3 s),
// claims its ids again and carries on; the descriptor number fd() stays the
// same throughout (the new connection is dup2()ed onto it), so an EventLoop
// watch on it stays valid. While no router is there, the descriptor is one
// that never becomes readable, sends fail with Unavailable (like a full
// socket buffer: the transport resends later), and nothing is received.
//
// Errors: Connect/Claim as documented there; SendTo: Unavailable (buffer
// full, or no router right now), InvalidArgument (empty or oversize
// datagram); ReceiveFrom: Unavailable when nothing waits. Datagrams that
// arrive while Claim waits for its answer are dropped, as lost UDP
// datagrams would be (SSP resends).
//
// Ownership: owns its descriptors. Thread-compatible; loop thread only.
#ifndef MOSHX_CMD_ROUTER_ROUTER_DATAGRAM_SOCKET_H_
#define MOSHX_CMD_ROUTER_ROUTER_DATAGRAM_SOCKET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/router/router_frame.h"
#include "cmd/sys/scoped_fd.h"
#include "net/datagram_socket.h"

namespace moshx::cmd::router {

class RouterDatagramSocket : public net::DatagramSocket {
 public:
  // Connects to the router listening at `path` and waits up to `timeout` for
  // its hello. NotFound when no router listens there.
  static absl::StatusOr<std::unique_ptr<RouterDatagramSocket>> Connect(
      const std::string& path, absl::Duration timeout);
  // The same over a connection made elsewhere (tests: a socketpair the router
  // adopted); `reconnect_path` empty: never reconnects.
  static absl::StatusOr<std::unique_ptr<RouterDatagramSocket>> Adopt(
      sys::ScopedFd connection, std::string reconnect_path, absl::Duration timeout);

  ~RouterDatagramSocket() override = default;
  RouterDatagramSocket(const RouterDatagramSocket&) = delete;
  RouterDatagramSocket& operator=(const RouterDatagramSocket&) = delete;

  // Claims `id` and waits up to `timeout` for the answer (reconnecting first
  // when the router went away). PermissionDenied: another user's host holds
  // it; ResourceExhausted: the router or this user holds its maximum;
  // DeadlineExceeded; Unavailable: no router.
  absl::Status Claim(uint64_t id, absl::Duration timeout);
  // When the router's connection ended: connects again and claims every id
  // again (what SendTo does by itself; for a host whose sessions are all
  // quiet). OK when connected; Unavailable while no router answers.
  absl::Status EnsureConnected();
  // Gives `id` up (the router also forgets it when this socket closes).
  absl::Status Forget(uint64_t id);

  int fd() const override { return fd_.get(); }
  // The router's UDP address, as its hello said.
  net::Address local_address() const override { return router_address_; }
  net::AddressFamily family() const override { return router_address_.family(); }
  absl::Status SendTo(const net::Address& to, absl::string_view payload) override;
  absl::StatusOr<net::Datagram> ReceiveFrom() override;

  bool connected() const { return connected_; }
  uint64_t reconnects() const { return reconnects_; }
  uint64_t dropped_while_claiming() const { return dropped_while_claiming_; }

 private:
  RouterDatagramSocket(sys::ScopedFd fd, std::string path);

  // Reads the hello on the current connection.
  absl::Status ReadHello(absl::Duration timeout);
  // Sends a claim and waits for its answer on the current connection.
  absl::Status ClaimNow(uint64_t id, absl::Duration timeout);
  // The connection ended: park fd_ on a never-readable descriptor.
  void Disconnected();
  // Connects again, reads the hello and claims every id again.
  absl::Status Reconnect();

  sys::ScopedFd fd_;
  // The write end of the pipe whose read end stands in for fd_ while
  // disconnected (kept open so the read end never reports a hangup).
  sys::ScopedFd idle_writer_;
  std::string path_;
  net::Address router_address_;
  std::vector<uint64_t> ids_;
  bool connected_ = true;
  uint64_t reconnects_ = 0;
  uint64_t dropped_while_claiming_ = 0;
  std::string out_;  // reused frame buffer
  std::string in_;   // reused receive buffer
};

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_ROUTER_DATAGRAM_SOCKET_H_
