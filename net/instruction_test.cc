// Hand-written TransportBuffers.Instruction codec against the encodings in
// docs/protocol.md §6.1, §6.2 and §13, plus malformed-input rejection. (The diff messages are
// tested in core/protocol/messages_test.cc.)
#include "net/instruction.h"

#include <string>

#include "gtest/gtest.h"
#include "net/vector_file.h"
#include "net/wire_format.h"

namespace moshx::net {
namespace {

using testing::Hex;
using testing::ToHex;

constexpr uint64_t kU64Max = ~uint64_t{0};

TEST(InstructionTest, SerializesAllSevenFieldsInOrderLikeMosh) {
  Instruction in;
  in.old_num = 2;
  in.new_num = kU64Max;
  in.ack_num = 2;
  in.throwaway_num = 2;
  in.chaff = Hex("08b39b71a0f0");
  EXPECT_EQ(ToHex(in.Serialize()),
            "0802100218ffffffffffffffffff012002280232003a0608b39b71a0f0");
}

TEST(InstructionTest, ParsesCapturedInstructionAndRoundTrips) {
  std::string bytes = Hex(
      "08021000180220012800321b0a043a0240010a131211220f1b5b3f32356c0a68691b5b3f3235683a06"
      "a0fcee4c864d");
  auto in = Instruction::Parse(bytes);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->protocol_version, 2u);
  EXPECT_EQ(in->old_num, 0u);
  EXPECT_EQ(in->new_num, 2u);
  EXPECT_EQ(in->ack_num, 1u);
  EXPECT_EQ(in->throwaway_num, 0u);
  EXPECT_EQ(ToHex(in->chaff), "a0fcee4c864d");
  EXPECT_TRUE(in->CheckProtocolVersion().ok());
  EXPECT_EQ(in->Serialize(), bytes);
}

TEST(InstructionTest, AbsentFieldsReadAsDefaultsAndMissingVersionIsRejected) {
  auto in = Instruction::Parse("");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->protocol_version, 0u);
  EXPECT_EQ(in->new_num, 0u);
  EXPECT_FALSE(in->CheckProtocolVersion().ok());
  auto v3 = Instruction::Parse(Hex("0803"));
  ASSERT_TRUE(v3.ok());
  EXPECT_FALSE(v3->CheckProtocolVersion().ok());
}

TEST(InstructionTest, PreservesUnknownFieldsOfEveryWireType) {
  // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, field 100 bytes.
  std::string unknown = Hex("4805" "510102030405060708" "5a026869" "650a0b0c0d" "a2060100");
  auto in = Instruction::Parse(Hex("0802") + unknown + Hex("1805"));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->new_num, 5u);
  EXPECT_EQ(ToHex(in->unknown_fields), ToHex(unknown));
  auto again = Instruction::Parse(in->Serialize());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *in);
}

TEST(InstructionTest, RejectsMalformedInput) {
  const char* bad[] = {
      "08",                            // key without value
      "0880",                          // truncated varint
      "08ffffffffffffffffffff01",      // 11-byte varint
      "08ffffffffffffffffff02",        // 10th byte overflows 64 bits
      "3205616263",                    // length past the end
      "32ffffffffffffffffff01",        // absurd length
      "0a0101",                        // field 1 (varint) sent length-delimited
      "1001" "3001",                   // diff (bytes) sent as varint
      "0b",                            // start group
      "0c",                            // end group
      "0e00",                          // wire type 6
      "0f00",                          // wire type 7
      "0001",                          // field number 0
      "51010203",                      // truncated fixed64
      "650102",                        // truncated fixed32
  };
  for (const char* hex : bad) {
    EXPECT_EQ(Instruction::Parse(Hex(hex)).status().code(), absl::StatusCode::kInvalidArgument)
        << hex;
  }
}

TEST(WireFormatTest, VarintEdgeCases) {
  std::string out;
  AppendVarint(&out, kU64Max);
  EXPECT_EQ(ToHex(out), "ffffffffffffffffff01");
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35, kU64Max}) {
    std::string enc;
    AppendVarint(&enc, v);
    CBS cbs;
    CBS_init(&cbs, reinterpret_cast<const uint8_t*>(enc.data()), enc.size());
    uint64_t back = 0;
    ASSERT_TRUE(ReadVarint(&cbs, &back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(CBS_len(&cbs), 0u);
  }
}

}  // namespace
}  // namespace moshx::net
