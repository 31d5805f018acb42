// The Abseil-only protobuf reader/writer: the same strictness as
// net/wire_format (net/instruction_test.cc rejects the same inputs).
#include "core/protocol/protobuf.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

constexpr uint64_t kU64Max = ~uint64_t{0};

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// Reads every field of `bytes`; the first error, or the fields read.
absl::Status ReadAll(absl::string_view bytes, std::vector<ProtoField>* fields) {
  ProtoReader reader(bytes);
  while (!reader.done()) {
    ProtoField f;
    if (absl::Status s = reader.Next(&f); !s.ok()) return s;
    fields->push_back(f);
  }
  return absl::OkStatus();
}

TEST(ProtobufTest, ReadsEveryWireTypeAndKeepsTheRawField) {
  // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, field 100 bytes.
  const std::string bytes = Hex("4805" "510102030405060708" "5a026869" "650a0b0c0d" "a2060100");
  std::vector<ProtoField> f;
  ASSERT_TRUE(ReadAll(bytes, &f).ok());
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].number, 9u);
  EXPECT_EQ(f[0].varint, 5u);
  EXPECT_EQ(f[1].type, WireType::kFixed64);
  EXPECT_EQ(f[1].varint, 0x0807060504030201u);
  EXPECT_EQ(f[2].bytes, "hi");
  EXPECT_EQ(f[3].type, WireType::kFixed32);
  EXPECT_EQ(f[3].varint, 0x0d0c0b0au);
  EXPECT_EQ(f[4].number, 100u);
  EXPECT_EQ(f[4].bytes, std::string(1, '\0'));
  std::string raw;
  for (const ProtoField& field : f) raw.append(field.raw.data(), field.raw.size());
  EXPECT_EQ(raw, bytes);
}

TEST(ProtobufTest, RejectsMalformedInput) {
  const char* bad[] = {
      "08",                        // key without value
      "0880",                      // truncated varint
      "08ffffffffffffffffffff01",  // 11-byte varint
      "08ffffffffffffffffff02",    // 10th byte overflows 64 bits
      "3205616263",                // length past the end
      "32ffffffffffffffffff01",    // absurd length
      "0b",                        // start group
      "0c",                        // end group
      "0e00",                      // wire type 6
      "0f00",                      // wire type 7
      "0001",                      // field number 0
      "f8ffffff7f01",              // field number 2^32 - 1 (above 2^29 - 1)
      "51010203",                  // truncated fixed64
      "650102",                    // truncated fixed32
  };
  for (const char* hex : bad) {
    std::vector<ProtoField> fields;
    EXPECT_EQ(ReadAll(Hex(hex), &fields).code(), absl::StatusCode::kInvalidArgument) << hex;
  }
}

TEST(ProtobufTest, WrongWireTypeOfAKnownFieldIsNamed) {
  std::vector<ProtoField> f;
  ASSERT_TRUE(ReadAll(Hex("0a0101"), &f).ok());
  EXPECT_TRUE(ExpectWireType(f[0], WireType::kLengthDelimited).ok());
  absl::Status s = ExpectWireType(f[0], WireType::kVarint);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "malformed protobuf: wrong wire type for field 1");
}

TEST(ProtobufTest, VarintEdgeCases) {
  std::string out;
  AppendVarint(&out, kU64Max);
  EXPECT_EQ(absl::BytesToHexString(out), "ffffffffffffffffff01");
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35, kU64Max}) {
    std::string enc;
    AppendVarint(&enc, v);
    absl::string_view in = enc;
    uint64_t back = 0;
    ASSERT_TRUE(ReadVarint(&in, &back));
    EXPECT_EQ(back, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(ProtobufTest, WritersProduceTheCanonicalEncoding) {
  std::string out;
  AppendVarintField(&out, 1, 2);
  AppendBytesField(&out, 6, "ab");
  AppendBytesField(&out, 100, "");
  EXPECT_EQ(absl::BytesToHexString(out), "0802" "32026162" "a20600");
}

}  // namespace
}  // namespace moshx::protocol
