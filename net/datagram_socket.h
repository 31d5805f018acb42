// Datagram sockets: the interface through which net/ sends and receives UDP.
//
// Address is a value type naming an IPv4 or IPv6 address and a UDP port; it
// knows nothing about sockaddr so the simulated network can use it too.
// DatagramSocket is one bound, nonblocking socket; production uses UdpSocket
// (net/udp_socket.h), tests use sockets of net::testing::SimulatedNetwork.
// DatagramSocketFactory opens fresh sockets of one address family; the client
// uses it for port hopping (docs/protocol.md §8.2).
//
// Failure reporting (no exceptions):
//   * SendTo/ReceiveFrom return absl::UnavailableError when the operation
//     would block (nothing to read / send buffer full).
//   * SendTo reports a datagram larger than the path allows (EMSGSIZE) with a
//     status for which IsDatagramTooLarge() is true; the caller must lower
//     its MTU (docs/protocol.md §5.2: permanently to 500 bytes).
//   * ReceiveFrom drops datagrams larger than kMaxReceiveSize and reports
//     absl::DataLossError for each (mosh's "Received oversize datagram").
//   * Any other OS error comes back as absl::InternalError naming the call.
//
// Ownership: a socket owns its descriptor and closes it when destroyed. The
// descriptor from fd() may be watched in the EventLoop the socket belongs to
// and must be unwatched before the socket is destroyed.
// Thread-safety: none; use from the loop thread.
#ifndef MOSHX_NET_DATAGRAM_SOCKET_H_
#define MOSHX_NET_DATAGRAM_SOCKET_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::net {

enum class AddressFamily { kIPv4, kIPv6 };

// An IP address and port. Default-constructed: 0.0.0.0:0.
class Address {
 public:
  Address() = default;

  // Parses a numeric IPv4 ("127.0.0.1") or IPv6 ("::1", without brackets)
  // address. InvalidArgument for anything else (names are not resolved).
  static absl::StatusOr<Address> Parse(absl::string_view ip, uint16_t port);
  // From raw network-order bytes (4 bytes for IPv4, 16 for IPv6).
  static Address FromBytes(AddressFamily family, absl::string_view bytes,
                           uint16_t port);

  AddressFamily family() const { return family_; }
  uint16_t port() const { return port_; }
  Address WithPort(uint16_t port) const {
    Address a = *this;
    a.port_ = port;
    return a;
  }
  // 4 or 16 network-order bytes.
  absl::string_view ip_bytes() const;
  // "127.0.0.1" / "::1".
  std::string IpString() const;
  // "127.0.0.1:60001" / "[::1]:60001".
  std::string ToString() const;

  friend bool operator==(const Address& a, const Address& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.ip_ == b.ip_;
  }
  friend bool operator!=(const Address& a, const Address& b) { return !(a == b); }
  friend bool operator<(const Address& a, const Address& b) {
    return std::tie(a.family_, a.ip_, a.port_) < std::tie(b.family_, b.ip_, b.port_);
  }
  template <typename H>
  friend H AbslHashValue(H h, const Address& a) {
    return H::combine(std::move(h), a.family_, a.ip_, a.port_);
  }

 private:
  AddressFamily family_ = AddressFamily::kIPv4;
  std::array<uint8_t, 16> ip_{};  // IPv4 uses the first 4 bytes.
  uint16_t port_ = 0;
};

// One received datagram.
struct Datagram {
  std::string payload;
  Address from;
  // The IP header carried ECN "congestion experienced" (TOS & 3 == 3).
  bool congestion_experienced = false;
};

// Largest datagram a receiver accepts (mosh's RECEIVE_MTU); larger ones are
// dropped. Senders stay far below it (1252/1216/500-byte MTUs,
// docs/protocol.md §5.2).
inline constexpr size_t kMaxReceiveSize = 2048;

// True for the status SendTo returns when the datagram exceeds the path MTU.
bool IsDatagramTooLarge(const absl::Status& status);
// The status an implementation returns for EMSGSIZE.
absl::Status DatagramTooLargeError(size_t size);

class DatagramSocket {
 public:
  virtual ~DatagramSocket() = default;

  // A descriptor the owning EventLoop can watch for kReadable.
  virtual int fd() const = 0;
  // The bound local address (port filled in after an ephemeral bind).
  virtual Address local_address() const = 0;
  virtual AddressFamily family() const = 0;

  // Sends one datagram. See the header comment for the error contract.
  virtual absl::Status SendTo(const Address& to, absl::string_view payload) = 0;
  // Receives one datagram; UnavailableError when none is waiting.
  virtual absl::StatusOr<Datagram> ReceiveFrom() = 0;

  // As ReceiveFrom(), into `*out` (left unspecified on error), reusing the
  // capacity of out->payload: a receiver that keeps one Datagram and reserved
  // kMaxReceiveSize allocates nothing per datagram, nor for the would-block
  // status (which carries no message) — the Dispatcher's drops rely on it.
  // The default calls ReceiveFrom() and so allocates; UdpSocket overrides it.
  virtual absl::Status ReceiveInto(Datagram* out);
};

// Opens new sockets bound to an ephemeral port (client port hopping).
class DatagramSocketFactory {
 public:
  virtual ~DatagramSocketFactory() = default;
  virtual absl::StatusOr<std::unique_ptr<DatagramSocket>> Open(
      AddressFamily family) = 0;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_DATAGRAM_SOCKET_H_
