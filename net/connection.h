// Connection: the encrypted datagram channel to one peer (docs/protocol.md §3–§4, §8).
//
// A Connection seals outgoing fragment payloads into datagrams (PacketCodec:
// OCB3 in mosh mode, GCM + connection id in moshx mode) with a fresh
// per-direction sequence number each, stamps them with the 16-bit timestamp
// and the echo of the peer's latest timestamp, and sends them to the peer.
// Incoming datagrams are opened and checked; the payload of every authentic
// datagram goes to the receive handler.
//
// Sequence numbers and roaming (docs/protocol.md §3.6, §8.1): the receiver remembers the
// next expected sequence number. An authentic datagram with seq >= expected
// is "in order": it advances expected, feeds the RTT estimator and the
// timestamp echo, refreshes last_heard(), and — on the server only — moves
// the remote address to its source. An authentic but older datagram (a
// duplicate, a reordered or a replayed one) is still delivered, because the
// transport above is idempotent, but changes nothing here. So a forged
// datagram (fails authentication) or a replayed old one from another address
// never moves the server. The client never changes the server address.
//
// Below the Connection is a Path (net/path.h): it carries datagrams and
// keeps the peer's address; the Connection decides. On the server, the
// Connection moves the path's peer to the source of each in-order authentic
// datagram, and — after a send, if nothing authentic arrived for 40 s —
// clears it, so the server goes silent until the client reappears
// (docs/protocol.md §8.1). Port hopping and the MTU are the path's
// (net/udp_path.h).
//
// Every rejected datagram is a counted drop (stats()), never an error
// returned to the caller and never a crash.
//
// Ownership: owns its path and codec; `clock` must outlive it. Not
// thread-safe: loop thread only (the path's loop).
#ifndef MOSHX_NET_CONNECTION_H_
#define MOSHX_NET_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/clock.h"
#include "net/datagram_socket.h"
#include "net/packet.h"
#include "net/path.h"
#include "net/rtt_estimator.h"

namespace moshx::net {

enum class Role { kClient, kServer };

// The sequence number a sender whose key may have been used before starts
// at (docs/protocol.md §3.3): the Unix time `now` in microseconds times 1024.
// Two runs of a client given the same key therefore never send the same
// (key, nonce) unless one run sent more than 1024 datagrams per
// microsecond it lasted. Before 1970: 0; the result never exceeds the
// 63-bit sequence space (it saturates in the year 2262). `now` comes from
// cmd/ (the real wall clock); tests pass any time.
uint64_t TimeBasedFirstSequence(absl::Time now);

struct ConnectionStats {
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;     // authentic, delivered
  uint64_t out_of_order = 0;           // authentic, seq < expected (still delivered)
  uint64_t dropped_auth = 0;           // failed authentication (forged/corrupt)
  uint64_t dropped_malformed = 0;      // too short/long, bad plaintext, unknown conn id
  uint64_t dropped_direction = 0;      // our own direction reflected back
  uint64_t dropped_oversize = 0;       // path: truncated datagram
  uint64_t send_errors = 0;            // path: send failures (incl. EMSGSIZE)
  uint64_t mtu_reductions = 0;         // path: EMSGSIZE -> MTU 500
  uint64_t roams = 0;                  // server: address adopted (first contact too)
  uint64_t port_hops = 0;              // path (UDP client): new source socket
  uint64_t detaches = 0;               // server: client forgotten after 40 s
};

class Connection {
 public:
  // How long the server keeps a silent client's address (SERVER_ASSOCIATION_TIMEOUT).
  static constexpr absl::Duration kServerAssociationTimeout = absl::Seconds(40);
  // Called with the payload (one encoded fragment) of each authentic datagram.
  using ReceiveHandler = std::function<void(std::string payload)>;

  // A client's path must know its peer (the server); a server's path may
  // not know it yet (it learns the client from traffic). InvalidArgument
  // for a null path, a client path without a peer or a `first_seq` beyond
  // the 63-bit sequence space. The first datagram sent carries `first_seq`,
  // each next one the next number.
  static absl::StatusOr<std::unique_ptr<Connection>> Create(const Clock* clock,
                                                           std::unique_ptr<Path> path,
                                                           PacketCodec codec, Role role,
                                                           uint64_t first_seq = 0);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_receive_handler(ReceiveHandler handler) { handler_ = std::move(handler); }
  // Observer for server-side address changes ("Server now attached to
  // client at ..."); also called with nullopt on detach.
  void set_remote_address_observer(std::function<void(std::optional<Address>)> f) {
    on_remote_change_ = std::move(f);
  }

  // Seals and sends one fragment payload to the peer. FailedPrecondition if
  // the peer's address is unknown (server before first contact or after
  // detach); ResourceExhausted if the sequence counter or the key's block
  // budget (2^47 AES blocks) is used up — the session must end then. Socket
  // errors are counted and returned (IsDatagramTooLarge(): MTU lowered).
  absl::Status Send(absl::string_view payload);

  // Largest fragment contents that keep a datagram within the current MTU.
  size_t max_fragment_contents() const;
  size_t mtu() const { return path_->mtu(); }

  bool has_remote_address() const { return path_->peer().has_value(); }
  std::optional<Address> remote_address() const { return path_->peer(); }
  Address local_address() const { return path_->local_address(); }
  // Time of the last in-order authentic datagram.
  std::optional<MonoTime> last_heard() const { return last_heard_; }
  // The transport reports the send time of the newest acknowledged state.
  void set_last_roundtrip_success(MonoTime t) { last_roundtrip_success_ = t; }

  const RttEstimator& rtt() const { return rtt_; }
  // The Connection's counts with the path's (dropped_oversize, send_errors,
  // mtu_reductions, port_hops) filled in.
  ConnectionStats stats() const;
  Role role() const { return role_; }
  WireMode mode() const { return codec_.mode(); }

 private:
  Connection(const Clock* clock, std::unique_ptr<Path> path, PacketCodec codec, Role role,
             uint64_t first_seq);
  void Receive(Datagram datagram);
  void CountDrop(const absl::Status& status);
  void AfterSend(MonoTime now);

  const Clock* const clock_;
  std::unique_ptr<Path> path_;
  PacketCodec codec_;
  const Role role_;
  const Direction send_direction_;
  uint64_t next_seq_ = 0;
  uint64_t expected_seq_ = 0;
  uint64_t blocks_sealed_ = 0;
  RttEstimator rtt_;
  TimestampEcho echo_;
  std::optional<MonoTime> last_heard_;
  MonoTime last_roundtrip_success_;
  ReceiveHandler handler_;
  std::function<void(std::optional<Address>)> on_remote_change_;
  ConnectionStats stats_;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_CONNECTION_H_
