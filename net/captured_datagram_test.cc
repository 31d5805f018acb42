// End-to-end check against the datagrams captured from real mosh 1.4.0
// binaries (testdata/mosh/captured_datagrams.txt, docs/protocol.md §13):
// decrypt, reassemble, decompress and decode to exactly the listed fields;
// re-encode; and make sure every single-byte corruption or truncation is a counted drop.
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "net/compressor.h"
#include "net/fragment.h"
#include "net/instruction.h"
#include "net/packet.h"
#include "net/vector_file.h"

namespace moshx::net {
namespace {

using testing::Hex;
using testing::ToHex;
using testing::VectorRecord;

std::vector<VectorRecord> Captured() {
  auto records = testing::ReadVectorFile("testdata/mosh/captured_datagrams.txt");
  EXPECT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records.ok() ? records->size() : 0u, 4u);
  return records.ok() ? *records : std::vector<VectorRecord>();
}

uint64_t Num(const VectorRecord& r, const std::string& key) {
  uint64_t v = 0;
  EXPECT_TRUE(absl::SimpleAtoi(r.at(key), &v)) << key;
  return v;
}

uint16_t Hex16(const VectorRecord& r, const std::string& key) {
  std::string b = Hex(r.at(key));
  return static_cast<uint16_t>(static_cast<uint8_t>(b[0]) << 8 | static_cast<uint8_t>(b[1]));
}

PacketCodec CodecFor(const VectorRecord& r) {
  auto key = SessionKey::FromBase64(r.at("key"));
  EXPECT_TRUE(key.ok());
  return PacketCodec::Mosh(*key);
}

Direction DirectionOf(const VectorRecord& r) {
  return Num(r, "direction") ? Direction::kToClient : Direction::kToServer;
}

void ExpectInstructionFields(const VectorRecord& r, const Instruction& in) {
  EXPECT_EQ(in.protocol_version, Num(r, "protocol_version"));
  EXPECT_EQ(in.old_num, Num(r, "old_num"));
  EXPECT_EQ(in.new_num, Num(r, "new_num"));
  EXPECT_EQ(in.ack_num, Num(r, "ack_num"));
  EXPECT_EQ(in.throwaway_num, Num(r, "throwaway_num"));
  EXPECT_EQ(ToHex(in.diff), ToHex(Hex(r.at("diff"))));
  EXPECT_EQ(ToHex(in.chaff), ToHex(Hex(r.at("chaff"))));
  EXPECT_TRUE(in.unknown_fields.empty());
  EXPECT_EQ(ToHex(in.Serialize()), ToHex(Hex(r.at("instruction"))));
}

TEST(CapturedDatagramTest, DecodesToTheListedFields) {
  for (const VectorRecord& r : Captured()) {
    SCOPED_TRACE(r.at("name"));
    auto packet = CodecFor(r).Open(Hex(r.at("datagram")), DirectionOf(r));
    ASSERT_TRUE(packet.ok()) << packet.status();
    EXPECT_EQ(packet->seq, Num(r, "seq"));
    if (r.count("timestamp")) {
      EXPECT_EQ(packet->timestamp, Hex16(r, "timestamp"));
    }
    if (r.count("timestamp_reply")) {
      EXPECT_EQ(packet->timestamp_reply, Hex16(r, "timestamp_reply"));
    }
    if (r.count("plaintext")) {
      EXPECT_EQ(ToHex(EncodePlaintext(packet->timestamp, packet->timestamp_reply,
                                      packet->payload)),
                ToHex(Hex(r.at("plaintext"))));
    }
    auto fragment = Fragment::Decode(packet->payload);
    ASSERT_TRUE(fragment.ok());
    EXPECT_EQ(fragment->id, Num(r, "fragment_id"));
    EXPECT_EQ(fragment->number, Num(r, "fragment_number"));
    EXPECT_EQ(fragment->final, Num(r, "final") == 1);
    ZlibCompressor zlib;
    FragmentAssembler assembler(&zlib);
    auto instruction = assembler.Add(packet->payload);
    ASSERT_TRUE(instruction.ok()) << instruction.status();
    ASSERT_TRUE(instruction->has_value());
    ExpectInstructionFields(r, **instruction);
  }
}

// The diffs themselves are opaque here; core/protocol/messages_test.cc
// decodes them as UserMessage/HostMessage.
TEST(CapturedDatagramTest, AcksAndShutdownCarryNoDiff) {
  std::vector<VectorRecord> records = Captured();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_FALSE(Hex(records[0].at("diff")).empty());
  EXPECT_TRUE(Hex(records[1].at("diff")).empty());
  EXPECT_FALSE(Hex(records[2].at("diff")).empty());
  EXPECT_EQ(Num(records[3], "new_num"), ~uint64_t{0});  // shutdown
}

// Our encoder's output for the same fields is accepted by the same decoder.
TEST(CapturedDatagramTest, ReencodedDatagramsDecodeToTheSameInstruction) {
  for (const VectorRecord& r : Captured()) {
    SCOPED_TRACE(r.at("name"));
    PacketCodec codec = CodecFor(r);
    auto original = Instruction::Parse(Hex(r.at("instruction")));
    ASSERT_TRUE(original.ok());
    ZlibCompressor zlib;
    Fragmenter fragmenter(&zlib);
    auto fragments = fragmenter.MakeFragments(*original, MaxFragmentContents(kMtuIpv4,
                                                                              WireMode::kMosh));
    ASSERT_TRUE(fragments.ok());
    ASSERT_EQ(fragments->size(), 1u);
    Packet p;
    p.direction = DirectionOf(r);
    p.seq = Num(r, "seq") + 1000;
    p.payload = (*fragments)[0];
    FragmentAssembler assembler(&zlib);
    auto packet = codec.Open(codec.Seal(p), p.direction);
    ASSERT_TRUE(packet.ok()) << packet.status();
    auto back = assembler.Add(packet->payload);
    ASSERT_TRUE(back.ok() && back->has_value()) << back.status();
    EXPECT_EQ(**back, *original);
  }
}

TEST(CapturedDatagramTest, EverySingleByteCorruptionIsACountedDrop) {
  int attempts = 0, drops = 0, auth_drops = 0;
  for (const VectorRecord& r : Captured()) {
    PacketCodec codec = CodecFor(r);
    std::string datagram = Hex(r.at("datagram"));
    for (size_t i = 0; i < datagram.size(); ++i) {
      for (int delta : {0x01, 0x80, 0xFF, 0x5A}) {
        std::string bad = datagram;
        bad[i] = static_cast<char>(bad[i] ^ delta);
        ++attempts;
        absl::Status status = codec.Open(bad, DirectionOf(r)).status();
        if (!status.ok()) ++drops;
        if (IsAuthenticationFailure(status)) ++auth_drops;
      }
    }
  }
  EXPECT_EQ(attempts, (70 + 63 + 90 + 69) * 4);
  EXPECT_EQ(drops, attempts);
  // Flipping the direction bit alone also fails authentication (N is in the
  // nonce), so every drop is an integrity failure.
  EXPECT_EQ(auth_drops, attempts);
}

TEST(CapturedDatagramTest, TruncatedAndExtendedCapturesAreDropped) {
  for (const VectorRecord& r : Captured()) {
    PacketCodec codec = CodecFor(r);
    std::string datagram = Hex(r.at("datagram"));
    for (size_t len = 0; len < datagram.size(); ++len) {
      EXPECT_FALSE(codec.Open(datagram.substr(0, len), DirectionOf(r)).ok()) << len;
    }
    EXPECT_FALSE(codec.Open(datagram + "x", DirectionOf(r)).ok());
    Direction wrong = DirectionOf(r) == Direction::kToServer ? Direction::kToClient
                                                             : Direction::kToServer;
    EXPECT_FALSE(codec.Open(datagram, wrong).ok());
  }
}

}  // namespace
}  // namespace moshx::net
