#include "term/mode_tracker.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "term/emulator.h"
#include "term/screen_text.h"

namespace moshx::term {
namespace {

TEST(ModeTrackerTest, FollowsOriginAndAutowrap) {
  ModeTracker t;
  EXPECT_FALSE(t.origin_mode());
  EXPECT_TRUE(t.autowrap());
  t.Scan("\x1b[?7");
  t.Scan("l");  // split across calls
  EXPECT_FALSE(t.origin_mode());
  EXPECT_FALSE(t.autowrap());
  t.Scan("\x1b[?6;7h");
  EXPECT_TRUE(t.origin_mode());
  EXPECT_FALSE(t.autowrap());  // libvterm 0.1.4 only reads the first one
  t.Scan("\x1b" "c");
  EXPECT_FALSE(t.origin_mode());
  EXPECT_TRUE(t.autowrap());
}

TEST(ModeTrackerTest, IgnoresLookalikes) {
  ModeTracker t;
  t.Scan("\x1b[6h\x1b[>6h\x1b[?6$h\x1b]0;\x1b[?7");  // ESC ends the OSC...
  EXPECT_FALSE(t.origin_mode());
  t.Scan("l");  // ...so this CSI counts, as in libvterm
  EXPECT_FALSE(t.autowrap());
  t.Scan("\x1b]2;title ?6h\x07[?6h");
  EXPECT_FALSE(t.origin_mode());
}

// Cross-checks the tracker against libvterm's own DECRQM answers on random
// streams built from mode sequences, strings, controls and text.
TEST(ModeTrackerTest, AgreesWithLibvterm) {
  const char* kPieces[] = {
      "\x1b[?6h", "\x1b[?6l", "\x1b[?7h", "\x1b[?7l", "\x1b[?6;7h", "\x1b[?1;7l",
      "\x1b" "c", "\x1b[!p", "\x1b" "7", "\x1b" "8", "\x1b[6h", "\x1b[?6$h",
      "\x1b]0;x", "\x1bP", "\x07", "\x1b\\", "\x18", "\x1a", "\n", "\x1b[",
      "?", "6", "7", ";", "h", "l", "text", "\x1b[>7l", "\x1b(0", "\x1b",
  };
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    Emulator emulator(20, 5);
    ModeTracker tracker;
    std::string stream;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) stream += kPieces[rng() % std::size(kPieces)];
    // Close whatever is open so the queries below parse on their own.
    stream += "\x1b\\\x18";
    (void)emulator.Feed(stream);
    tracker.Scan(stream);
    const std::string want =
        std::string("\x1b[?6;") + (tracker.origin_mode() ? "1" : "2") +
        "$y\x1b[?7;" + (tracker.autowrap() ? "1" : "2") + "$y";
    EXPECT_EQ(emulator.Feed("\x1b[?6$p\x1b[?7$p"), want) << "stream: " << Quoted(stream);
  }
}

}  // namespace
}  // namespace moshx::term
