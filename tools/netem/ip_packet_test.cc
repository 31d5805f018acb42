#include "tools/netem/ip_packet.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::netem {
namespace {

std::vector<uint8_t> Ipv4(uint8_t proto, uint32_t src, uint32_t dst,
                          uint8_t ihl_words = 5) {
  std::vector<uint8_t> p(ihl_words * 4 + 8, 0);
  p[0] = 0x40 | ihl_words;
  p[9] = proto;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
    p[16 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
  }
  return p;
}

TEST(ParseIpPacketTest, ReadsIpv4ProtocolAndAddresses) {
  IpPacketInfo info;
  std::vector<uint8_t> p = Ipv4(17, 0x0a4d0102, 0x0a4d0202);
  ASSERT_TRUE(ParseIpPacket(p.data(), p.size(), &info));
  EXPECT_EQ(info.version, 4);
  EXPECT_EQ(info.proto, Proto::kUdp);
  EXPECT_EQ(info.src_v4, 0x0a4d0102u);
  EXPECT_EQ(info.dst_v4, 0x0a4d0202u);
  p = Ipv4(6, 1, 2, 6);  // with options
  ASSERT_TRUE(ParseIpPacket(p.data(), p.size(), &info));
  EXPECT_EQ(info.proto, Proto::kTcp);
  p = Ipv4(1, 1, 2);
  ASSERT_TRUE(ParseIpPacket(p.data(), p.size(), &info));
  EXPECT_EQ(info.proto, Proto::kIcmp);
  p = Ipv4(47, 1, 2);  // GRE
  ASSERT_TRUE(ParseIpPacket(p.data(), p.size(), &info));
  EXPECT_EQ(info.proto, Proto::kOther);
}

TEST(ParseIpPacketTest, ReadsIpv6NextHeader) {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60;
  p[6] = 58;
  IpPacketInfo info;
  ASSERT_TRUE(ParseIpPacket(p.data(), p.size(), &info));
  EXPECT_EQ(info.version, 6);
  EXPECT_EQ(info.proto, Proto::kIcmp);
}

TEST(ParseIpPacketTest, RejectsTruncatedAndForeignBytes) {
  IpPacketInfo info;
  std::vector<uint8_t> p = Ipv4(17, 1, 2);
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_FALSE(ParseIpPacket(p.data(), n, &info)) << n;
  }
  p[0] = 0x44;  // IHL 4 words: below the minimum
  EXPECT_FALSE(ParseIpPacket(p.data(), p.size(), &info));
  p[0] = 0x4f;  // 60-byte header in a 28-byte packet
  EXPECT_FALSE(ParseIpPacket(p.data(), p.size(), &info));
  p[0] = 0x50;
  EXPECT_FALSE(ParseIpPacket(p.data(), p.size(), &info));
  std::vector<uint8_t> v6(39, 0);
  v6[0] = 0x60;
  EXPECT_FALSE(ParseIpPacket(v6.data(), v6.size(), &info));
}

TEST(Ipv4PrefixTest, ParsesAndMatches) {
  absl::StatusOr<Ipv4Prefix> p = ParseIpv4Prefix("10.77.1.0/24");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Contains(0x0a4d0102));
  EXPECT_TRUE(p->Contains(0x0a4d01ff));
  EXPECT_FALSE(p->Contains(0x0a4d0202));
  absl::StatusOr<Ipv4Prefix> host = ParseIpv4Prefix("10.77.1.2");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->length, 32);
  EXPECT_FALSE(host->Contains(0x0a4d0103));
  absl::StatusOr<Ipv4Prefix> any = ParseIpv4Prefix("0.0.0.0/0");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->Contains(0xffffffff));
  for (const char* bad : {"10.77.1/24", "10.77.1.0/33", "10.77.1.0/x",
                          "banana", "10.77.1.0/", "::1"}) {
    EXPECT_FALSE(ParseIpv4Prefix(bad).ok()) << bad;
  }
  EXPECT_EQ(Ipv4String(0x0a4d0102), "10.77.1.2");
}

}  // namespace
}  // namespace moshx::netem
