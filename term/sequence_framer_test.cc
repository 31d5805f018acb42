#include "term/sequence_framer.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace moshx::term {
namespace {

TEST(SequenceFramerTest, PassesCompleteInputStraightThrough) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("abc\x1b[31mx\x1b" "7\xe4\xb8\xad\x1b]0;t\x07"),
            "abc\x1b[31mx\x1b" "7\xe4\xb8\xad\x1b]0;t\x07");
  EXPECT_EQ(f.held(), 0u);
}

TEST(SequenceFramerTest, HoldsUnfinishedCsiEscapeAndUtf8) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("abc\x1b[3"), "abc");
  EXPECT_EQ(f.Push("1mx\x1b"), "\x1b[31mx");
  EXPECT_EQ(f.Push("("), "");
  EXPECT_EQ(f.Push("0q\xe4\xb8"), "\x1b(0q");
  EXPECT_EQ(f.Push("\xad"), "\xe4\xb8\xad");
  EXPECT_EQ(f.Push("\xe4z"), "\xe4z");  // broken: libvterm makes it U+FFFD
  EXPECT_EQ(f.held(), 0u);
}

TEST(SequenceFramerTest, HoldsAnUnfinishedStringUntilItEnds) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("a\x1b]2;ti"), "a");
  EXPECT_EQ(f.Push("tle"), "");
  EXPECT_EQ(f.Push("\x1b"), "");
  EXPECT_EQ(f.Push("\\b"), "\x1b]2;title\x1b\\b");
  EXPECT_EQ(f.Push("\x1bP$q"), "");
  EXPECT_EQ(f.Push("m\x07"), "\x1bP$qm\x07");
}

TEST(SequenceFramerTest, EscapeEndsAStringOrCsiAndStartsANewSequence) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\x1b]0;x\x1b[?6h"), "\x1b]0;x\x1b\\\x1b[?6h");
  EXPECT_EQ(f.Push("\x1b]0;x\x1b]2;y"), "\x1b]0;x\x1b\\");
  EXPECT_EQ(f.Push("\x07"), "\x1b]2;y\x07");
  EXPECT_EQ(f.Push("\x1b[1\x1b[2"), "\x1b[1");
  EXPECT_EQ(f.Push("m"), "\x1b[2m");
  EXPECT_EQ(f.Push("\x1b\x05[1m"), "\x1b\x05[1m");  // C0 executed inside
}

TEST(SequenceFramerTest, ClosesAStringInterruptedByAnEscape) {
  SequenceFramer f;
  EXPECT_EQ(f.Push(std::string("\x1b]8;;\x1b\x05\0\\x", 10)),
            std::string("\x1b]8;;\x1b\\\x1b\x05\0\\x", 12));
  EXPECT_EQ(f.Push("\x1b]0;t\x1b[1m"), "\x1b]0;t\x1b\\\x1b[1m");
}

TEST(SequenceFramerTest, KeepsAtMostSixteenCsiParameters) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\x1b[" + std::string(30, ';') + "K"),
            "\x1b[" + std::string(15, ';') + "K");
  EXPECT_EQ(f.Push("\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18 q"),
            "\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16 q");
}

TEST(SequenceFramerTest, DropsOverlongSequences) {
  SequenceFramer f;
  std::string huge = "\x1b]52;c;" + std::string(SequenceFramer::kMaxStringBytes, 'A');
  EXPECT_EQ(f.Push(huge), "");
  EXPECT_EQ(f.held(), 0u);
  EXPECT_EQ(f.Push("AAAA\x07ok"), "ok");
  EXPECT_EQ(f.Push("\x1b[" + std::string(SequenceFramer::kMaxCsiBytes, '1')), "");
  EXPECT_EQ(f.Push("1;2mok"), "ok");
}

TEST(SequenceFramerTest, ReportsCursorRestores) {
  SequenceFramer f;
  std::vector<size_t> restores;
  const std::string out =
      f.Push("a\x1b" "8b\x1b#8\x1b[?1049lc\x1b[?1049h\x1b[u\x1b[?1049;1l", &restores);
  EXPECT_EQ(restores, (std::vector<size_t>{3, 15, 27, 37}));
  EXPECT_EQ(out.size(), 37u);
  restores.clear();
  EXPECT_EQ(f.Push("\x1b", &restores), "");
  EXPECT_EQ(f.Push("\x05" "8", &restores), "\x1b\x05" "8");
  EXPECT_EQ(restores, (std::vector<size_t>{3}));
}

// Whatever the split points, the output is the same bytes in the same order.
TEST(SequenceFramerTest, OutputDoesNotDependOnSplits) {
  const char* kPieces[] = {"a", "\x1b", "]", "P", "0;", "\x07", "\\", "[", "1m",
                           "\x18", "\xe4\xb8\xad", "\xe4", "\xb8", "_", "\x05",
                           "(", "B", " "};
  std::mt19937 rng(1);
  for (int round = 0; round < 3000; ++round) {
    std::string stream;
    for (int i = 0; i < 20; ++i) stream += kPieces[rng() % std::size(kPieces)];
    SequenceFramer whole, split;
    const std::string a = whole.Push(stream);
    std::string b;
    for (size_t pos = 0; pos < stream.size();) {
      const size_t n = 1 + rng() % 4;
      b += split.Push(stream.substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(a, b);
  }
}

}  // namespace
}  // namespace moshx::term
