// Keystroke traces (testdata/traces) replayed through in-process client and
// server sessions on the simulated network: how much local echo shows at
// once, how often it is wrong, and that a password is never drawn.
#include <cstdio>
#include <map>
#include <string>

#include "cmd/testing/trace_replay.h"
#include "gtest/gtest.h"

namespace moshx::cmd::testing {
namespace {

struct Loaded {
  Trace trace;
  std::vector<Screen> reference;
};

// Each trace's reference run is done once per test binary.
const Loaded& Load(const std::string& name) {
  static auto* cache = new std::map<std::string, Loaded>();
  auto it = cache->find(name);
  if (it != cache->end()) return it->second;
  absl::StatusOr<Trace> trace = LoadTrace("testdata/traces/" + name + ".trace");
  if (!trace.ok()) {
    ADD_FAILURE() << trace.status();
    return (*cache)[name];
  }
  absl::StatusOr<std::vector<Screen>> ref = ReferenceScreens(*trace);
  if (!ref.ok()) ADD_FAILURE() << ref.status();
  Loaded& l = (*cache)[name];
  l.trace = *std::move(trace);
  if (ref.ok()) l.reference = *std::move(ref);
  return l;
}

ReplayResult Replay(const std::string& name, int rtt_ms,
                    core::PredictionDisplay predict = core::PredictionDisplay::kAdaptive,
                    net::WireMode mode = net::WireMode::kMoshx, bool mosh_engine = false) {
  const Loaded& l = Load(name);
  ReplayOptions o;
  o.rtt = absl::Milliseconds(rtt_ms);
  o.predict = predict;
  o.mode = mode;
  o.mosh_engine = mosh_engine;
  absl::StatusOr<ReplayResult> r = ReplayTrace(l.trace, l.reference, o);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return ReplayResult();
  }
  std::printf("%-14s rtt %3d ms: %d keys, %.0f%% instant, %.1f%% mispredicted, "
              "median %.0f ms, mean %.0f ms, %d never shown, %d secret cells drawn\n",
              name.c_str(), rtt_ms, r->keys, 100 * r->instant_share(),
              100 * r->mispredicted_share(), r->median_ms, r->mean_ms, r->never_shown,
              r->secret_cells_drawn);
  EXPECT_TRUE(r->converged) << name << " client:\n"
                            << r->final_client << "server:\n"
                            << r->final_server;
  EXPECT_FALSE(r->predictions_left) << name;
  return *r;
}

class ShellEditingTest : public ::testing::TestWithParam<int> {};

TEST_P(ShellEditingTest, MostKeystrokesShowAtOnceAndAlmostNoneAreWrong) {
  ReplayResult r = Replay("shell_editing", GetParam());
  EXPECT_GT(r.keys, 100);
  EXPECT_GE(r.instant_share(), 0.70);
  EXPECT_LE(r.mispredicted_share(), 0.005);
}

INSTANTIATE_TEST_SUITE_P(Rtt, ShellEditingTest, ::testing::Values(50, 200, 500));

class PasswordTest : public ::testing::TestWithParam<int> {};

TEST_P(PasswordTest, NoCharacterOfThePasswordIsEverDrawn) {
  ReplayResult r = Replay("password", GetParam());
  EXPECT_GT(r.frames, 10);
  EXPECT_EQ(r.secret_cells_drawn, 0);
  // Issue 19's bar. The command line's last keys, drawn and echoed before
  // `read -s` turned the report secret, once counted as wrong (2.4% at 500 ms).
  EXPECT_LE(r.mispredicted_share(), 0.005);
}

INSTANTIATE_TEST_SUITE_P(Rtt, PasswordTest, ::testing::Values(50, 200, 500));

TEST(PasswordModesTest, NeverDrawnInAlwaysModeNorAgainstAMoshServer) {
  ReplayResult always = Replay("password", 200, core::PredictionDisplay::kAlways);
  EXPECT_EQ(always.secret_cells_drawn, 0);
  EXPECT_TRUE(always.pty_reported);
  // Mosh wire mode: no pty report (a mosh peer never sees the extension),
  // only mosh's epochs protect the password.
  ReplayResult mosh = Replay("password", 200, core::PredictionDisplay::kAdaptive, net::WireMode::kMosh);
  EXPECT_EQ(mosh.secret_cells_drawn, 0);
  EXPECT_FALSE(mosh.pty_reported);
}

TEST(FullScreenTest, EditorAndPagerConverge) {
  ReplayResult editor = Replay("editor", 200);
  EXPECT_GT(editor.keys, 40);
  ReplayResult pager = Replay("pager", 200);
  EXPECT_GT(pager.keys, 10);
}

TEST(FullScreenTest, EditorTypingAt500MsShowsOnceEachModeIsConfirmed) {
  // After vim's "i", Enter or "O" a new epoch waits for one confirmed key;
  // the replay must then line up with the keys the screen already shows
  // (docs/prediction.md §A.9). 61% here; 39% when every frame killed the
  // replayed epoch anew (mosh's engine: 38%).
  ReplayResult editor = Replay("editor", 500);
  EXPECT_GE(editor.instant_share(), 0.55);
  EXPECT_LE(editor.mispredicted_share(), 0.01);
}

TEST(MoshEngineComparisonTest, BeatsMoshsEngineAt500Ms) {
  ReplayResult moshx = Replay("shell_editing", 500);
  ReplayResult mosh = Replay("shell_editing", 500, core::PredictionDisplay::kAdaptive,
                             net::WireMode::kMosh, /*mosh_engine=*/true);
  EXPECT_GE(moshx.instant_share(), mosh.instant_share() + 0.10);
  // (The editor trace shows the replay's gain too: //cmd:prediction_bench
  // --engine=mosh; left out here to keep the test short.)
}

TEST(PredictNeverTest, NothingIsShownBeforeTheServerAnswers) {
  ReplayResult r = Replay("shell_editing", 200, core::PredictionDisplay::kNever);
  // A key can only "appear" at once when its screen was already on display
  // (e.g. a right arrow at the end of the line).
  EXPECT_LE(r.instant_share(), 0.02);
  EXPECT_EQ(r.mispredicted, 0);
  EXPECT_GE(r.median_ms, 200);
}

}  // namespace
}  // namespace moshx::cmd::testing
