// The application's diff messages against the encodings in docs/protocol.md §7.1, §7.2, §13,
// including the diffs of datagrams captured from real mosh 1.4.0 programs
// (testdata/mosh/captured_datagrams.txt).
#include "core/protocol/messages.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }
std::string ToHex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

TEST(UserMessageTest, EncodesResizeAndKeystrokesLikeMosh) {
  UserMessage resize;
  resize.instructions.push_back({std::nullopt, Resize{80, 24}, ""});
  EXPECT_EQ(ToHex(resize.Serialize()), "0a061a0428503018");
  UserMessage keys;
  keys.instructions.push_back({std::string("abc\r"), std::nullopt, ""});
  EXPECT_EQ(ToHex(keys.Serialize()), "0a0812062204616263" "0d");
}

TEST(UserMessageTest, ParsesSpecExamples) {
  auto m = UserMessage::Parse(Hex("0a061a0428503018" "0a0812062204616263" "0d"));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->instructions.size(), 2u);
  EXPECT_EQ(m->instructions[0].resize, (Resize{80, 24}));
  EXPECT_FALSE(m->instructions[0].keystroke.has_value());
  EXPECT_EQ(m->instructions[1].keystroke, std::string("abc\r"));
  EXPECT_FALSE(m->instructions[1].resize.has_value());
}

TEST(UserMessageTest, RejectsWrongWireTypeAndBadNestedLengths) {
  EXPECT_FALSE(UserMessage::Parse(Hex("0801")).ok());          // instruction as varint
  EXPECT_FALSE(UserMessage::Parse(Hex("0a021001")).ok());      // keystroke as varint
  EXPECT_FALSE(UserMessage::Parse(Hex("0a0412022205")).ok());  // keys length past end
  EXPECT_FALSE(UserMessage::Parse(Hex("0a041a022a00")).ok());  // width as bytes
  EXPECT_FALSE(HostMessage::Parse(Hex("0a023801")).ok());      // echoack as varint
  EXPECT_FALSE(HostMessage::Parse(Hex("0a053a03420101")).ok());  // echo_ack_num as bytes
  // An empty Keystroke is valid and reads as empty keys.
  auto empty = UserMessage::Parse(Hex("0a0412022200"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->instructions.at(0).keystroke, std::string());
}

TEST(UserMessageTest, NegativeResizeRoundTripsAsTenByteVarint) {
  UserMessage m;
  m.instructions.push_back({std::nullopt, Resize{-1, 5}, ""});
  std::string bytes = m.Serialize();
  auto back = UserMessage::Parse(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
}

TEST(HostMessageTest, ParsesEchoAckAndHostBytesExample) {
  auto m = HostMessage::Parse(
      Hex("0a043a024001" "0a131211220f1b5b3f32356c0a68691b5b3f323568"));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->instructions.size(), 2u);
  EXPECT_EQ(m->instructions[0].echo_ack, 1u);
  EXPECT_FALSE(m->instructions[0].hostbytes.has_value());
  EXPECT_EQ(m->instructions[1].hostbytes, std::string("\x1b[?25l\nhi\x1b[?25h"));
  EXPECT_EQ(ToHex(m->Serialize()),
            "0a043a024001" "0a131211220f1b5b3f32356c0a68691b5b3f323568");
}

TEST(HostMessageTest, RoundTripsLongHostBytesWithMultiByteLengths) {
  HostMessage m;
  HostInstruction resize;
  resize.resize = Resize{132, 50};
  HostInstruction bytes;
  bytes.hostbytes = std::string(70000, 'q');
  HostInstruction ext;
  ext.unknown_fields = Hex("a2060100");  // moshx extension field 100, preserved
  m.instructions = {resize, bytes, ext};
  auto back = HostMessage::Parse(m.Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

// The `diff` of every record of the captured datagrams, in file order.
std::vector<std::string> CapturedDiffs() {
  std::ifstream in("testdata/mosh/captured_datagrams.txt");
  EXPECT_TRUE(in.good());
  std::vector<std::string> diffs;
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, "diff =")) diffs.push_back(Hex(absl::StripAsciiWhitespace(
                                                  absl::string_view(line).substr(6))));
  }
  return diffs;
}

TEST(CapturedDiffTest, DiffsOfRealMoshDatagramsDecodeToTheSpecifiedMessages) {
  std::vector<std::string> diffs = CapturedDiffs();
  ASSERT_EQ(diffs.size(), 4u);
  auto user = UserMessage::Parse(diffs[0]);
  ASSERT_TRUE(user.ok());
  ASSERT_EQ(user->instructions.size(), 1u);
  EXPECT_EQ(user->instructions[0].resize, (Resize{80, 24}));
  EXPECT_EQ(user->Serialize(), diffs[0]);
  auto host = HostMessage::Parse(diffs[2]);
  ASSERT_TRUE(host.ok());
  ASSERT_EQ(host->instructions.size(), 2u);
  EXPECT_EQ(host->instructions[0].echo_ack, 1u);
  EXPECT_EQ(host->instructions[1].hostbytes, std::string("\x1b[?25l\nhi\x1b[?25h"));
  EXPECT_EQ(host->Serialize(), diffs[2]);
  EXPECT_TRUE(diffs[1].empty());
  EXPECT_TRUE(diffs[3].empty());
}

}  // namespace
}  // namespace moshx::protocol
