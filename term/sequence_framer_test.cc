#include "term/sequence_framer.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace moshx::term {

void PrintTo(const SequenceFramer::Mark& m, std::ostream* os) {
  *os << "{" << static_cast<int>(m.kind) << ", " << m.begin << ", " << m.end << "}";
}

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
  EXPECT_EQ(f.Push("\xe4z"), "\xef\xbf\xbdz");  // broken: U+FFFD, as libvterm reads it
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
  EXPECT_EQ(f.Push("\x1b[1\x1b[2"), "");  // the abandoned CSI: nothing (no controls)
  EXPECT_EQ(f.Push("m"), "\x1b[2m");
  EXPECT_EQ(f.Push("\x1b\x05[1m"), "\x1b\x05[1m");  // C0 executed inside
}

TEST(SequenceFramerTest, ClosesAStringInterruptedByAnEscape) {
  SequenceFramer f;
  EXPECT_EQ(f.Push(std::string("\x1b]8;;\x1b\x05\0\\x", 10)),
            std::string("\x1b]8;;\x1b\\\x1b\x05\0\\x", 12));
  EXPECT_EQ(f.Push("\x1b]0;t\x1b[1m"), "\x1b]0;t\x1b\\\x1b[1m");
}

TEST(SequenceFramerTest, MarksCsiWithMoreThanSixteenParameters) {
  SequenceFramer f;
  std::vector<SequenceFramer::Mark> marks;
  const std::string sgr = "\x1b[0;1;2;3;4;5;7;8;9;38;2;1;2;3;48;2;4;5;6m";
  EXPECT_EQ(f.Push("\x1b[" + std::string(30, ';') + "K" + sgr + "\x1b[1:2:3:4:5:6:7:8:9:1:2:3:4:5:6:7:8m"
                   "\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16m",
                   &marks),
            "\x1b[" + std::string(30, ';') + "K" + sgr +
                "\x1b[1:2:3:4:5:6:7:8:9:1:2:3:4:5:6:7:8m\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16m");
  using Kind = SequenceFramer::Mark::Kind;
  ASSERT_EQ(marks.size(), 4u);
  EXPECT_EQ(marks[0].kind, Kind::kLongCsi);
  EXPECT_EQ(marks[1].kind, Kind::kLongCsi);
  EXPECT_EQ(marks[1].end - marks[1].begin, sgr.size());
  EXPECT_EQ(marks[2].kind, Kind::kLongCsi);  // sub-parameters count too
  EXPECT_EQ(marks[3].kind, Kind::kSgr);      // 16 is fine
}

// An abandoned CSI still reaches libvterm's parser, which would overrun its
// array on the parameters: they are left out.
TEST(SequenceFramerTest, AbandonedCsiWithTooManyParametersKeepsOnlyItsControls) {
  SequenceFramer f;
  const std::string many = "\x1b[" + std::string(20, ';') + "\n" + std::string(3, ';');
  EXPECT_EQ(f.Push(many + "\x1b[1mx"), "\n\x1b[1mx");
  EXPECT_EQ(f.Push(many + "\x18y"), "\n\x18y");
  EXPECT_EQ(f.Push("\x1b[1;2\x18z"), "\x1b[1;2\x18z");  // few, CAN: as before
}

// A CSI or escape that ESC abandons reaches libvterm as its controls only:
// libvterm would drop it on that ESC, and the emulator may leave out what
// the ESC starts (ESC [ ESC [ b b: diff_round_trip_fuzzer's hang).
TEST(SequenceFramerTest, AnEscapeAbandonedByEscKeepsOnlyItsControls) {
  SequenceFramer f;
  std::vector<SequenceFramer::Mark> marks;
  EXPECT_EQ(f.Push("\x1b[\x1b[bb", &marks), "\x1b[bb");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].kind, SequenceFramer::Mark::Kind::kRep);
  EXPECT_EQ(marks[0].begin, 0u);
  EXPECT_EQ(f.Push("\x1b[1;2\n\x1b[Hx"), "\n\x1b[Hx");
  EXPECT_EQ(f.Push("\x1b(\r\x1b[1mx"), "\r\x1b[1mx");
}

TEST(SequenceFramerTest, KeepsNineDigitsOfAParameter) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\x1b[12345678901234567890;7;0012345678901H"),
            "\x1b[123456789;7;001234567H");
  EXPECT_EQ(f.Push("\x1b]1234567890123;x123456789012\x07"),
            "\x1b]123456789;x123456789012\x07");
  // Controls inside an OSC number (libvterm executes C0, skips NUL and DEL)
  // do not end it: its digits go on counting (diff_round_trip_fuzzer found
  // "ESC ] 87 CR LF 18 CR LF 19 ..." overflowing libvterm's int).
  EXPECT_EQ(f.Push(std::string("\x1b]87\r\n18\r\n19\x00" "20\x7f" "21\r\n22\x07", 23)),
            std::string("\x1b]87\r\n18\r\n19\x00" "20\x7f" "2\r\n\x07", 20));
}

TEST(SequenceFramerTest, DropsOverlongSequences) {
  SequenceFramer f;
  std::string huge = "\x1b]52;c;" + std::string(SequenceFramer::kMaxStringBytes, 'A');
  EXPECT_EQ(f.Push(huge), "");
  EXPECT_EQ(f.held(), 0u);
  EXPECT_EQ(f.Push("AAAA\x07ok"), "ok");
  EXPECT_EQ(f.Push("\x1b[" + std::string(SequenceFramer::kMaxCsiBytes, ';')), "");
  EXPECT_EQ(f.Push("1;2mok"), "ok");
}

using Kind = SequenceFramer::Mark::Kind;
using Marks = std::vector<SequenceFramer::Mark>;

TEST(SequenceFramerTest, MarksSgrRepAndClipboardWrites) {
  SequenceFramer f;
  Marks marks;
  const std::string out = f.Push(
      "a\x1b[1;38;5;9mb\x1b[3b\x1b[?1m\x1b[>4;1m\x1b[1\x05;2m\x1b]52;c;aGk=\x07"
      "\x1b]2;t\x07\x1b]52;p;eA==\x1b\\",
      &marks);
  EXPECT_EQ(marks, (Marks{{Kind::kSgr, 1, 12},
                          {Kind::kRep, 13, 17},
                          {Kind::kSgr, 29, 36},  // a C0 inside counts for nothing
                          {Kind::kClipboard, 36, 48},
                          {Kind::kClipboard, 54, 67}}));
  EXPECT_EQ(out.substr(29, 7), "\x1b[1\x05;2m");
  marks.clear();  // split across calls: the offsets are in the call that completes it
  EXPECT_EQ(f.Push("\x1b[3", &marks), "");
  EXPECT_EQ(f.Push("1mx", &marks), "\x1b[31mx");
  EXPECT_EQ(marks, (Marks{{Kind::kSgr, 0, 5}}));
}

TEST(SequenceFramerTest, MarksWhereLibvtermStartsARunOfText) {
  SequenceFramer f;
  Marks marks;
  // "e" U+0301 "\r\n" U+0302 U+0303 "x" CJK CJK: the marks after ASCII and
  // after a control start runs; a character after a non-ASCII one does not.
  f.Push("e\xcc\x81\r\n\xcc\x82\xcc\x83x\xe4\xb8\xad\xe4\xb8\xad", &marks);
  EXPECT_EQ(marks, (Marks{{Kind::kTextStart, 1, 3},
                          {Kind::kTextStart, 5, 7},
                          {Kind::kTextStart, 10, 13}}));
  marks.clear();
  f.Push("\xe4\xb8\xad", &marks);  // a new call starts a new run
  EXPECT_EQ(marks, (Marks{{Kind::kTextStart, 0, 3}}));
  // A long run is cut every kMaxRunChars characters.
  marks.clear();
  std::string run;
  for (int i = 0; i < 2 * SequenceFramer::kMaxRunChars + 10; ++i) run += "\xc3\xa9";
  f.Push(run, &marks);
  ASSERT_EQ(marks.size(), 3u);
  EXPECT_EQ(marks[1].begin, 2u * SequenceFramer::kMaxRunChars);
}

// libvterm ignores bytes >= 0x80 inside an escape: ESC 0x87 [ 2 b is a REP
// to it, and must be marked as one (the Emulator drops a REP with nothing to
// repeat; diff_round_trip_fuzzer hung on this one).
TEST(SequenceFramerTest, BytesAbove0x7fInsideAnEscapeAreDropped) {
  SequenceFramer f;
  Marks marks;
  EXPECT_EQ(f.Push("\x1b\x87[2b\x1b(\xc3" "B", &marks), "\x1b[2b\x1b(B");
  EXPECT_EQ(marks, (Marks{{Kind::kRep, 0, 4}}));
}

TEST(SequenceFramerTest, MarksEveryCharacterOwnMarkNames) {
  SequenceFramer f([](char32_t cp) { return cp == 0x0617; });
  Marks marks;
  // U+00E9 U+0617 U+00E9 U+0617 U+0617: each U+0617 starts a run, even after
  // a non-ASCII character.
  f.Push("\xc3\xa9\xd8\x97\xc3\xa9\xd8\x97\xd8\x97", &marks);
  EXPECT_EQ(marks, (Marks{{Kind::kTextStart, 0, 2},
                          {Kind::kTextStart, 2, 4},
                          {Kind::kTextStart, 6, 8},
                          {Kind::kTextStart, 8, 10}}));
}

TEST(SequenceFramerTest, DropsUtf8EncodedC1Controls) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("a\xc2\x85" "b\xc2\x9b" "c\xc2\xa0" "d"), "abc\xc2\xa0" "d");
  EXPECT_EQ(f.Push("\xc2"), "");
  EXPECT_EQ(f.Push("\x80!"), "!");
}

// libvterm's decoder would complete C2 with the 89 after the CR (U+0089, a
// glyph of width -1): the broken character becomes U+FFFD before the CR,
// and the stray 89 stays a byte libvterm shows as U+FFFD.
TEST(SequenceFramerTest, ACharacterBrokenByAControlBecomesAReplacementCharacter) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\xc2\r\x89"), "\xef\xbf\xbd\r\x89");
  EXPECT_EQ(f.Push("\xe4\xb8\x1b[m\xad"), "\xef\xbf\xbd\x1b[m\xad");
  EXPECT_EQ(f.Push("\xc2\x7f"), "\xef\xbf\xbd\x7f");
  // Broken by text too (libvterm would decode U+FFFD there as well).
  EXPECT_EQ(f.Push("\xc2" "a"), "\xef\xbf\xbd" "a");
}

// A character broken by a UTF-8 C1 control, which the framer drops: the
// broken lead byte went on alone and libvterm completed it with the next
// stray continuation byte (C2 8E: U+008E, a glyph of width -1; in insert
// mode on a one-row screen the shift then read cells from outside the row:
// diff_round_trip_fuzzer, seed c1_control_after_a_broken_character).
TEST(SequenceFramerTest, ACharacterBrokenByADroppedC1ControlBecomesAReplacementCharacter) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\xc2\xc2\x98\x8e\x98"), "\xef\xbf\xbd\x8e\x98");
  EXPECT_EQ(f.held(), 0u);
}

// libvterm abandons a CSI at a byte its grammar has no place for there, and
// drops that byte; what follows is text, which the framer checks again (a
// UTF-8 C1 control after "ESC [ 2 ?" reached libvterm, a glyph of width -1).
TEST(SequenceFramerTest, ACsiEndsWhereLibvtermAbandonsIt) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\x1b[2?\xc2\x93x"), "x");            // '?' after a parameter
  EXPECT_EQ(f.Push("\x1b[1\n\x80\xc2\x85y"), "\ny");      // a byte >= 0x80, controls kept
  EXPECT_EQ(f.Push("\x1b[ 1m"), "m");                       // a parameter after an intermediate
  EXPECT_EQ(f.Push("\x1b[1;<2H"), "2H");                     // a leader after a parameter
  // Well-formed ones pass as they are.
  EXPECT_EQ(f.Push("\x1b[?25h\x1b[>4;1m\x1b[2 q\x1b[=c"), "\x1b[?25h\x1b[>4;1m\x1b[2 q\x1b[=c");
  // Split anywhere, the same.
  EXPECT_EQ(f.Push("\x1b[2"), "");
  EXPECT_EQ(f.Push("?"), "");
  EXPECT_EQ(f.Push("\xc2"), "");
  EXPECT_EQ(f.Push("\x93z"), "z");
  // A REP behind an abandoned CSI is text, not a mark.
  std::vector<SequenceFramer::Mark> marks;
  EXPECT_EQ(f.Push("\x1b[3\xff" "b", &marks), "b");
  EXPECT_TRUE(marks.empty());
}

// libvterm shifts a DCS request's bytes as (signed) chars: one >= 0x80 was
// undefined behaviour (diff_round_trip_fuzzer: ESC P $ q 96 97 ESC [).
TEST(SequenceFramerTest, DropsBytesAbove0x7fInsideADcs) {
  SequenceFramer f;
  EXPECT_EQ(f.Push("\x1bP$q\x96\x97\x1b["), "\x1bP$q\x1b\\");
  EXPECT_EQ(f.Push("m"), "\x1b[m");
  EXPECT_EQ(f.Push("\x1bP$q\xc3\xa9m\x1b\\"), "\x1bP$qm\x1b\\");
  // Other strings keep them (an OSC title in UTF-8).
  EXPECT_EQ(f.Push("\x1b]2;\xc3\xa9\x07"), "\x1b]2;\xc3\xa9\x07");
}

// Whatever the split points, the output is the same bytes in the same order.
TEST(SequenceFramerTest, OutputDoesNotDependOnSplits) {
  const char* kPieces[] = {"a", "\x1b", "]", "P", "0;", "\x07", "\\", "[", "1m",
                           "\x18", "\xe4\xb8\xad", "\xe4", "\xb8", "_", "\x05",
                           "(", "B", " ", "?", "\x80", "2", "b"};
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
