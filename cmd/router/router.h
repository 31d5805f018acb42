// Router: the forwarding core of `moshx router` (docs/router.md). It owns
// one UDP socket shared by every user's sessions and a listening Unix socket
// to which each user's session host connects. It forwards each moshx-mode
// datagram, still encrypted, to the host that claimed the datagram's
// cleartext connection id, and sends the hosts' replies from the same UDP
// socket. It decrypts nothing and holds no key.
//
// Per host connection (SOCK_SEQPACKET, frames of cmd/router/router_frame.h):
//   * the router first says hello: 'H' with its UDP address;
//   * the host's user is the uid SO_PEERCRED reports when it connects (the
//     PeerUidFunction; tests inject their own);
//   * 'C' claims an id for that host (RouteTable's rules: never another
//     user's id, bounded per user and in all), answered by 'A' or 'N';
//   * 'F' gives one up; closing the connection gives up all of them;
//   * 'D' from the host is a datagram to send; it must carry an id the host
//     holds and go to an address a datagram for that id came from recently.
// Every datagram that cannot be forwarded is a counted drop (stats()): too
// short to be a moshx datagram, an unknown id, a host that is not reading
// (its socket buffer full: the router never queues), a reply not allowed.
// Bad frames from a host are counted and ignored.
//
// Ownership and threading: the router owns both sockets and every host
// connection, and watches them on `loop`, which must outlive it. Loop thread
// only.
#ifndef MOSHX_CMD_ROUTER_ROUTER_H_
#define MOSHX_CMD_ROUTER_ROUTER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/router/route_table.h"
#include "cmd/router/router_frame.h"
#include "cmd/sys/scoped_fd.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"

namespace moshx::cmd::router {

struct RouterStats {
  uint64_t datagrams_in = 0;           // read from the UDP socket
  uint64_t forwarded_in = 0;           // handed to a host
  uint64_t dropped_short = 0;          // shorter than a moshx datagram
  uint64_t dropped_unknown_id = 0;     // no host holds its id
  uint64_t dropped_host_busy = 0;      // the host's socket was full or gone
  uint64_t dropped_oversize = 0;       // larger than net::kMaxReceiveSize
  uint64_t datagrams_out = 0;          // replies sent from the UDP socket
  uint64_t dropped_out_refused = 0;    // reply under an id not held, or to an address not seen
  uint64_t dropped_out_send_error = 0;
  uint64_t claims = 0;
  uint64_t claims_refused = 0;
  uint64_t bad_frames = 0;
  uint64_t hosts_accepted = 0;
  uint64_t hosts_refused = 0;          // over max_hosts, or no peer uid
};

struct RouterConfig {
  RouteLimits limits;
  size_t max_hosts = 4096;
  // Datagrams read per socket per wake-up, so one busy socket cannot starve
  // the others.
  int reads_per_wakeup = 64;
};

class Router {
 public:
  using PeerUidFunction = std::function<absl::StatusOr<uid_t>(int fd)>;

  // `listener` is a listening SOCK_SEQPACKET Unix socket (nonblocking), or
  // invalid when hosts are only added through AddHost(). Errors: the loop
  // refused to watch a descriptor.
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      net::EventLoop* loop, std::unique_ptr<net::DatagramSocket> socket, sys::ScopedFd listener,
      PeerUidFunction peer_uid, RouterConfig config = {});
  ~Router();

  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // A connected host socket (SOCK_SEQPACKET) of user `uid`, what accepting
  // from the listener does after asking PeerUid. ResourceExhausted over
  // max_hosts (the socket is closed).
  absl::Status AddHost(sys::ScopedFd fd, uid_t uid);

  const RouterStats& stats() const { return stats_; }
  const RouteTable& table() const { return table_; }
  net::Address local_address() const { return socket_->local_address(); }

 private:
  struct Host {
    sys::ScopedFd fd;
    uid_t uid = 0;
  };

  Router(net::EventLoop* loop, std::unique_ptr<net::DatagramSocket> socket,
         sys::ScopedFd listener, PeerUidFunction peer_uid, RouterConfig config);

  void OnUdpReadable();
  void OnListenerReadable();
  void OnHostReadable(HostId id);
  void HandleFrame(HostId id, Host& host, absl::string_view bytes);
  void RemoveHost(HostId id);
  // Sends one packet to a host without waiting; false when it did not go.
  bool SendToHost(const Host& host, absl::string_view bytes);

  net::EventLoop* loop_;
  std::unique_ptr<net::DatagramSocket> socket_;
  sys::ScopedFd listener_;
  PeerUidFunction peer_uid_;
  RouterConfig options_;
  RouteTable table_;
  absl::flat_hash_map<HostId, Host> hosts_;
  HostId next_host_ = 1;
  std::string out_;      // reused frame buffer
  std::string in_;       // reused receive buffer
  RouterStats stats_;
};

}  // namespace moshx::cmd::router

#endif  // MOSHX_CMD_ROUTER_ROUTER_H_
