#include "tools/netem/ip_packet.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moshx::netem {
namespace {

Proto FromIpProto(uint8_t p, bool v6) {
  switch (p) {
    case 6:
      return Proto::kTcp;
    case 17:
      return Proto::kUdp;
    case 1:
      return v6 ? Proto::kOther : Proto::kIcmp;
    case 58:
      return v6 ? Proto::kIcmp : Proto::kOther;
    default:
      return Proto::kOther;
  }
}

uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         uint32_t{p[3]};
}

}  // namespace

bool ParseIpPacket(const uint8_t* data, size_t size, IpPacketInfo* info) {
  if (size < 1) return false;
  int version = data[0] >> 4;
  if (version == 4) {
    size_t ihl = (data[0] & 0x0f) * 4u;
    if (ihl < 20 || size < ihl) return false;
    info->version = 4;
    info->proto = FromIpProto(data[9], false);
    info->src_v4 = Be32(data + 12);
    info->dst_v4 = Be32(data + 16);
    return true;
  }
  if (version == 6) {
    if (size < 40) return false;
    info->version = 6;
    info->proto = FromIpProto(data[6], true);
    info->src_v4 = info->dst_v4 = 0;
    return true;
  }
  return false;
}

absl::StatusOr<Ipv4Prefix> ParseIpv4Prefix(absl::string_view text) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('/', 1));
  Ipv4Prefix prefix;
  in_addr a{};
  if (inet_pton(AF_INET, parts.first.c_str(), &a) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 address: '", parts.first, "'"));
  }
  prefix.addr = ntohl(a.s_addr);
  prefix.length = 32;
  if (absl::string_view(text).find('/') != absl::string_view::npos &&
      (!absl::SimpleAtoi(parts.second, &prefix.length) || prefix.length < 0 ||
       prefix.length > 32)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad prefix length in '", text, "'"));
  }
  return prefix;
}

std::string Ipv4String(uint32_t addr) {
  return absl::StrCat(addr >> 24, ".", (addr >> 16) & 255, ".",
                      (addr >> 8) & 255, ".", addr & 255);
}

}  // namespace moshx::netem
