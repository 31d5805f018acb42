#include "core/char_width.h"

#include <string>

#include "gtest/gtest.h"

namespace moshx::core {
namespace {

TEST(CharWidthTest, KnownWidths) {
  EXPECT_EQ(CharWidth('a'), 1);
  EXPECT_EQ(CharWidth(0xE9), 1);     // é
  EXPECT_EQ(CharWidth(0xAD), 1);     // soft hyphen is printed
  EXPECT_EQ(CharWidth(0x0301), 0);   // combining acute
  EXPECT_EQ(CharWidth(0x0A3C), 0);   // Gurmukhi nukta
  EXPECT_EQ(CharWidth(0x200B), 0);   // zero width space
  EXPECT_EQ(CharWidth(0x1160), 0);   // Hangul jungseong filler
  EXPECT_EQ(CharWidth(0x4E2D), 2);   // 中
  EXPECT_EQ(CharWidth(0x3000), 2);   // ideographic space
  EXPECT_EQ(CharWidth(0xFF21), 2);   // fullwidth A
  EXPECT_EQ(CharWidth(0x1F600), 2);  // emoji
  EXPECT_EQ(CharWidth(0x1F680), 2);  // emoji (transport block)
  EXPECT_EQ(CharWidth(0x07), -1);
  EXPECT_EQ(CharWidth(0x7F), -1);
  EXPECT_EQ(CharWidth(0x85), -1);
  EXPECT_EQ(CharWidth(0xD800), -1);
  EXPECT_EQ(CharWidth(0x110000), -1);
}

TEST(CharWidthTest, DecodesStrictUtf8) {
  const std::string text = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
  size_t pos = 0;
  char32_t cp;
  for (char32_t want : {U'a', U'\u00e9', U'\u4e2d', U'\U0001F600'}) {
    ASSERT_TRUE(DecodeUtf8(text, &pos, &cp));
    EXPECT_EQ(cp, want);
  }
  EXPECT_FALSE(DecodeUtf8(text, &pos, &cp));  // at the end
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xe4\xb8", "\x80", "\xff"}) {
    pos = 0;
    EXPECT_FALSE(DecodeUtf8(bad, &pos, &cp)) << bad;
    EXPECT_EQ(pos, 0u);
  }
  std::string out;
  AppendUtf8(0x1F600, &out);
  EXPECT_EQ(out, "\xf0\x9f\x98\x80");
}

}  // namespace
}  // namespace moshx::core
