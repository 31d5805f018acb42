// UdpPath: the Path (net/path.h) over UDP sockets it owns — today's and mosh's
// behaviour, moved out of the Connection.
//
// Client (constructed with the server's address): sends to that address and
// never changes it. After a send, if no socket was opened for 10 s and no
// round trip succeeded for 10 s, it opens a new socket from its
// DatagramSocketFactory and sends from it; older sockets keep receiving
// until the newest is 60 s old, at most 10 open (docs/protocol.md §8.2).
//
// Server (constructed without a peer): sends to whatever address the
// Connection last set with SetPeer(); nothing before (docs/protocol.md §8.1).
//
// MTU (docs/protocol.md §5.2): 1252 bytes for IPv4, 1216 for IPv6 (the peer's
// family, or the socket's before a peer is known); an EMSGSIZE from the
// socket drops it for good to 500.
//
// Ownership: owns its sockets and watches them on `loop` while it exists;
// `loop`, `clock` and `socket_factory` (may be null: no port hopping) must
// outlive it. Not thread-safe: loop thread only.
#ifndef MOSHX_NET_UDP_PATH_H_
#define MOSHX_NET_UDP_PATH_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/clock.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"
#include "net/path.h"

namespace moshx::net {

class UdpPath : public Path {
 public:
  // Client port hopping: try a new source port after this long without a
  // successful round trip (mosh's PORT_HOP_INTERVAL) — it is what gets a
  // roaming client through a NAT that lost its binding.
  static constexpr absl::Duration kPortHopInterval = absl::Seconds(10);
  // Old sockets kept for late replies: at most this many, closed once the
  // newest socket is older than kMaxOldSocketAge.
  static constexpr size_t kMaxPortsOpen = 10;
  static constexpr absl::Duration kMaxOldSocketAge = absl::Seconds(60);

  // `socket` must not be null. `peer` is the server's address for a client
  // and nullopt for a server. Fails if the socket cannot be watched on `loop`.
  static absl::StatusOr<std::unique_ptr<UdpPath>> Create(
      EventLoop* loop, const Clock* clock, std::unique_ptr<DatagramSocket> socket,
      DatagramSocketFactory* socket_factory, std::optional<Address> peer);
  ~UdpPath() override;
  UdpPath(const UdpPath&) = delete;
  UdpPath& operator=(const UdpPath&) = delete;

  void set_receive_handler(ReceiveHandler handler) override { handler_ = std::move(handler); }
  absl::Status Send(absl::string_view datagram) override;
  size_t mtu() const override { return mtu_; }
  std::optional<Address> peer() const override { return peer_; }
  void SetPeer(const Address& peer) override { peer_ = peer; }
  void ClearPeer() override { peer_.reset(); }
  Address local_address() const override { return sockets_.back().socket->local_address(); }
  void AfterSend(MonoTime now, MonoTime last_roundtrip_success) override;
  PathStats stats() const override { return stats_; }

 private:
  struct OwnedSocket {
    std::unique_ptr<DatagramSocket> socket;
    MonoTime opened;
  };

  UdpPath(EventLoop* loop, const Clock* clock, DatagramSocketFactory* factory,
          std::optional<Address> peer);
  absl::Status AddSocket(std::unique_ptr<DatagramSocket> socket);
  void OnReadable(DatagramSocket* socket);
  void MaybeHopPort(MonoTime now, MonoTime last_roundtrip_success);
  void PruneOldSockets(MonoTime now);

  EventLoop* const loop_;
  const Clock* const clock_;
  DatagramSocketFactory* const socket_factory_;
  std::vector<OwnedSocket> sockets_;  // newest last; sends use the newest
  std::optional<Address> peer_;
  size_t mtu_;
  MonoTime last_port_choice_;
  ReceiveHandler handler_;
  PathStats stats_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_UDP_PATH_H_
