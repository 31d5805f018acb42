// Keys leave no copy behind: a destroyed SessionKey and a wiped key text
// hold zeros (docs/security.md §2).
#include <algorithm>
#include <array>
#include <cstdint>
#include <new>
#include <string>

#include "gtest/gtest.h"
#include "net/session_key.h"

namespace moshx::net {
namespace {

TEST(SessionKeyWipeTest, DestroyedKeyLeavesZerosInItsStorage) {
  std::array<uint8_t, SessionKey::kSize> bytes;
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0xA5 ^ i);
  alignas(SessionKey) unsigned char storage[sizeof(SessionKey)];
  SessionKey* key = new (storage) SessionKey(bytes);
  ASSERT_TRUE(std::equal(bytes.begin(), bytes.end(), key->bytes().begin()));
  key->~SessionKey();
  EXPECT_TRUE(std::all_of(storage, storage + sizeof(storage),
                          [](unsigned char c) { return c == 0; }));
}

TEST(SessionKeyWipeTest, CopiesAreWipedIndependently) {
  std::array<uint8_t, SessionKey::kSize> bytes;
  bytes.fill(0x5A);
  SessionKey original(bytes);
  alignas(SessionKey) unsigned char storage[sizeof(SessionKey)];
  SessionKey* copy = new (storage) SessionKey(original);
  copy->~SessionKey();
  EXPECT_TRUE(std::all_of(storage, storage + sizeof(storage),
                          [](unsigned char c) { return c == 0; }));
  EXPECT_TRUE(original == SessionKey(bytes));  // the original is untouched
}

TEST(SessionKeyWipeTest, WipeSecretZeroesTheWholeBufferAndEmptiesTheString) {
  std::string text = "AAECAwQFBgcICQoLDA0ODw";
  text.reserve(64);
  const char* buffer = text.data();
  const size_t capacity = text.capacity();
  WipeSecret(&text);
  EXPECT_TRUE(text.empty());
  ASSERT_EQ(text.data(), buffer);  // wiped in place, not reallocated
  EXPECT_TRUE(std::all_of(buffer, buffer + capacity, [](char c) { return c == 0; }));
}

TEST(SessionKeyWipeTest, WipeSecretOfAShortStringUsesItsInlineBuffer) {
  std::string text = "short";
  const char* buffer = text.data();
  WipeSecret(&text);
  EXPECT_TRUE(text.empty());
  EXPECT_TRUE(std::all_of(buffer, buffer + 5, [](char c) { return c == 0; }));
}

TEST(SessionKeyWipeTest, ParsingStillRoundTripsAfterItsScratchCopiesAreWiped) {
  auto key = SessionKey::FromBase64("AAECAwQFBgcICQoLDA0ODw");
  ASSERT_TRUE(key.ok()) << key.status();
  for (size_t i = 0; i < SessionKey::kSize; ++i) EXPECT_EQ(key->bytes()[i], i);
  EXPECT_EQ(key->ToBase64(), "AAECAwQFBgcICQoLDA0ODw");
}

}  // namespace
}  // namespace moshx::net
