// Property: for screens produced by the real emulator, feeding
// core::Diff(a, b) to an emulator showing a yields exactly b (the whole
// framebuffer), and the diff never makes the receiver answer.
#include "term/round_trip.h"

#include <dirent.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "term/emulator.h"
#include "term/random_stream.h"
#include "term/screen_text.h"
#include "term/vt_stream.h"

namespace moshx::term {
namespace {

// Stop reporting after this many failures: one is usually enough to debug.
constexpr int kMaxReports = 3;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::vector<std::string> RecordedStreams() {
  std::vector<std::string> paths;
  if (DIR* d = opendir("testdata/vt")) {
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".in")) paths.push_back("testdata/vt/" + name);
    }
    closedir(d);
  }
  return paths;
}

TEST(RoundTripTest, FreshEmulatorsAgree) {
  RoundTrip rt(80, 24);
  Emulator source(80, 24);
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
}

// The receiver's DECRC (in CSI ? 1049 l) restores the cursor style it saved
// when the diff entered the alternate screen, which is not necessarily the
// one the application saved.
TEST(RoundTripTest, CursorStyleSurvivesAlternateScreenExit) {
  Emulator source(80, 24);
  RoundTrip rt(80, 24);
  (void)source.Feed("\x1b[2 q\x1b[?1049h");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
  (void)source.Feed("\x1b[?1049l");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
}

// A combining mark core knows and libvterm 0.3.3's tables lack (U+0617),
// alone on a blank cell and after a character (diff_round_trip_fuzzer's
// finding): the receiver shows the cells the source shows, no extra U+00A0.
TEST(RoundTripTest, CombiningMarksLibvtermsTablesLack) {
  RoundTrip rt(20, 3);
  Emulator source(20, 3);
  (void)source.Feed("\x1b[2;6H\xd8\x97\xef\xbf\xbd\xef\xbf\xbd\xd8\x97x\r\na\xd8\x97\xd8\x97" "b");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
  (void)source.Feed("\x1b[1;1H\xc2\xa0\xd8\x97\xe4\xb8\xad\xd8\x97");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
}

// A wide character fills a 2-column line: libvterm keeps its cursor at
// column 0 with the wrap pending, and a CR does not end it there; the diff
// must not rely on one (diff_round_trip_fuzzer seed two_columns_wide_char_then_cr).
TEST(RoundTripTest, TwoColumnsWideCharacterThenStartOfLine) {
  RoundTrip rt(2, 3);
  Emulator source(2, 3);
  // The diff paints 中, then puts the cursor back at column 0 ...
  (void)source.Feed("\xe4\xb8\xad\x1b[1;1H");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
  // ... where the next diff prints: on row 0, not on the next one.
  (void)source.Feed("x");
  EXPECT_EQ(rt.Step(source.Snapshot()), "");
}

// A wide character that ends at the last column leaves libvterm's cursor on
// its first column, wrap pending (xterm's on the last column); a TAB there
// then moves the source's cursor to the last column. The diff that prints
// the character must not take the receiver's cursor to be there already
// (diff_round_trip_fuzzer seed wide_char_at_line_end_then_tab).
TEST(RoundTripTest, WideCharacterAtTheLineEndThenTab) {
  for (int width : {2, 3, 10}) {
    SCOPED_TRACE(width);
    RoundTrip rt(width, 11);
    Emulator source(width, 11);
    (void)source.Feed(absl::StrCat("\x1b[1;", width - 1, "H\xe4\xb8\xad\t"));
    EXPECT_EQ(rt.Step(source.Snapshot()), "");
    // And with the wrap still pending in the source.
    RoundTrip pending(width, 11);
    Emulator pending_source(width, 11);
    (void)pending_source.Feed(absl::StrCat("\x1b[1;", width - 1, "H\xe4\xb8\xad"));
    EXPECT_EQ(pending.Step(pending_source.Snapshot()), "");
    (void)pending_source.Feed("x");
    EXPECT_EQ(pending.Step(pending_source.Snapshot()), "");
  }
}

TEST(RoundTripTest, RandomScreenPairs) {
  int pairs = 0, failures = 0;
  for (uint64_t seed = 1; seed <= 400 && failures < kMaxReports; ++seed) {
    std::mt19937_64 rng(seed);
    int width = std::uniform_int_distribution<int>(Emulator::kMinWidth, 90)(rng);
    int height = std::uniform_int_distribution<int>(1, 30)(rng);
    Emulator source(width, height);
    RoundTrip rt(width, height);
    for (int step = 0; step < 10 && failures < kMaxReports; ++step) {
      if (rng() % 12 == 0) {
        width = std::uniform_int_distribution<int>(Emulator::kMinWidth, 90)(rng);
        height = std::uniform_int_distribution<int>(1, 30)(rng);
        source.Resize(width, height);
      }
      const int pieces = std::uniform_int_distribution<int>(1, 60)(rng);
      (void)source.Feed(RandomVtStream(rng, pieces, width, height));
      const std::string report = rt.Step(source.Snapshot());
      ++pairs;
      if (!report.empty()) {
        ++failures;
        ADD_FAILURE() << "seed " << seed << " step " << step << "\n" << report;
      }
    }
  }
  EXPECT_GE(pairs, 4000);
}

TEST(RoundTripTest, RecordedStreamsAtManyPoints) {
  const std::vector<std::string> paths = RecordedStreams();
  ASSERT_GE(paths.size(), 10u);
  std::mt19937_64 rng(7);
  int snapshots = 0, failures = 0;
  for (const std::string& path : paths) {
    Emulator source(kDefaultWidth, kDefaultHeight);
    RoundTrip rt(kDefaultWidth, kDefaultHeight);
    for (const VtEvent& event : SplitVtStream(ReadFile(path))) {
      if (failures >= kMaxReports) break;
      std::vector<std::string> chunks;
      if (event.is_resize) {
        source.Resize(event.width, event.height);
        chunks.push_back("");
      } else {
        for (size_t pos = 0; pos < event.bytes.size();) {
          const size_t n = std::uniform_int_distribution<size_t>(1, 300)(rng);
          chunks.push_back(event.bytes.substr(pos, n));
          pos += n;
        }
      }
      for (const std::string& chunk : chunks) {
        (void)source.Feed(chunk);
        const std::string report = rt.Step(source.Snapshot());
        ++snapshots;
        if (!report.empty() && failures++ < kMaxReports) {
          ADD_FAILURE() << path << " after " << snapshots << " snapshots\n"
                        << report;
        }
      }
    }
  }
  EXPECT_GE(snapshots, 200);
}

}  // namespace
}  // namespace moshx::term
