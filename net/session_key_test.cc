#include "net/session_key.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::array<uint8_t, 16> Iota() {
  std::array<uint8_t, 16> b;
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}

TEST(SessionKeyTest, EncodesSpecExample) {
  EXPECT_EQ(SessionKey(Iota()).ToBase64(), "AAECAwQFBgcICQoLDA0ODw");
}

TEST(SessionKeyTest, DecodesSpecExample) {
  auto key = SessionKey::FromBase64("AAECAwQFBgcICQoLDA0ODw");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->bytes(), Iota());
}

TEST(SessionKeyTest, DecodesCapturedConnectLineKey) {
  auto key = SessionKey::FromBase64("MLjmtTgi5d9MgiQeQ+oYlg");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->ToBase64(), "MLjmtTgi5d9MgiQeQ+oYlg");
}

TEST(SessionKeyTest, RejectsWrongLength) {
  for (const char* text : {"", "AAECAwQFBgcICQoLDA0OD", "AAECAwQFBgcICQoLDA0ODwA",
                           "AAECAwQFBgcICQoLDA0ODw=="}) {
    auto key = SessionKey::FromBase64(text);
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_EQ(key.status().message(), "Key must be 22 letters long.");
  }
}

TEST(SessionKeyTest, RejectsCharactersOutsideAlphabet) {
  for (const char* text : {"AAECAwQFBgcICQoLDA0OD=", "AAECAwQFBgcICQoLDA0-Dw",
                           "AAECAwQFBgcICQoLDA0_Dw", "AAECAwQFBgcICQoL A0ODw"}) {
    auto key = SessionKey::FromBase64(text);
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_EQ(key.status().message(), "Key must be well-formed base64.");
  }
  std::string with_nul("AAECAwQFBgcICQoLDA0OD\0", 22);
  EXPECT_FALSE(SessionKey::FromBase64(with_nul).ok());
}

TEST(SessionKeyTest, RejectsNonZeroPaddingBitsInLastCharacter) {
  auto key = SessionKey::FromBase64("AAAAAAAAAAAAAAAAAAAAAB");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().message(), "Base64 key was not encoded 128-bit key.");
}

TEST(SessionKeyTest, AcceptsExactlyFourLastCharacters) {
  std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string accepted;
  for (char c : alphabet) {
    if (SessionKey::FromBase64(std::string(21, 'A') + c).ok()) accepted += c;
  }
  EXPECT_EQ(accepted, "AQgw");
}

TEST(SessionKeyTest, ErrorMessagesNeverEchoTheInput) {
  const std::string secret = "SECRETSECRETSECRETSECB";
  auto key = SessionKey::FromBase64(secret);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(std::string(key.status().message()), Not(HasSubstr("SECRET")));
}

TEST(SessionKeyTest, RandomKeysRoundTripAndDiffer) {
  RandBytesKeySource source;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto key = source.NewKey();
    ASSERT_TRUE(key.ok());
    std::string text = key->ToBase64();
    ASSERT_EQ(text.size(), 22u);
    auto again = SessionKey::FromBase64(text);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(*again == *key);
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace moshx::net
