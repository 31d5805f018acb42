#include "net/packet.h"

#include <array>
#include <string>

#include "gtest/gtest.h"
#include "net/gcm_aes128.h"
#include "net/vector_file.h"

namespace moshx::net {
namespace {

using testing::Hex;
using testing::ToHex;

SessionKey TestKey() {
  std::array<uint8_t, 16> raw{};
  for (int i = 0; i < 16; ++i) raw[i] = static_cast<uint8_t>(i);
  return SessionKey(raw);
}

Packet SamplePacket(Direction direction, uint64_t seq) {
  Packet p;
  p.direction = direction;
  p.seq = seq;
  p.timestamp = 0x1234;
  p.timestamp_reply = kNoTimestamp;
  p.payload = std::string("\0\0\0\0\0\0\0\x01\x80\x00zlib...", 17);
  return p;
}

TEST(PacketTest, NonceIsDirectionBitAndSeqBehindFourZeroBytes) {
  EXPECT_EQ(MakeNonceValue(Direction::kToServer, 5), 5u);
  EXPECT_EQ(MakeNonceValue(Direction::kToClient, 5), kDirectionBit | 5);
  AeadNonce nonce = MakeAeadNonce(MakeNonceValue(Direction::kToClient, 0x0102030405060708));
  EXPECT_EQ(ToHex(std::string(nonce.begin(), nonce.end())), "000000008102030405060708");
}

// docs/protocol.md §13, client_first_datagram: the client's first datagram, key 00..0F.
TEST(PacketTest, OpensCapturedClientDatagram) {
  PacketCodec codec = PacketCodec::Mosh(TestKey());
  auto packet = codec.Open(
      Hex("0000000000000000517d66f4084be973226e05710c1e899b02428c8571949d686f4420ca31f006"
          "0ca43d50ffb19ef09836fbdba15fb460a6f099c2102c9578f1bd8c6ad8e120"),
      Direction::kToServer);
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->seq, 0u);
  EXPECT_EQ(packet->timestamp, 0x6A48);
  EXPECT_EQ(packet->timestamp_reply, kNoTimestamp);
  EXPECT_EQ(ToHex(packet->payload),
            "00000000000000018000789ce360126090605460d06030e2e0629362d1083090b062e27d040015"
            "1102cf");
}

TEST(PacketTest, SealIsDeterministicAndMatchesCapturedBytes) {
  PacketCodec codec = PacketCodec::Mosh(TestKey());
  Packet p;
  p.direction = Direction::kToServer;
  p.seq = 0;
  p.timestamp = 0x6A48;
  p.timestamp_reply = kNoTimestamp;
  p.payload = Hex(
      "00000000000000018000789ce360126090605460d06030e2e0629362d1083090b062e27d0400151102cf");
  EXPECT_EQ(ToHex(codec.Seal(p)),
            "0000000000000000517d66f4084be973226e05710c1e899b02428c8571949d686f4420ca31f006"
            "0ca43d50ffb19ef09836fbdba15fb460a6f099c2102c9578f1bd8c6ad8e120");
}

class PacketModeTest : public ::testing::TestWithParam<WireMode> {
 protected:
  PacketCodec MakeCodec(uint64_t connection_id = 0xC0FFEE) {
    return GetParam() == WireMode::kMosh ? PacketCodec::Mosh(TestKey())
                                         : PacketCodec::Moshx(TestKey(), connection_id);
  }
};

TEST_P(PacketModeTest, RoundTripsBothDirections) {
  PacketCodec codec = MakeCodec();
  for (Direction d : {Direction::kToServer, Direction::kToClient}) {
    Packet p = SamplePacket(d, kSeqMask);
    std::string datagram = codec.Seal(p);
    EXPECT_EQ(datagram.size(), codec.overhead() + p.payload.size());
    auto back = codec.Open(datagram, d);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, p);
  }
}

TEST_P(PacketModeTest, FlippedCiphertextByteFailsOpen) {
  PacketCodec codec = MakeCodec();
  std::string datagram = codec.Seal(SamplePacket(Direction::kToClient, 77));
  int drops = 0;
  for (size_t i = 0; i < datagram.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string bad = datagram;
      bad[i] ^= static_cast<char>(mask);
      if (!codec.Open(bad, Direction::kToClient).ok()) ++drops;
    }
  }
  EXPECT_EQ(drops, static_cast<int>(datagram.size() * 3));
}

TEST_P(PacketModeTest, RejectsTruncatedAndOversizedDatagrams) {
  PacketCodec codec = MakeCodec();
  std::string datagram = codec.Seal(SamplePacket(Direction::kToServer, 1));
  for (size_t len = 0; len < datagram.size(); ++len) {
    auto r = codec.Open(datagram.substr(0, len), Direction::kToServer);
    EXPECT_FALSE(r.ok()) << len;
  }
  Packet big = SamplePacket(Direction::kToServer, 2);
  big.payload.assign(kMaxDatagramSize, 'x');
  auto r = codec.Open(codec.Seal(big), Direction::kToServer);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(PacketModeTest, RejectsOwnDirection) {
  PacketCodec codec = MakeCodec();
  auto r = codec.Open(codec.Seal(SamplePacket(Direction::kToServer, 3)), Direction::kToClient);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_P(PacketModeTest, WrongKeyIsAnAuthenticationFailure) {
  PacketCodec codec = MakeCodec();
  PacketCodec other = GetParam() == WireMode::kMosh
                          ? PacketCodec::Mosh(SessionKey(std::array<uint8_t, 16>{}))
                          : PacketCodec::Moshx(SessionKey(std::array<uint8_t, 16>{}), 0xC0FFEE);
  auto r = other.Open(codec.Seal(SamplePacket(Direction::kToServer, 3)), Direction::kToServer);
  EXPECT_TRUE(IsAuthenticationFailure(r.status())) << r.status();
}

INSTANTIATE_TEST_SUITE_P(BothModes, PacketModeTest,
                         ::testing::Values(WireMode::kMosh, WireMode::kMoshx));

TEST(PacketTest, MoshxPutsConnectionIdInFrontAndAuthenticatesIt) {
  PacketCodec codec = PacketCodec::Moshx(TestKey(), 0x0102030405060708);
  std::string datagram = codec.Seal(SamplePacket(Direction::kToServer, 9));
  EXPECT_EQ(ToHex(datagram.substr(0, 16)), "01020304050607080000000000000009");
  EXPECT_EQ(PacketCodec::PeekConnectionId(datagram).value(), 0x0102030405060708u);
  EXPECT_FALSE(PacketCodec::PeekConnectionId(datagram.substr(0, 7)).ok());
  PacketCodec other_id = PacketCodec::Moshx(TestKey(), 0x0102030405060709);
  EXPECT_EQ(other_id.Open(datagram, Direction::kToServer).status().code(),
            absl::StatusCode::kNotFound);
  // Same id claimed by a codec with the same key but a datagram whose id was
  // rewritten: the AD no longer matches.
  std::string rewritten = datagram;
  rewritten[7] = 0x09;
  EXPECT_TRUE(IsAuthenticationFailure(other_id.Open(rewritten, Direction::kToServer).status()));
}

TEST(PacketTest, PlaintextNeedsBothTimestamps) {
  Packet p;
  EXPECT_FALSE(DecodePlaintext("", &p).ok());
  EXPECT_FALSE(DecodePlaintext("abc", &p).ok());
  ASSERT_TRUE(DecodePlaintext(EncodePlaintext(1, 2, "xyz"), &p).ok());
  EXPECT_EQ(p.timestamp, 1);
  EXPECT_EQ(p.timestamp_reply, 2);
  EXPECT_EQ(p.payload, "xyz");
}

// A datagram whose tag verifies but whose plaintext is < 4 bytes is dropped.
TEST(PacketTest, AuthenticShortPlaintextIsDropped) {
  auto aead = std::make_unique<GcmAes128>(TestKey());
  uint64_t n = MakeNonceValue(Direction::kToServer, 4);
  std::string datagram = Hex("0000000000000004");
  aead->Seal(MakeAeadNonce(n), "", "ab", &datagram);
  PacketCodec codec(WireMode::kMosh, std::move(aead));
  EXPECT_EQ(codec.Open(datagram, Direction::kToServer).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moshx::net
