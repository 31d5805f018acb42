#include "cmd/router/router_frame.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace moshx::cmd::router {
namespace {

constexpr size_t kIdFrameSize = 1 + 8;
constexpr size_t kRefusedFrameSize = 1 + 8 + 1;

void AppendU64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadU64(absl::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

// type | family | 16 IP bytes | port.
void AppendAddress(FrameType type, const net::Address& address, std::string* out) {
  out->push_back(static_cast<char>(type));
  out->push_back(address.family() == net::AddressFamily::kIPv4 ? 4 : 6);
  absl::string_view ip = address.ip_bytes();
  out->append(ip.data(), ip.size());
  out->append(16 - ip.size(), '\0');
  out->push_back(static_cast<char>(address.port() >> 8));
  out->push_back(static_cast<char>(address.port() & 0xFF));
}

// The address of an 'H' or 'D' frame (bytes[1..19]).
absl::StatusOr<net::Address> ParseAddress(absl::string_view bytes) {
  const char family = bytes[1];
  if (family != 4 && family != 6) {
    return absl::InvalidArgumentError(absl::StrCat("router frame '", bytes.substr(0, 1),
                                                   "': address family ",
                                                   static_cast<int>(family)));
  }
  absl::string_view ip = bytes.substr(2, 16);
  if (family == 4 && ip.substr(4).find_first_not_of('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("router frame '", bytes.substr(0, 1),
                                                   "': IPv4 address with padding"));
  }
  const uint16_t port = static_cast<uint16_t>((static_cast<uint8_t>(bytes[18]) << 8) |
                                              static_cast<uint8_t>(bytes[19]));
  return family == 4 ? net::Address::FromBytes(net::AddressFamily::kIPv4, ip.substr(0, 4), port)
                     : net::Address::FromBytes(net::AddressFamily::kIPv6, ip, port);
}

}  // namespace

Frame ClaimFrame(uint64_t id) {
  Frame f;
  f.type = FrameType::kClaim;
  f.id = id;
  return f;
}

Frame ForgetFrame(uint64_t id) {
  Frame f;
  f.type = FrameType::kForget;
  f.id = id;
  return f;
}

Frame ClaimedFrame(uint64_t id) {
  Frame f;
  f.type = FrameType::kClaimed;
  f.id = id;
  return f;
}

Frame RefusedFrame(uint64_t id, RefuseReason reason) {
  Frame f;
  f.type = FrameType::kRefused;
  f.id = id;
  f.reason = reason;
  return f;
}

Frame HelloFrame(const net::Address& router_address) {
  Frame f;
  f.type = FrameType::kHello;
  f.address = router_address;
  return f;
}

Frame DatagramFrame(const net::Address& address, std::string datagram,
                    bool congestion_experienced) {
  Frame f;
  f.type = FrameType::kDatagram;
  f.address = address;
  f.datagram = std::move(datagram);
  f.congestion_experienced = congestion_experienced;
  return f;
}

absl::Status EncodeDatagramFrame(const net::Address& address, absl::string_view datagram,
                                 bool congestion_experienced, std::string* out) {
  if (datagram.empty() || datagram.size() > net::kMaxReceiveSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("router frame: a datagram of ", datagram.size(), " bytes"));
  }
  out->clear();
  AppendAddress(FrameType::kDatagram, address, out);
  out->push_back(congestion_experienced ? 1 : 0);
  out->append(datagram.data(), datagram.size());
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeFrame(const Frame& frame) {
  std::string out;
  switch (frame.type) {
    case FrameType::kClaim:
    case FrameType::kForget:
    case FrameType::kClaimed:
      out.push_back(static_cast<char>(frame.type));
      AppendU64(frame.id, &out);
      return out;
    case FrameType::kRefused:
      out.push_back(static_cast<char>(frame.type));
      AppendU64(frame.id, &out);
      out.push_back(static_cast<char>(frame.reason));
      return out;
    case FrameType::kHello:
      AppendAddress(FrameType::kHello, frame.address, &out);
      return out;
    case FrameType::kDatagram: {
      absl::Status s =
          EncodeDatagramFrame(frame.address, frame.datagram, frame.congestion_experienced, &out);
      if (!s.ok()) return s;
      return out;
    }
  }
  return absl::InvalidArgumentError("router frame: unknown type");
}

absl::StatusOr<Frame> ParseFrame(absl::string_view bytes) {
  if (bytes.empty()) return absl::InvalidArgumentError("router frame: empty");
  Frame f;
  switch (bytes[0]) {
    case 'C':
    case 'F':
    case 'A':
      if (bytes.size() != kIdFrameSize) {
        return absl::InvalidArgumentError(absl::StrCat("router frame '", bytes.substr(0, 1),
                                                       "': ", bytes.size(), " bytes, want ",
                                                       kIdFrameSize));
      }
      f.type = static_cast<FrameType>(bytes[0]);
      f.id = ReadU64(bytes.substr(1));
      return f;
    case 'N': {
      if (bytes.size() != kRefusedFrameSize) {
        return absl::InvalidArgumentError(absl::StrCat("router frame 'N': ", bytes.size(),
                                                       " bytes, want ", kRefusedFrameSize));
      }
      uint8_t reason = static_cast<uint8_t>(bytes[9]);
      if (reason < 1 || reason > 3) {
        return absl::InvalidArgumentError(absl::StrCat("router frame 'N': reason ", reason));
      }
      f.type = FrameType::kRefused;
      f.id = ReadU64(bytes.substr(1));
      f.reason = static_cast<RefuseReason>(reason);
      return f;
    }
    case 'D': {
      if (bytes.size() <= kDatagramHeaderSize || bytes.size() > kMaxFrameSize) {
        return absl::InvalidArgumentError(
            absl::StrCat("router frame 'D': ", bytes.size(), " bytes, want ",
                         kDatagramHeaderSize + 1, "..", kMaxFrameSize));
      }
      absl::StatusOr<net::Address> address = ParseAddress(bytes);
      if (!address.ok()) return address.status();
      const uint8_t flags = static_cast<uint8_t>(bytes[20]);
      if (flags > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("router frame 'D': flags ", static_cast<int>(flags)));
      }
      f.type = FrameType::kDatagram;
      f.address = *address;
      f.congestion_experienced = flags & 1;
      f.datagram = std::string(bytes.substr(kDatagramHeaderSize));
      return f;
    }
    case 'H': {
      if (bytes.size() != kHelloFrameSize) {
        return absl::InvalidArgumentError(absl::StrCat("router frame 'H': ", bytes.size(),
                                                       " bytes, want ", kHelloFrameSize));
      }
      absl::StatusOr<net::Address> address = ParseAddress(bytes);
      if (!address.ok()) return address.status();
      f.type = FrameType::kHello;
      f.address = *address;
      return f;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("router frame: unknown type 0x",
                       absl::Hex(static_cast<uint8_t>(bytes[0]), absl::kZeroPad2)));
  }
}

}  // namespace moshx::cmd::router
