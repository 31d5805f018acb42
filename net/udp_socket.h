// UdpSocket: the production DatagramSocket (POSIX UDP, IPv4 or IPv6).
//
// Sockets are nonblocking and close-on-exec, and carry the options of
// docs/protocol.md §8.3 where the platform has them:
//   * path-MTU discovery off (IP_MTU_DISCOVER / IPV6_MTU_DISCOVER =
//     PMTUDISC_DONT): SSP sizes its own datagrams (1252/1216/500 bytes) and
//     must not depend on ICMP "fragmentation needed" reaching us through NATs;
//     failure is an error for IPv4 (as in mosh), ignored for IPv6;
//   * ECT(0) in the traffic class (IP_TOS / IPV6_TCLASS = 0x02) so routers may
//     mark congestion instead of dropping (best effort);
//   * receipt of the TOS / traffic class byte (IP_RECVTOS / IPV6_RECVTCLASS)
//     so Datagram::congestion_experienced can be reported (best effort);
//   * an IPv6 wildcard ("::") bind clears IPV6_V6ONLY to accept v4-mapped
//     peers, as mosh does.
// EMSGSIZE from sendto() is reported with DatagramTooLargeError() so the
// Connection can drop its MTU to 500 bytes (docs/protocol.md §5.2).
//
// Constructed only by cmd/ and by its own test. Owns its descriptor.
// Not thread-safe.
#ifndef MOSHX_NET_UDP_SOCKET_H_
#define MOSHX_NET_UDP_SOCKET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "net/datagram_socket.h"

namespace moshx::net {

// An inclusive range of UDP ports tried in increasing order. {0, 0} lets the
// kernel choose an ephemeral port.
struct PortRange {
  uint16_t low = 0;
  uint16_t high = 0;
  std::string ToString() const;  // "60001:60999" or "60001"
};

// mosh's default server range (PORT_RANGE_LOW/HIGH; the documentation's
// "60000-61000" is approximate, docs/protocol.md §8.4).
inline constexpr PortRange kDefaultPortRange{60001, 60999};

class UdpSocket : public DatagramSocket {
 public:
  // Binds to `ip` (its port is ignored) on the first free port of `range`.
  // When every port is taken: ResourceExhausted naming the address and the
  // range, e.g. "no free UDP port in 60001:60003 on 127.0.0.1: Address
  // already in use". Other bind failures (e.g. an address not on this host)
  // stop the search and are reported with the port that failed.
  // InvalidArgument if low > high or low == 0 < high.
  static absl::StatusOr<std::unique_ptr<UdpSocket>> Bind(const Address& ip,
                                                         PortRange range);
  // A socket on the wildcard address of `family` and an ephemeral port.
  static absl::StatusOr<std::unique_ptr<UdpSocket>> OpenEphemeral(
      AddressFamily family);

  ~UdpSocket() override;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const override { return fd_; }
  Address local_address() const override { return local_; }
  AddressFamily family() const override { return local_.family(); }
  absl::Status SendTo(const Address& to, absl::string_view payload) override;
  absl::StatusOr<Datagram> ReceiveFrom() override;
  absl::Status ReceiveInto(Datagram* out) override;

 private:
  UdpSocket(int fd, Address local) : fd_(fd), local_(local) {}

  const int fd_;
  const Address local_;
};

// DatagramSocketFactory for client port hopping: OpenEphemeral().
class UdpSocketFactory : public DatagramSocketFactory {
 public:
  absl::StatusOr<std::unique_ptr<DatagramSocket>> Open(
      AddressFamily family) override;
};

}  // namespace moshx::net

#endif  // MOSHX_NET_UDP_SOCKET_H_
