#include "net/udp_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace moshx::net {
namespace {

constexpr int kEct0 = 0x02;  // ECN-capable transport, no DSCP (docs/protocol.md §8.3)

socklen_t ToSockaddr(const Address& a, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (a.family() == AddressFamily::kIPv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port());
    std::memcpy(&sin->sin_addr, a.ip_bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(a.port());
  std::memcpy(&sin6->sin6_addr, a.ip_bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

Address FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    return Address::FromBytes(
        AddressFamily::kIPv4,
        absl::string_view(reinterpret_cast<const char*>(&sin->sin_addr), 4),
        ntohs(sin->sin_port));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  return Address::FromBytes(
      AddressFamily::kIPv6,
      absl::string_view(reinterpret_cast<const char*>(&sin6->sin6_addr), 16),
      ntohs(sin6->sin6_port));
}

bool IsWildcard(const Address& a) {
  for (char c : a.ip_bytes()) {
    if (c != 0) return false;
  }
  return true;
}

// Options of docs/protocol.md §8.3. Only the IPv4 PMTUD switch is mandatory.
absl::Status ConfigureSocket(int fd, const Address& bind_ip) {
  int one = 1, zero = 0, tos = kEct0;
  if (bind_ip.family() == AddressFamily::kIPv4) {
    int pmtud = IP_PMTUDISC_DONT;
    if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtud, sizeof(pmtud)) != 0) {
      return absl::ErrnoToStatus(errno, "setsockopt(IP_MTU_DISCOVER)");
    }
    setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
  } else {
    int pmtud = IPV6_PMTUDISC_DONT;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtud, sizeof(pmtud));
    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
    if (IsWildcard(bind_ip)) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
  }
  return absl::OkStatus();
}

// A configured, unbound socket; caller closes it on failure.
absl::StatusOr<int> NewSocket(const Address& bind_ip) {
  int af = bind_ip.family() == AddressFamily::kIPv4 ? AF_INET : AF_INET6;
  int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  absl::Status s = ConfigureSocket(fd, bind_ip);
  if (!s.ok()) {
    close(fd);
    return s;
  }
  return fd;
}

// Tries to bind `fd` to `ip`:`port`; returns errno (0 on success).
int TryBind(int fd, const Address& ip, uint16_t port) {
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(ip.WithPort(port), &ss);
  return bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 ? 0 : errno;
}

bool IsCongestionExperienced(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    int tos = -1;
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && c->cmsg_len >= CMSG_LEN(1)) {
      tos = *reinterpret_cast<unsigned char*>(CMSG_DATA(c));
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
               c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      std::memcpy(&tos, CMSG_DATA(c), sizeof(int));
    }
    if (tos >= 0 && (tos & 3) == 3) return true;
  }
  return false;
}

}  // namespace

std::string PortRange::ToString() const {
  if (low == high) return absl::StrCat(low);
  return absl::StrCat(low, ":", high);
}

absl::StatusOr<std::unique_ptr<UdpSocket>> UdpSocket::Bind(const Address& ip,
                                                           PortRange range) {
  if (range.low > range.high || (range.low == 0 && range.high != 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad UDP port range ", range.ToString()));
  }
  absl::StatusOr<int> fd = NewSocket(ip);
  if (!fd.ok()) return fd.status();
  int err = 0;
  for (uint32_t port = range.low; port <= range.high; ++port) {
    err = TryBind(*fd, ip, static_cast<uint16_t>(port));
    if (err == 0) {
      sockaddr_storage ss;
      socklen_t len = sizeof(ss);
      getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len);
      return std::unique_ptr<UdpSocket>(new UdpSocket(*fd, FromSockaddr(ss)));
    }
    if (err != EADDRINUSE && err != EACCES) break;
  }
  close(*fd);
  if (err == EADDRINUSE || err == EACCES) {
    return absl::ResourceExhaustedError(
        absl::StrCat("no free UDP port in ", range.ToString(), " on ",
                     ip.IpString(), ": ", std::strerror(err)));
  }
  return absl::ErrnoToStatus(
      err, absl::StrCat("bind to ", ip.IpString(), " in port range ", range.ToString()));
}

absl::StatusOr<std::unique_ptr<UdpSocket>> UdpSocket::OpenEphemeral(
    AddressFamily family) {
  Address wildcard = Address::FromBytes(family, std::string(16, '\0'), 0);
  return Bind(wildcard, PortRange{0, 0});
}

UdpSocket::~UdpSocket() { close(fd_); }

absl::Status UdpSocket::SendTo(const Address& to, absl::string_view payload) {
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(to, &ss);
  ssize_t n = sendto(fd_, payload.data(), payload.size(), MSG_DONTWAIT,
                     reinterpret_cast<sockaddr*>(&ss), len);
  if (n >= 0) return absl::OkStatus();
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    return absl::UnavailableError("sendto: would block");
  }
  if (errno == EMSGSIZE) return DatagramTooLargeError(payload.size());
  return absl::ErrnoToStatus(errno, absl::StrCat("sendto ", to.ToString()));
}

absl::StatusOr<Datagram> UdpSocket::ReceiveFrom() {
  Datagram d;
  absl::Status s = ReceiveInto(&d);
  if (!s.ok()) return s;
  return d;
}

absl::Status UdpSocket::ReceiveInto(Datagram* out) {
  char buf[kMaxReceiveSize];
  alignas(cmsghdr) char control[256];
  sockaddr_storage ss;
  iovec iov{buf, sizeof(buf)};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof(ss);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) {
    // No message: a Status without one is stored inline, not allocated.
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::UnavailableError("");
    return absl::ErrnoToStatus(errno, "recvmsg");
  }
  if (msg.msg_flags & MSG_TRUNC) {
    return absl::DataLossError("received oversize datagram (dropped)");
  }
  out->payload.assign(buf, static_cast<size_t>(n));
  out->from = FromSockaddr(ss);
  out->congestion_experienced = IsCongestionExperienced(&msg);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DatagramSocket>> UdpSocketFactory::Open(
    AddressFamily family) {
  absl::StatusOr<std::unique_ptr<UdpSocket>> s = UdpSocket::OpenEphemeral(family);
  if (!s.ok()) return s.status();
  return std::unique_ptr<DatagramSocket>(std::move(*s));
}

}  // namespace moshx::net
