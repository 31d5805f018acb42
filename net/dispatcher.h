// Dispatcher: owns one datagram socket and routes every datagram that
// arrives on it to one of many associations (docs/protocol.md §9), as QUIC's
// dispatcher routes packets to connections by connection id.
//
// moshx mode: each association is named by its 64-bit connection id, the
// cleartext first 8 bytes of every datagram (net/packet_format.h). The
// dispatcher reads the id without decrypting and hands the datagram to that
// association's path; the association's Connection then authenticates it
// (the id is associated data, so a forged id fails there). A datagram too
// short to be a moshx packet, or whose id names no association, is a
// counted drop, and such a drop allocates no memory: the dispatcher reads
// into one reused buffer (DatagramSocket::ReceiveInto) and looks the id up
// in a hash map.
//
// mosh mode (no id on the wire): one association per socket; every datagram
// goes to it. A second AddAssociation() fails.
//
// Each association is a Path (net/path.h) to hand to a Connection (through
// TransportDeps::path). It sends from the dispatcher's socket to its own peer,
// which its Connection sets on an authentic datagram (roaming,
// docs/protocol.md §8.1); its MTU follows its peer's family and drops to
// 500 bytes on EMSGSIZE, as UdpPath's does. It never hops ports (the server
// side does not).
//
// Ownership: the dispatcher owns the socket and watches it on `loop` while it
// exists; `loop` must outlive it. Every association path must be destroyed
// before the dispatcher (destroying one removes its id; a datagram for it is
// then an unknown id). Not thread-safe: loop thread only. A receive handler
// may destroy its own or another association, but not the dispatcher.
#ifndef MOSHX_NET_DISPATCHER_H_
#define MOSHX_NET_DISPATCHER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "net/datagram_socket.h"
#include "net/event_loop.h"
#include "net/packet_format.h"
#include "net/path.h"

namespace moshx::net {

struct DispatcherStats {
  uint64_t datagrams_received = 0;      // read from the socket whole
  uint64_t routed = 0;                  // handed to an association
  uint64_t dropped_unknown_id = 0;      // moshx: no association has this id
  uint64_t dropped_short = 0;           // moshx: shorter than header + tag
  uint64_t dropped_no_association = 0;  // mosh: no association added yet
  uint64_t dropped_oversize = 0;        // socket reported a truncated datagram
  uint64_t receive_errors = 0;          // other socket errors
};

class Dispatcher {
 public:
  // Datagrams read per readable callback (as UdpPath): drains bursts without
  // starving the loop's other descriptors and timers.
  static constexpr int kMaxReadsPerWakeup = 64;

  // Takes `socket` (not null) and watches it on `loop`. Fails if the loop
  // cannot watch it.
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Create(
      EventLoop* loop, std::unique_ptr<DatagramSocket> socket, WireMode mode);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // A path for a new association. `connection_id` is its moshx id (ignored in
  // mosh mode); `peer` is where it sends before its Connection learns the
  // peer from traffic (nullopt for a server). AlreadyExists if the id is
  // taken (moshx) or the socket already has its association (mosh).
  absl::StatusOr<std::unique_ptr<Path>> AddAssociation(uint64_t connection_id,
                                                       std::optional<Address> peer);

  size_t association_count() const;
  Address local_address() const { return socket_->local_address(); }
  const DispatcherStats& stats() const { return stats_; }
  WireMode mode() const { return mode_; }

 private:
  class Association;

  Dispatcher(EventLoop* loop, std::unique_ptr<DatagramSocket> socket, WireMode mode);
  void OnReadable();
  void Route();
  void Remove(Association* association);

  EventLoop* const loop_;
  const std::unique_ptr<DatagramSocket> socket_;
  const WireMode mode_;
  absl::flat_hash_map<uint64_t, Association*> by_id_;  // moshx mode
  Association* only_ = nullptr;                          // mosh mode
  Datagram buffer_;  // reused for every receive: drops allocate nothing
  DispatcherStats stats_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_DISPATCHER_H_
