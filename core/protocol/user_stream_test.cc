#include "core/protocol/user_stream.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace moshx::protocol {
namespace {

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

TEST(UserStreamTest, ResizeDiffMatchesMoshCapture) {
  UserStream s;
  s.PushResize(80, 24);
  EXPECT_EQ(Hex(s.DiffFrom(UserStream())), "0a061a0428503018");  // docs/protocol.md §7.1
}

TEST(UserStreamTest, KeystrokesCoalesceLikeMosh) {
  UserStream s;
  s.PushBytes("abc\r");
  EXPECT_EQ(Hex(s.DiffFrom(UserStream())), "0a08120622046162630d");  // docs/protocol.md §7.1
}

TEST(UserStreamTest, ResizeSplitsKeystrokeRuns) {
  UserStream s;
  s.PushBytes("ab");
  s.PushResize(100, 30);
  s.PushBytes("c");
  UserStream r;
  ASSERT_TRUE(r.ApplyDiff(s.DiffFrom(UserStream())).ok());
  EXPECT_TRUE(r == s);
  std::vector<UserEvent> events = r.EventsSince(0);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(events[2].is_resize);
  EXPECT_EQ(events[2].width, 100);
}

TEST(UserStreamTest, DiffOfEqualStatesIsEmpty) {
  UserStream s;
  s.PushBytes("x");
  UserStream copy = s;
  EXPECT_EQ(s.DiffFrom(copy), "");
  EXPECT_TRUE(s == copy);
}

TEST(UserStreamTest, DiffFromOlderStateCarriesOnlyNewEvents) {
  UserStream s;
  s.PushBytes("ls");
  UserStream older = s;
  s.PushBytes("\r");
  UserStream receiver = older;
  ASSERT_TRUE(receiver.ApplyDiff(s.DiffFrom(older)).ok());
  EXPECT_TRUE(receiver == s);
  ASSERT_EQ(receiver.EventsSince(2).size(), 1u);
  EXPECT_EQ(receiver.EventsSince(2)[0].byte, '\r');
}

TEST(UserStreamTest, SubtractKeepsNumberingAndDiffs) {
  UserStream s;
  s.PushBytes("hello");
  UserStream acked = s;
  s.PushBytes(" world");
  std::string before = s.DiffFrom(acked);
  s.Subtract(acked);
  acked.Subtract(acked);
  EXPECT_EQ(s.end_index(), 11u);
  EXPECT_EQ(s.DiffFrom(acked), before);
  EXPECT_EQ(s.EventsSince(0).size(), 6u);
}

TEST(UserStreamTest, RejectsBadResizeAndGarbage) {
  for (auto [w, h] : {std::pair{0, 24}, {80, 0}, {-1, 5}, {5000, 10}}) {
    UserStream bad;
    bad.PushResize(w, h);
    UserStream r;
    EXPECT_FALSE(r.ApplyDiff(bad.DiffFrom(UserStream())).ok()) << w << "x" << h;
  }
  UserStream r;
  EXPECT_FALSE(r.ApplyDiff("\x0a\x05\x12").ok());
}

TEST(UserStreamTest, CtrlCBackslashAndZAreInterruptKeysOtherBytesAreNot) {
  EXPECT_TRUE(HasInterruptKey("\x03"));
  EXPECT_TRUE(HasInterruptKey("ls\x1c"));
  EXPECT_TRUE(HasInterruptKey(std::string("a\x1a", 2)));
  EXPECT_FALSE(HasInterruptKey(""));
  EXPECT_FALSE(HasInterruptKey("ls -l\r\x1b[A\x04\x15\x7f"));
  int interrupting = 0;
  for (int b = 0; b < 256; ++b) interrupting += IsInterruptKey(static_cast<char>(b));
  EXPECT_EQ(interrupting, 3);
}

}  // namespace
}  // namespace moshx::protocol
