#include "net/datagram_socket.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace moshx::net {
namespace {

// Marks EMSGSIZE statuses so callers can tell them from other send errors.
constexpr absl::string_view kTooLargePayload = "moshx.net/datagram-too-large";

}  // namespace

absl::Status DatagramSocket::ReceiveInto(Datagram* out) {
  absl::StatusOr<Datagram> d = ReceiveFrom();
  if (!d.ok()) return d.status();
  *out = *std::move(d);
  return absl::OkStatus();
}

absl::StatusOr<Address> Address::Parse(absl::string_view ip, uint16_t port) {
  std::string text(ip);
  uint8_t buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    return FromBytes(AddressFamily::kIPv4,
                     absl::string_view(reinterpret_cast<char*>(buf), 4), port);
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return FromBytes(AddressFamily::kIPv6,
                     absl::string_view(reinterpret_cast<char*>(buf), 16), port);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a numeric IP address: \"", ip, "\""));
}

Address Address::FromBytes(AddressFamily family, absl::string_view bytes,
                           uint16_t port) {
  Address a;
  a.family_ = family;
  a.port_ = port;
  size_t n = family == AddressFamily::kIPv4 ? 4 : 16;
  std::memcpy(a.ip_.data(), bytes.data(), std::min(n, bytes.size()));
  return a;
}

absl::string_view Address::ip_bytes() const {
  return absl::string_view(reinterpret_cast<const char*>(ip_.data()),
                           family_ == AddressFamily::kIPv4 ? 4 : 16);
}

std::string Address::IpString() const {
  char buf[INET6_ADDRSTRLEN];
  int af = family_ == AddressFamily::kIPv4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, ip_.data(), buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

std::string Address::ToString() const {
  if (family_ == AddressFamily::kIPv6) {
    return absl::StrCat("[", IpString(), "]:", port_);
  }
  return absl::StrCat(IpString(), ":", port_);
}

bool IsDatagramTooLarge(const absl::Status& status) {
  return status.GetPayload(kTooLargePayload).has_value();
}

absl::Status DatagramTooLargeError(size_t size) {
  absl::Status status = absl::OutOfRangeError(
      absl::StrCat("sendto: datagram of ", size, " bytes too large (EMSGSIZE)"));
  status.SetPayload(kTooLargePayload, absl::Cord("1"));
  return status;
}

}  // namespace moshx::net
