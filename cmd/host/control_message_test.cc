#include "cmd/host/control_message.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::cmd {
namespace {

TEST(ControlMessageTest, RoundTripsVerbAndFields) {
  ControlMessage m{"new", {"name=work", "", std::string("a\0b", 3)}};
  auto bytes = EncodeControlMessage(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto back = ParseControlMessage(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(ControlMessageTest, LayoutIsMagicCountThenLengthPrefixedFields) {
  auto bytes = EncodeControlMessage({"ok", {"x"}});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("MXC1\0\x02\0\0\0\x02ok\0\0\0\x01x", 4 + 2 + 6 + 5));
}

TEST(ControlMessageTest, RefusesBadMagic) {
  auto parsed = ParseControlMessage(std::string("MXC2\0\x01\0\0\0\0", 10));
  EXPECT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("bad magic"), absl::string_view::npos);
}

TEST(ControlMessageTest, RefusesZeroFields) {
  EXPECT_FALSE(ParseControlMessage(std::string("MXC1\0\0", 6)).ok());
}

TEST(ControlMessageTest, RefusesTruncatedField) {
  auto parsed = ParseControlMessage(std::string("MXC1\0\x01\0\0\0\x05" "ab", 12));
  EXPECT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("claims 5 bytes"), absl::string_view::npos);
}

TEST(ControlMessageTest, RefusesTrailingBytes) {
  auto parsed = ParseControlMessage(std::string("MXC1\0\x01\0\0\0\x01zQ", 12));
  EXPECT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("after its last field"), absl::string_view::npos);
}

TEST(ControlMessageTest, RefusesTooManyFieldsBothWays) {
  ControlMessage m{"x", std::vector<std::string>(kMaxFields, "")};
  EXPECT_FALSE(EncodeControlMessage(m).ok());
  std::string bytes("MXC1\xff\xff", 6);
  EXPECT_FALSE(ParseControlMessage(bytes).ok());
}

TEST(ControlMessageTest, RefusesOversizeBothWays) {
  ControlMessage m{"x", {std::string(kMaxMessageSize, 'a')}};
  EXPECT_FALSE(EncodeControlMessage(m).ok());
  EXPECT_FALSE(ParseControlMessage(std::string(kMaxMessageSize + 1, 'a')).ok());
}

}  // namespace
}  // namespace moshx::cmd
