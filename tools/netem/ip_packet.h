// What the TUN relay needs to know of an IP packet: version, transport
// protocol, addresses. A test tool (tun_relay.h); packets come from network
// namespaces the test made, but the parser still checks every length.
#ifndef MOSHX_TOOLS_NETEM_IP_PACKET_H_
#define MOSHX_TOOLS_NETEM_IP_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/netem/link_model.h"

namespace moshx::netem {

struct IpPacketInfo {
  int version = 0;          // 4 or 6
  Proto proto = Proto::kOther;
  uint32_t src_v4 = 0;      // host byte order; IPv4 only
  uint32_t dst_v4 = 0;
};

// Reads the fixed IPv4 or IPv6 header at the start of `data`. False when
// the bytes are no IP packet (too short, bad version or header length).
// IPv6 extension headers are not followed: a packet whose first next-header
// is not TCP, UDP or ICMPv6 counts as kOther.
bool ParseIpPacket(const uint8_t* data, size_t size, IpPacketInfo* info);

// An IPv4 prefix such as 10.77.1.0/24 (host byte order).
struct Ipv4Prefix {
  uint32_t addr = 0;
  int length = 0;
  bool Contains(uint32_t a) const {
    uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    return (a & mask) == (addr & mask);
  }
};
// "A.B.C.D/N" or "A.B.C.D" (a /32). InvalidArgument otherwise.
absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(absl::string_view text);
std::string Ipv4String(uint32_t addr);

}  // namespace moshx::netem

#endif  // MOSHX_TOOLS_NETEM_IP_PACKET_H_
