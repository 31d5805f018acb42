#include "term/string_framer.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace moshx::term {
namespace {

TEST(StringFramerTest, PassesTextAndCsiThrough) {
  StringFramer f;
  EXPECT_EQ(f.Push("abc\x1b[3"), "abc\x1b[3");
  EXPECT_EQ(f.Push("1mx\x1b" "7"), "1mx\x1b" "7");
  EXPECT_EQ(f.held(), 0u);
}

TEST(StringFramerTest, HoldsAnUnfinishedStringUntilItEnds) {
  StringFramer f;
  EXPECT_EQ(f.Push("a\x1b]2;ti"), "a");
  EXPECT_EQ(f.Push("tle"), "");
  EXPECT_EQ(f.Push("\x1b"), "");
  EXPECT_EQ(f.Push("\\b"), "\x1b]2;title\x1b\\b");
  EXPECT_EQ(f.Push("\x1bP$q"), "");
  EXPECT_EQ(f.Push("m\x07"), "\x1bP$qm\x07");
}

TEST(StringFramerTest, HoldsATrailingEscape) {
  StringFramer f;
  EXPECT_EQ(f.Push("x\x1b"), "x");
  EXPECT_EQ(f.Push("]0;t\x07"), "\x1b]0;t\x07");
  EXPECT_EQ(f.Push("\x1b"), "");
  EXPECT_EQ(f.Push("[1m"), "\x1b[1m");
}

TEST(StringFramerTest, EscapeInsideAStringStartsANewSequence) {
  StringFramer f;
  EXPECT_EQ(f.Push("\x1b]0;x\x1b[?6h"), "\x1b]0;x\x1b[?6h");
  EXPECT_EQ(f.Push("\x1b]0;x\x1b]2;y"), "\x1b]0;x");
  EXPECT_EQ(f.Push("\x07"), "\x1b]2;y\x07");
}

TEST(StringFramerTest, DropsOverlongStrings) {
  StringFramer f;
  std::string huge = "\x1b]52;c;" + std::string(StringFramer::kMaxStringBytes, 'A');
  EXPECT_EQ(f.Push(huge), "");
  EXPECT_EQ(f.held(), 0u);
  EXPECT_EQ(f.Push("AAAA\x07ok"), "ok");
}

// Whatever the split points, the output is the same bytes in the same order
// (for streams without over-long strings), and each string arrives whole.
TEST(StringFramerTest, OutputDoesNotDependOnSplits) {
  const char* kPieces[] = {"a", "\x1b", "]", "P", "0;", "\x07", "\\", "[", "1m",
                           "\x18", "\xe4\xb8\xad", "_", "\x05", "(", "B"};
  std::mt19937 rng(1);
  for (int round = 0; round < 2000; ++round) {
    std::string stream;
    for (int i = 0; i < 20; ++i) stream += kPieces[rng() % std::size(kPieces)];
    StringFramer whole, split;
    std::string a = whole.Push(stream), b;
    for (size_t pos = 0; pos < stream.size();) {
      const size_t n = 1 + rng() % 4;
      b += split.Push(stream.substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(a, b);
    EXPECT_EQ(a + std::string(stream.size() - a.size(), '?'),
              stream.substr(0, a.size()) + std::string(stream.size() - a.size(), '?'));
  }
}

}  // namespace
}  // namespace moshx::term
