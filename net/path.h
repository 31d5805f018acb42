// Path: what the encrypted Connection needs from below — a way to send one
// datagram to the peer, a stream of datagrams received, the largest datagram
// that fits, and who the peer is (which the Connection may move when an
// authentic datagram arrives from elsewhere: roaming, docs/protocol.md §8.1).
//
// Implementations:
//   * UdpPath (net/udp_path.h): UDP sockets it owns; the client's path hops
//     source ports, the server's follows the client's address.
//   * Dispatcher::Association (net/dispatcher.h): one association's share of
//     sockets a Dispatcher owns, datagrams routed by connection id.
//   * StreamPath (net/stream_path.h): length-prefixed datagrams over a pair
//     of file descriptors (a socketpair, the SSH channel).
//   * DualPath (net/dual_path.h): a client's preferred path (UDP) and a
//     fallback (the SSH stream), chosen by which delivers authentic datagrams.
// The Connection does not know which one it runs on: it seals, opens and
// decides; the path only carries bytes and keeps the address it was told.
//
// Datagrams handed to Send() are whole sealed packets (at most mtu() bytes);
// datagrams delivered to the receive handler are unauthenticated bytes from
// anyone — the Connection opens them and counts what fails.
//
// Failure: Send() returns FailedPrecondition when no peer is known, a status
// for which IsDatagramTooLarge() holds when the datagram did not fit (the path
// has then lowered mtu()), UnavailableError when it would block, and
// another error when the path is broken. A datagram the path could not
// receive whole is counted in stats().dropped_oversize, never delivered.
//
// Threading: none; every call on the loop thread of the EventLoop the path
// was created with. The receive handler runs on that thread, from the loop.
#ifndef MOSHX_NET_PATH_H_
#define MOSHX_NET_PATH_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "net/clock.h"
#include "net/datagram_socket.h"

namespace moshx::net {

// What a path counts; the Connection reports these in its own stats.
struct PathStats {
  uint64_t dropped_oversize = 0;  // received datagram truncated / too long
  uint64_t send_errors = 0;       // failed sends (incl. EMSGSIZE), failed hops
  uint64_t mtu_reductions = 0;    // EMSGSIZE -> MTU lowered
  uint64_t port_hops = 0;         // UDP client: new source socket
};

class Path {
 public:
  // Called with each datagram that arrived on the path (from any source).
  using ReceiveHandler = std::function<void(Datagram datagram)>;

  virtual ~Path() = default;

  // Replaces the handler. Datagrams arriving with no handler set are read
  // and discarded.
  virtual void set_receive_handler(ReceiveHandler handler) = 0;

  // Sends one datagram to peer(). See the file comment for errors.
  virtual absl::Status Send(absl::string_view datagram) = 0;

  // The largest datagram Send() accepts now; it may shrink (never grow)
  // after a Send() that reported IsDatagramTooLarge().
  virtual size_t mtu() const = 0;

  // Where Send() goes; nullopt before the peer is known or after ClearPeer().
  virtual std::optional<Address> peer() const = 0;
  // The Connection authenticated an in-order datagram from `peer` (server
  // side: the client roamed there). Later sends go to `peer`.
  virtual void SetPeer(const Address& peer) = 0;
  // Forget the peer (server side: silent for too long). Sends fail until
  // SetPeer() is called again.
  virtual void ClearPeer() = 0;

  // The address datagrams leave from (the newest socket for a hopping path;
  // a fixed placeholder for paths that have no addresses).
  virtual Address local_address() const = 0;

  // Called by the Connection after each send with the time of the last
  // successful round trip, so a path that can change its source (UDP port
  // hopping, docs/protocol.md §8.2) may do so. Default: nothing.
  virtual void AfterSend(MonoTime now, MonoTime last_roundtrip_success) {}

  // Called by the Connection, from within the receive handler, when the
  // datagram being handled was authentic and in order (client and server),
  // so a path made of several (net/dual_path.h) learns which of them works.
  // Default: nothing.
  virtual void OnAuthentic(MonoTime now) {}

  virtual PathStats stats() const = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_PATH_H_
