#include "cmd/host/relay_frame.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace moshx::cmd {
namespace {

constexpr size_t kIpBytes = 16;

}  // namespace

absl::Status EncodeRelayDatagram(const net::Address& address, absl::string_view datagram,
                                 bool congestion_experienced, std::string* out) {
  if (datagram.empty() || datagram.size() > net::kMaxReceiveSize) {
    return absl::InvalidArgumentError(absl::StrCat("relay datagram of ", datagram.size(),
                                                   " bytes (1 to ", net::kMaxReceiveSize, ")"));
  }
  out->clear();
  out->push_back(kRelayDatagram);
  out->push_back(address.family() == net::AddressFamily::kIPv4 ? 4 : 6);
  const absl::string_view ip = address.ip_bytes();
  out->append(ip.data(), ip.size());
  out->append(kIpBytes - ip.size(), '\0');
  out->push_back(static_cast<char>(address.port() >> 8));
  out->push_back(static_cast<char>(address.port() & 0xFF));
  out->push_back(congestion_experienced ? 1 : 0);
  out->append(datagram.data(), datagram.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRelayControl(const ControlMessage& message) {
  absl::StatusOr<std::string> body = EncodeControlMessage(message);
  if (!body.ok()) return body.status();
  return absl::StrCat(absl::string_view(&kRelayControl, 1), *body);
}

absl::StatusOr<RelayDatagramView> ParseRelayDatagram(absl::string_view bytes) {
  if (bytes.empty() || bytes[0] != kRelayDatagram) {
    return absl::InvalidArgumentError("relay frame is not a datagram frame");
  }
  if (bytes.size() <= kRelayDatagramHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("relay datagram frame of ", bytes.size(), " bytes: no datagram"));
  }
  if (bytes.size() > kMaxRelayDatagramFrameSize) {
    return absl::InvalidArgumentError(absl::StrCat("relay datagram frame of ", bytes.size(),
                                                   " bytes (at most ",
                                                   kMaxRelayDatagramFrameSize, ")"));
  }
  const uint8_t family = static_cast<uint8_t>(bytes[1]);
  if (family != 4 && family != 6) {
    return absl::InvalidArgumentError(absl::StrCat("relay frame: address family ", family));
  }
  const absl::string_view ip = bytes.substr(2, kIpBytes);
  const size_t used = family == 4 ? 4 : 16;
  if (ip.substr(used).find_first_not_of('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("relay frame: nonzero padding after an IPv4 address");
  }
  const uint16_t port = static_cast<uint16_t>(static_cast<uint8_t>(bytes[18]) << 8 |
                                              static_cast<uint8_t>(bytes[19]));
  const uint8_t flags = static_cast<uint8_t>(bytes[20]);
  if ((flags & ~1u) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("relay frame: unknown flags ", flags));
  }
  RelayDatagramView view;
  view.address = net::Address::FromBytes(
      family == 4 ? net::AddressFamily::kIPv4 : net::AddressFamily::kIPv6, ip.substr(0, used),
      port);
  view.congestion_experienced = (flags & 1) != 0;
  view.datagram = bytes.substr(kRelayDatagramHeaderSize);
  return view;
}

absl::StatusOr<RelayFrame> ParseRelayFrame(absl::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty relay frame");
  RelayFrame frame;
  frame.type = bytes[0];
  if (bytes[0] == kRelayDatagram) {
    absl::StatusOr<RelayDatagramView> view = ParseRelayDatagram(bytes);
    if (!view.ok()) return view.status();
    frame.address = view->address;
    frame.congestion_experienced = view->congestion_experienced;
    frame.datagram = std::string(view->datagram);
    return frame;
  }
  if (bytes[0] == kRelayControl) {
    absl::StatusOr<ControlMessage> message = ParseControlMessage(bytes.substr(1));
    if (!message.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("relay control frame: ", message.status().message()));
    }
    frame.control = *std::move(message);
    return frame;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("relay frame of unknown type 0x",
                   absl::Hex(static_cast<uint8_t>(bytes[0]), absl::kZeroPad2)));
}

}  // namespace moshx::cmd
