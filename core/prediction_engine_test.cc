#include "core/prediction_engine.h"

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace moshx::core {
namespace {

using protocol::PtyState;

constexpr absl::Duration kSlow = absl::Milliseconds(100);  // send interval: SRTT 200 ms

// A fake server: a screen, a cursor, an echo ack and an optional pty report.
class FakeServer {
 public:
  FakeServer(int width, int height) : fb(width, height) {}

  void Put(int row, int col, const std::string& text, Renditions rend = Renditions()) {
    for (char ch : text) {
      Cell c;
      c.text = std::string(1, ch);
      c.renditions = rend;
      fb.MutableRow(row)->Set(col++, c);
    }
  }
  void MoveTo(int row, int col) {
    fb.mutable_cursor()->row = row;
    fb.mutable_cursor()->col = col;
  }
  // The application echoes `text` at the cursor.
  void Echo(const std::string& text) {
    Put(fb.cursor().row, fb.cursor().col, text);
    MoveTo(fb.cursor().row, fb.cursor().col + static_cast<int>(text.size()));
  }
  ServerView view() const { return ServerView{&fb, echo_ack, pty}; }

  Framebuffer fb;
  uint64_t echo_ack = 0;
  std::optional<PtyState> pty;
};

std::string RowText(const Framebuffer& fb, int row) {
  std::string out;
  for (int x = 0; x < fb.width(); ++x) {
    out += fb.cell(row, x).is_blank() ? " " : fb.cell(row, x).text;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : server(20, 5) {
    engine.SetTiming(kSlow, 2 * kSlow);
  }
  // Types `bytes` as client state `frame_sent + 1` at time `now`.
  void Type(const std::string& bytes) {
    engine.SetLocalFrameSent(frame_sent);
    engine.NewUserBytes(bytes, server.view(), now);
    ++frame_sent;
  }
  // The frame the client would draw.
  Framebuffer Drawn() {
    engine.Cull(server.view(), now);
    Framebuffer frame = server.fb;
    engine.Apply(&frame);
    return frame;
  }
  void Advance(absl::Duration d) { now += d; }

  PredictionEngine engine;
  FakeServer server;
  uint64_t frame_sent = 0;
  absl::Duration now = absl::Seconds(1);
};

TEST_F(EngineTest, FirstEpochStaysHiddenUntilTheServerEchoesOneCharacter) {
  server.Put(0, 0, "$ ");
  server.MoveTo(0, 2);
  Type("l");
  EXPECT_EQ(RowText(Drawn(), 0), "$");  // tentative: not drawn
  // The server echoes "l" and acks the state that carried it.
  server.Echo("l");
  server.echo_ack = frame_sent;
  Advance(absl::Milliseconds(300));
  EXPECT_EQ(RowText(Drawn(), 0), "$ l");
  EXPECT_EQ(engine.confirmed_epoch(), engine.prediction_epoch());
  Type("s");
  Framebuffer drawn = Drawn();
  EXPECT_EQ(RowText(drawn, 0), "$ ls");  // the confirmed epoch shows at once
  EXPECT_EQ(drawn.cursor().col, 4);
  EXPECT_TRUE(drawn.cell(0, 3).renditions.has(kUnderline));  // SRTT 200 ms: flagged
  EXPECT_EQ(engine.stats().credited, 1u);
}

TEST_F(EngineTest, NothingIsDrawnOnAFastLinkWithoutAGlitch) {
  engine.SetTiming(absl::Milliseconds(20), absl::Milliseconds(40));
  server.Echo("ab");
  server.echo_ack = 0;
  Type("c");
  server.Echo("c");
  server.echo_ack = frame_sent;
  Drawn();  // confirms the epoch
  Type("d");
  EXPECT_FALSE(engine.display_enabled());
  EXPECT_EQ(RowText(Drawn(), 0), "abc");
  // The prediction pends for 250 ms: a glitch, predictions get drawn.
  Advance(absl::Milliseconds(260));
  EXPECT_EQ(RowText(Drawn(), 0), "abcd");
  EXPECT_EQ(engine.glitch_trigger(), PredictionEngine::kGlitchRepairCount);
}

TEST_F(EngineTest, WrongDisplayedPredictionResetsAndIsCounted) {
  server.Echo("x");
  Type("a");
  server.Echo("a");
  server.echo_ack = frame_sent;
  Drawn();
  Type("b");
  EXPECT_EQ(RowText(Drawn(), 0), "xab");
  server.Echo("Q");  // the application shows something else
  server.echo_ack = frame_sent;
  EXPECT_EQ(RowText(Drawn(), 0), "xaQ");
  EXPECT_EQ(engine.stats().shown_wrong, 1u);
  EXPECT_EQ(engine.stats().mispredicted_keys, std::vector<uint64_t>{2});
  EXPECT_FALSE(engine.active());
}

TEST_F(EngineTest, PasswordAfterEnterIsNeverDrawn) {
  server.Echo("$ ");
  Type("a");
  server.Echo("a");
  server.echo_ack = frame_sent;
  Drawn();
  Type("\r");
  server.Put(1, 0, "Password:");
  server.MoveTo(1, 9);
  for (char ch : std::string("hunter2")) {
    Type(std::string(1, ch));
    Advance(absl::Milliseconds(100));
    Framebuffer drawn = Drawn();
    EXPECT_EQ(RowText(drawn, 1), "Password:");
    server.echo_ack = frame_sent;  // acked, never echoed
  }
  EXPECT_EQ(RowText(Drawn(), 1), "Password:");
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
}

TEST_F(EngineTest, SecretPtyModePredictsNothingEvenInAlwaysMode) {
  PredictionEngine always({PredictionDisplay::kAlways, false});
  server.pty = PtyState{/*echo=*/false, /*canonical=*/true, true, 1, /*settled=*/true};
  server.Echo("Password: ");
  for (char ch : std::string("secret")) {
    always.NewUserBytes(std::string(1, ch), server.view(), now);
    always.Cull(server.view(), now);
    Framebuffer frame = server.fb;
    always.Apply(&frame);
    EXPECT_EQ(RowText(frame, 0), "Password:");
  }
  EXPECT_FALSE(always.active());
}

TEST_F(EngineTest, SecretModeDropsPredictionsAlreadyDrawn) {
  server.pty = PtyState{true, true, true, 1, /*settled=*/true};
  server.Echo("$ ");
  Type("ab");
  EXPECT_EQ(RowText(Drawn(), 0), "$ ab");
  server.pty->echo = false;  // e.g. `stty -echo` ran first
  EXPECT_EQ(RowText(Drawn(), 0), "$");
  EXPECT_FALSE(engine.active());
  EXPECT_EQ(engine.stats().shown_wrong, 2u);  // drawn, and the server never showed them
}

TEST_F(EngineTest, DrawnKeysTheServerEchoedBeforeASecretPromptAreNotCountedWrong) {
  // `read -s` typed at a cooked prompt: by the time the report that turns
  // secret arrives, the screen shows the command line as predicted.
  server.pty = PtyState{true, true, true, 1, /*settled=*/true};
  server.Echo("$ ");
  Type("ab");
  EXPECT_EQ(RowText(Drawn(), 0), "$ ab");
  server.Echo("ab");
  server.pty->echo = false;
  EXPECT_EQ(RowText(Drawn(), 0), "$ ab");
  EXPECT_FALSE(engine.active());
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
  EXPECT_TRUE(engine.stats().mispredicted_keys.empty());
}

TEST_F(EngineTest, CookedShellPromptIsTrustedFromTheFirstKeystroke) {
  server.pty = PtyState{/*echo=*/true, /*canonical=*/true, /*shell_foreground=*/true, 7,
                        /*settled=*/true};
  server.Echo("$ ");
  Type("e");
  EXPECT_EQ(RowText(Drawn(), 0), "$ e");
  // Not when a job (another process group) owns the terminal.
  Type("\r");
  server.Echo("e");
  server.MoveTo(1, 0);
  server.Put(1, 0, "job> ");
  server.MoveTo(1, 5);
  server.pty->shell_foreground = false;
  server.echo_ack = frame_sent;
  Drawn();
  Type("x");
  EXPECT_EQ(RowText(Drawn(), 1), "job>");
}

TEST_F(EngineTest, CookedModeDoesNotPredictArrows) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  server.Echo("$ ab");
  Type("\x1b[D");
  EXPECT_EQ(Drawn().cursor().col, 4);
}

TEST_F(EngineTest, RawPromptIsTrustedOnceCreditedThere) {
  server.pty = PtyState{/*echo=*/false, /*canonical=*/false, true, 7, /*settled=*/true};  // readline
  server.Echo("$ ");
  Type("l");
  EXPECT_EQ(RowText(Drawn(), 0), "$");
  server.Echo("l");
  server.echo_ack = frame_sent;
  EXPECT_EQ(RowText(Drawn(), 0), "$ l");
  Type("\r");
  server.MoveTo(1, 0);
  server.Echo("$ ");
  server.echo_ack = frame_sent;  // the report covers the Enter
  Drawn();
  Type("p");
  EXPECT_EQ(RowText(Drawn(), 1), "$ p");  // trusted from the first key
  // Typed ahead of the report (Enter still in flight): not trusted.
  Type("\r");
  Type("q");
  EXPECT_EQ(RowText(Drawn(), 2), "");
}

// The session's first prompt: no keystroke reached the pty yet and a line
// editor (bracketed paste on) reads it.
TEST_F(EngineTest, FirstPromptOfTheSessionIsTrustedFromTheFirstKeystroke) {
  PtyState readline{/*echo=*/false, /*canonical=*/false, true, 7, /*settled=*/true};
  readline.fresh = true;
  server.pty = readline;
  server.fb.mutable_modes()->bracketed_paste = true;
  server.Echo("$ ");
  Type("l");
  EXPECT_EQ(RowText(Drawn(), 0), "$ l");
  Type("s");
  EXPECT_EQ(RowText(Drawn(), 0), "$ ls");
  // Credited there, the prompt is learned: after the first keystroke
  // ("fresh" ends) the same prompt is still trusted.
  server.Echo("ls");
  server.pty->fresh = false;
  server.echo_ack = frame_sent;
  Drawn();
  Type("\x15");
  server.Put(0, 2, "  ");
  server.MoveTo(0, 2);
  server.echo_ack = frame_sent;
  Drawn();
  Type("c");
  EXPECT_EQ(RowText(Drawn(), 0), "$ c");
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
}

TEST_F(EngineTest, FirstPromptRuleNeedsALineEditorAPromptAndNoKeystrokeYet) {
  PtyState raw{/*echo=*/false, /*canonical=*/false, true, 7, /*settled=*/true};
  raw.fresh = true;
  // `read -s -n 4` run by the shell's start-up files: no bracketed paste.
  server.pty = raw;
  server.Echo("PIN: ");
  Type("1");
  EXPECT_EQ(RowText(Drawn(), 0), "PIN:");
  engine.Reset();
  // Bracketed paste on, but nothing left of the cursor.
  server.fb.mutable_modes()->bracketed_paste = true;
  server.MoveTo(1, 0);
  Type("2");
  EXPECT_EQ(RowText(Drawn(), 1), "");
  engine.Reset();
  // A keystroke reached the pty already (a reattach to a used session).
  server.pty->fresh = false;
  server.MoveTo(0, 5);
  Type("3");
  EXPECT_EQ(RowText(Drawn(), 0), "PIN:");
  engine.Reset();
  // Not settled, or a job in the foreground.
  server.pty->fresh = true;
  server.pty->settled = false;
  Type("4");
  EXPECT_EQ(RowText(Drawn(), 0), "PIN:");
  engine.Reset();
  server.pty->settled = true;
  server.pty->shell_foreground = false;
  Type("5");
  EXPECT_EQ(RowText(Drawn(), 0), "PIN:");
  engine.Reset();
  // All conditions met: trusted (the check above is not vacuous).
  server.pty->shell_foreground = true;
  Type("6");
  EXPECT_EQ(RowText(Drawn(), 0), "PIN: 6");
}

TEST_F(EngineTest, PasteCutoffPredictsNothing) {
  PredictionEngine always({PredictionDisplay::kAlways, false});
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  always.NewUserBytes(std::string(101, 'z'), server.view(), now);
  EXPECT_FALSE(always.active());
  always.NewUserBytes(std::string(100, 'z'), server.view(), now);
  EXPECT_TRUE(always.active());
}

TEST_F(EngineTest, InsertShiftsOnlyTheTextRunUnderTheCursor) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  server.Echo("$ ac");
  server.Put(0, 15, "[rp]");  // an RPROMPT far right
  server.MoveTo(0, 3);
  Type("b");
  EXPECT_EQ(RowText(Drawn(), 0), "$ abc          [rp]");
  server.MoveTo(0, 5);
  server.Put(0, 3, "bc");
  server.echo_ack = frame_sent;
  Drawn();
  Type("d");  // at the end of the input: nothing shifts
  EXPECT_EQ(RowText(Drawn(), 0), "$ abcd         [rp]");
}

TEST_F(EngineTest, AutosuggestionIsNotShifted) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  Renditions grey;
  grey.fg = Color::Indexed(8);
  server.Echo("> gi");
  server.Put(0, 4, "t status", grey);
  Type("t");
  Framebuffer drawn = Drawn();
  EXPECT_EQ(RowText(drawn, 0), "> git status");
  EXPECT_EQ(drawn.cell(0, 4).renditions.fg, Color::Default());
  EXPECT_EQ(drawn.cell(0, 5).renditions.fg, Color::Indexed(8));
}

TEST_F(EngineTest, BackspaceDeletesAndShiftsLeft) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  server.Echo("$ acd");
  server.MoveTo(0, 3);
  Type("b");  // trusted: the shell's cooked prompt
  EXPECT_EQ(RowText(Drawn(), 0), "$ abcd");
  Type("\x7f");  // same epoch: shown
  Framebuffer drawn = Drawn();
  EXPECT_EQ(RowText(drawn, 0), "$ acd");
  EXPECT_EQ(drawn.cursor().col, 3);
}

TEST(PredictionEngineOverwriteTest, OverwriteReplacesWithoutShifting) {
  PredictionEngine engine({PredictionDisplay::kExperimental, /*overwrite=*/true});
  FakeServer server(20, 3);
  server.Echo("abcd");
  server.MoveTo(0, 1);
  const absl::Duration now = absl::Seconds(1);
  engine.NewUserBytes("X", server.view(), now);
  engine.Cull(server.view(), now);
  Framebuffer frame = server.fb;
  engine.Apply(&frame);
  EXPECT_EQ(RowText(frame, 0), "aXcd");
  engine.NewUserBytes("\x7f", server.view(), now);
  frame = server.fb;
  engine.Apply(&frame);
  EXPECT_EQ(RowText(frame, 0), "a cd");
}

TEST(PredictionEngineParserTest, LoneEscapeThenOIsNotAnArrowKey) {
  PredictionEngine engine({PredictionDisplay::kExperimental, false});
  FakeServer server(20, 3);
  const absl::Duration now = absl::Seconds(1);
  engine.NewUserBytes("\x1b", server.view(), now);  // vi: leave insert mode
  engine.NewUserBytes("O", server.view(), now);     // then open a line
  engine.NewUserBytes("k", server.view(), now);
  Framebuffer frame = server.fb;
  engine.Apply(&frame);
  EXPECT_EQ(RowText(frame, 0), "Ok");
  // In one chunk, ESC O C is the right-arrow key.
  engine.NewUserBytes("\x1bOC", server.view(), now);
  frame = server.fb;
  engine.Apply(&frame);
  EXPECT_EQ(RowText(frame, 0), "Ok");
  EXPECT_EQ(frame.cursor().col, 3);
}

TEST(PredictionEngineParserTest, WideAndCombiningInputIsNotPredictedButNarrowUnicodeIs) {
  PredictionEngine engine({PredictionDisplay::kExperimental, false});
  FakeServer server(20, 3);
  const absl::Duration now = absl::Seconds(1);
  engine.NewUserBytes("\xc3\xbc", server.view(), now);      // ü
  engine.NewUserBytes("\xe6\xbc\xa2", server.view(), now);  // 漢 (wide)
  engine.NewUserBytes("\xcc\x81", server.view(), now);      // combining acute
  Framebuffer frame = server.fb;
  engine.Apply(&frame);
  EXPECT_EQ(frame.cell(0, 0).text, "\xc3\xbc");
  EXPECT_TRUE(frame.cell(0, 1).is_blank());
  EXPECT_EQ(frame.cursor().col, 1);
}

TEST_F(EngineTest, TypingIntoTheLastColumnIsTentative) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  server.Echo(std::string(18, '.'));
  Type("a");  // column 18: shown
  Type("b");  // column 19, the last: a new epoch, hidden
  Framebuffer drawn = Drawn();
  EXPECT_EQ(drawn.cell(0, 18).text, "a");
  EXPECT_TRUE(drawn.cell(0, 19).is_blank());
}

TEST_F(EngineTest, ResizeResets) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  Drawn();
  Type("a");
  EXPECT_TRUE(engine.active());
  server.fb.Resize(30, 5);
  Drawn();
  EXPECT_FALSE(engine.active());
}

// The Enter typed after "less file" starts the pager before the echo ack
// covering the last keys arrives: that ack comes with the pager's screen,
// where the guesses drawn on the shell's screen cannot be judged. They are
// dropped, not counted wrong.
TEST_F(EngineTest, GuessesDrawnOnTheScreenTheServerLeftAreDroppedUncounted) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};  // cooked: trusted
  server.Echo("$ ");
  Type("ab");
  EXPECT_EQ(RowText(Drawn(), 0), "$ ab");
  server.fb.mutable_modes()->alternate_screen = true;  // the pager's screen
  server.fb.EraseAll(Renditions());
  server.Put(0, 0, "GNU GENERAL PUBLIC");
  server.MoveTo(4, 0);
  server.echo_ack = frame_sent;
  Advance(absl::Milliseconds(500));
  EXPECT_EQ(RowText(Drawn(), 0), "GNU GENERAL PUBLIC");
  EXPECT_FALSE(engine.active());
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
  EXPECT_TRUE(engine.stats().mispredicted_keys.empty());
}

TEST_F(EngineTest, NeverModeTracksNothing) {
  PredictionEngine never({PredictionDisplay::kNever, false});
  never.NewUserBytes("abc", server.view(), now);
  EXPECT_FALSE(never.active());
  EXPECT_EQ(never.WaitTime(), absl::InfiniteDuration());
}

TEST_F(EngineTest, PollsWhilePredictionsPend) {
  server.pty = PtyState{true, true, true, 7, /*settled=*/true};
  EXPECT_EQ(engine.WaitTime(), absl::InfiniteDuration());
  Type("a");
  EXPECT_EQ(engine.WaitTime(), PredictionEngine::kPollInterval);
}

TEST_F(EngineTest, KeysInFlightArePredictedAgainAfterAKilledEpoch) {
  // vi normal mode: "i" is not echoed; "ab" is typed before that shows.
  server.Echo("");
  Type("i");
  Type("a");
  Type("b");
  server.MoveTo(0, 0);
  server.echo_ack = 1;  // the "i" state: nothing echoed, the guess dies
  EXPECT_EQ(RowText(Drawn(), 0), "");
  server.Echo("a");  // the "a" state: echoed where the replay put it
  server.echo_ack = 2;
  Framebuffer drawn = Drawn();
  EXPECT_EQ(RowText(drawn, 0), "ab");  // "b" is shown before the server has it
  EXPECT_EQ(drawn.cursor().col, 2);
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
}

TEST_F(EngineTest, ReplayStartsAfterKeysTheScreenShowsBeforeTheEchoAckCoversThem) {
  // vim's "i" at 500 ms RTT (testdata/traces/editor.trace): when the frame
  // that acks "i" arrives, the program has already echoed "h", whose ack
  // comes 50 ms later (ECHO_TIMEOUT) in the next frame.
  Type("i");
  Type("h");
  Type("e");
  Type("l");
  server.Echo("h");
  server.echo_ack = 1;  // the "i" state: the guess dies, "hel" in flight
  EXPECT_EQ(RowText(Drawn(), 0), "h");
  server.Echo("e");
  server.echo_ack = 3;  // "h" and "e" acked; the screen also has them
  Framebuffer drawn = Drawn();
  // The replay put "e" and "l" after the "h" already shown, so the acked
  // "e" is where it was predicted: the epoch is confirmed and "l" is shown.
  EXPECT_EQ(RowText(drawn, 0), "hel");
  EXPECT_EQ(drawn.cursor().col, 3);
  EXPECT_EQ(engine.confirmed_epoch(), engine.prediction_epoch());
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
}

TEST_F(EngineTest, AReplaySkippingAKeyTheScreenDidNotShowIsKilledUnseen) {
  // The text left of the cursor ends with an "a" from before, so the replay
  // takes the "a" in flight for it and guesses "b" one column left: the
  // guess is tentative, killed when judged, and nothing wrong is drawn.
  server.Echo("xa");
  Type("i");
  Type("a");
  Type("b");
  server.echo_ack = 1;
  EXPECT_EQ(RowText(Drawn(), 0), "xa");
  server.Echo("ab");
  server.echo_ack = 3;
  EXPECT_EQ(RowText(Drawn(), 0), "xaab");
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
  Type("c");
  server.Echo("c");
  server.echo_ack = 4;
  EXPECT_EQ(RowText(Drawn(), 0), "xaabc");
  EXPECT_EQ(engine.stats().shown_wrong, 0u);
}

TEST(PredictionEngineRandomTest, RandomInputNeverBreaksTheFrame) {
  std::mt19937 rng(12345);
  const PredictionDisplay modes[] = {PredictionDisplay::kAdaptive, PredictionDisplay::kAlways,
                                     PredictionDisplay::kExperimental};
  const char alphabet[] = "ab \x7f\x1b[OCD\r\x03~1;\xc3\xbc\xe6\xbc\xa2";
  for (PredictionDisplay mode : modes) {
    for (bool overwrite : {false, true}) {
      PredictionEngine engine({mode, overwrite});
      FakeServer server(8, 3);
      absl::Duration now = absl::Seconds(1);
      uint64_t sent = 0;
      for (int step = 0; step < 3000; ++step) {
        std::string chunk;
        const int n = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) chunk += alphabet[rng() % (sizeof(alphabet) - 1)];
        engine.SetLocalFrameSent(sent);
        engine.NewUserBytes(chunk, server.view(), now);
        ++sent;
        if (rng() % 3 == 0) server.echo_ack = sent - rng() % 2;
        const int h = server.fb.height(), w = server.fb.width();
        if (rng() % 4 == 0) server.MoveTo(rng() % h, rng() % w);
        if (rng() % 5 == 0) server.Put(rng() % h, rng() % w, "x");
        if (rng() % 50 == 0) server.fb.Resize(6 + rng() % 4, 2 + rng() % 3);
        if (rng() % 7 == 0) {
          server.pty = PtyState{rng() % 2 == 0, rng() % 2 == 0, rng() % 2 == 0, 1, /*settled=*/true};
        }
        if (server.fb.cursor().row >= server.fb.height() ||
            server.fb.cursor().col >= server.fb.width()) {
          server.MoveTo(0, 0);
        }
        now += absl::Milliseconds(rng() % 300);
        engine.SetTiming(absl::Milliseconds(20 + rng() % 200), absl::Milliseconds(rng() % 400));
        engine.Cull(server.view(), now);
        Framebuffer frame = server.fb;
        engine.Apply(&frame);
        ASSERT_TRUE(frame.Validate().ok()) << frame.Validate();
        if (server.pty.has_value() && server.pty->secret()) {
          ASSERT_FALSE(engine.active());
        }
      }
    }
  }
}

TEST_F(EngineTest, UnsettledPtyReportIsNotTrusted) {
  // The prompt was printed a moment ago: the program may be about to turn
  // echo off (bash prints `read -s -p` prompts before it does).
  server.pty = PtyState{true, true, true, 7, /*settled=*/false};
  server.Echo("Password: ");
  Type("s");
  EXPECT_EQ(RowText(Drawn(), 0), "Password:");
}

// A full-screen editor in insert mode (vim: raw, ECHO off, the alternate
// screen, not the shell; `~` on rows past the end of the file): `line` is
// typed in row 0 (its first key waits for the echo that confirms the
// epoch), then Enter and "s". Returns the two rows below the line as drawn
// ("" past the screen). `vary` changes the server before the typing starts
// (it may move the cursor: the line is typed where the cursor is).
std::string DrawnAfterEnterInAnEditor(const std::function<void(FakeServer&)>& vary,
                                      const std::string& line = "hi",
                                      const std::string& after = "\rs") {
  PredictionEngine engine;
  engine.SetTiming(kSlow, 2 * kSlow);
  FakeServer server(20, 6);
  server.fb.mutable_modes()->alternate_screen = true;
  server.pty = PtyState{/*echo=*/false, /*canonical=*/false, /*shell_foreground=*/false, 9,
                        /*settled=*/false};
  for (int r = 1; r < 5; ++r) server.Put(r, 0, "~");
  server.Put(5, 0, "-- INSERT --");
  vary(server);
  const int row = server.fb.cursor().row;
  const absl::Duration now = absl::Seconds(1);
  uint64_t frame = 0;
  auto type = [&](const std::string& bytes) {
    engine.SetLocalFrameSent(frame++);
    engine.NewUserBytes(bytes, server.view(), now);
  };
  type(line.substr(0, 1));
  server.Echo(line.substr(0, 1));
  server.echo_ack = frame;
  engine.Cull(server.view(), now);
  type(line.substr(1));
  for (char c : after) type(std::string(1, c));
  engine.Cull(server.view(), now);
  Framebuffer drawn = server.fb;
  engine.Apply(&drawn);
  return RowText(drawn, row + 1) + "|" +
         (row + 2 < drawn.height() ? RowText(drawn, row + 2) : std::string());
}

// docs/prediction.md §A.8, a line opened in a full-screen editor.
TEST(PredictionEngineEditorTest, EnterAtTheEndOfAnEchoedLineAboveAnEmptyRowIsTrusted) {
  auto same = [](FakeServer&) {};
  EXPECT_EQ(DrawnAfterEnterInAnEditor(same), "s|~");
  EXPECT_EQ(DrawnAfterEnterInAnEditor(same, "f(x);"), "s|~");
  // An empty row below instead of vi's `~`.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) { s.fb.MutableRow(1)->Set(0, Cell()); }),
            "s|~");
}

TEST(PredictionEngineEditorTest, EnterIsNotTrustedOutsideAFullScreenProgramThatEchoes) {
  EXPECT_EQ(DrawnAfterEnterInAnEditor(
                [](FakeServer& s) { s.fb.mutable_modes()->alternate_screen = false; }),
            "~|~");  // a REPL: its next prompt may come first
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) { s.pty->shell_foreground = true; }),
            "~|~");
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) {
              s.pty->echo = true;
              s.pty->canonical = true;
            }),
            "~|~");
  // The typing of the line was not echoed yet (a new epoch after Tab).
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer&) {}, "hi", "\t\rs"), "~|~");
}

TEST(PredictionEngineEditorTest, EnterIsNotTrustedWhereTheEditorMayIndentOrMoveText) {
  // Text right of the cursor moves down with the Enter.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) { s.Put(0, 12, "tail"); }), "~|~");
  // An indented line: auto-indent may keep the indent.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) { s.MoveTo(0, 2); }), "~|~");
  // Lines that open a block or continue: the next one may be indented.
  for (const char* line : {"f(x,", "foo(bar", "if x:", "int f() {", "a = [", "ls \\", "a,"}) {
    EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer&) {}, line), "~|~") << line;
  }
  // The next row holds text: the editor opens a line above it.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) { s.Put(1, 0, "next"); }), "next|~");
  // Typed in the last row but one (and the last row blank): a status or
  // command line may be there.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) {
              s.fb.MutableRow(4)->Set(0, Cell());
              s.Put(5, 0, "            ");
              s.MoveTo(4, 0);
            }),
            "|");
  // Above that, the same line is trusted.
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer& s) {
              s.fb.MutableRow(3)->Set(0, Cell());
              s.MoveTo(3, 0);
            }),
            "s|-- INSERT --");
}

TEST(PredictionEngineEditorTest, ASecondEnterBeforeTheReportCoversTheFirstIsNotTrusted) {
  EXPECT_EQ(DrawnAfterEnterInAnEditor([](FakeServer&) {}, "hi", "\rst\ru"), "st|~");
}

// vi started from the shell (docs/prediction.md §A.8, vi's insert
// commands): the Enter that runs it is typed at the shell's prompt, then the
// server shows vim's empty buffer (raw, ECHO off, the alternate screen, `~`
// rows, the cursor at the top left) with the report covering the Enter.
// `vary` changes that screen; `keys` are then typed, each its own read, all
// before the server answers any of them (`early` ones right after the Enter,
// before the server answers it). Returns rows 0 and 1 as drawn.
std::string DrawnAfterKeysInVi(const std::function<void(FakeServer&)>& vary,
                               const std::vector<std::string>& keys,
                               const std::string& early = "") {
  PredictionEngine engine;
  engine.SetTiming(kSlow, 2 * kSlow);
  FakeServer server(20, 6);
  server.pty = PtyState{/*echo=*/false, /*canonical=*/false, /*shell_foreground=*/true, 7,
                        /*settled=*/true};
  server.Echo("$ vi");
  const absl::Duration now = absl::Seconds(1);
  uint64_t frame = 0;
  auto type = [&](const std::string& bytes) {
    engine.SetLocalFrameSent(frame++);
    engine.NewUserBytes(bytes, server.view(), now);
  };
  type("\r");
  if (!early.empty()) type(early);
  server.fb = Framebuffer(20, 6);
  server.fb.mutable_modes()->alternate_screen = true;
  server.pty = PtyState{/*echo=*/false, /*canonical=*/false, /*shell_foreground=*/false, 9,
                        /*settled=*/false};
  for (int r = 1; r < 5; ++r) server.Put(r, 0, "~");
  server.echo_ack = frame;
  vary(server);
  engine.Cull(server.view(), now);
  for (const std::string& k : keys) type(k);
  engine.Cull(server.view(), now);
  Framebuffer drawn = server.fb;
  engine.Apply(&drawn);
  return RowText(drawn, 0) + "|" + RowText(drawn, 1);
}

TEST(PredictionEngineViTest, KeysAfterViInsertCommandAreDrawnAtOnce) {
  auto same = [](FakeServer&) {};
  EXPECT_EQ(DrawnAfterKeysInVi(same, {"i", "a", "b"}), "ab|~");
  // `a` on an empty line inserts where the cursor is.
  EXPECT_EQ(DrawnAfterKeysInVi(same, {"a", "x"}), "x|~");
  // `a` on a character appends after it.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.Put(0, 0, "q"); }, {"a", "x"}), "qx|~");
  // `i` on a character inserts before it.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.Put(0, 0, "q"); }, {"i", "x"}), "xq|~");
}

TEST_F(EngineTest, ViInsertCommandAfterALoneEscapeIsTrusted) {
  // vim in insert mode after "ab", then Escape, which the report covers.
  server = FakeServer(20, 6);
  server.fb.mutable_modes()->alternate_screen = true;
  server.pty = PtyState{false, false, false, 9, /*settled=*/false};
  for (int r = 1; r < 5; ++r) server.Put(r, 0, "~");
  server.Put(5, 0, "-- INSERT --");
  server.Echo("ab");
  Type("\x1b");
  // vim left insert mode: the cursor on the last character, the mode gone.
  server.Put(5, 0, "            ");
  server.MoveTo(0, 1);
  server.echo_ack = frame_sent;
  Type("i");
  Type("x");
  EXPECT_EQ(RowText(Drawn(), 0), "axb");
}

TEST(PredictionEngineViTest, InsertCommandIsNotTrustedWhereViMayNotBeInNormalMode) {
  // The key before was a letter (vi's `d`, `c`, `r`, `f` ... take the `i`
  // as their argument), not the first key nor one after Escape.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer&) {}, {"d", "i", "a"}), "|~");
  // Also when that letter was typed before the report said vi runs (it was
  // typed while the shell seemed to be in the foreground).
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer&) {}, {"i", "a"}, "d"), "|~");
  // Already in insert mode ('showmode' says so): `i` is text.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.Put(5, 0, "-- INSERT --"); }, {"i", "a"}),
            "|~");
  // Not vi's look: no `~` row below the cursor.
  EXPECT_EQ(DrawnAfterKeysInVi(
                [](FakeServer& s) {
                  for (int r = 1; r < 5; ++r) s.Put(r, 0, "~x");
                },
                {"i", "a"}),
            "|~x");
  // The cursor on the last rows: a pager's prompt (less shows `~` too).
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.MoveTo(5, 0); }, {"i", "a"}), "|~");
  // Not a full-screen program that echoes by itself.
  EXPECT_EQ(DrawnAfterKeysInVi(
                [](FakeServer& s) { s.fb.mutable_modes()->alternate_screen = false; }, {"i", "a"}),
            "|~");
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.pty->shell_foreground = true; }, {"i", "a"}),
            "|~");
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.pty->echo = true; }, {"i", "a"}), "|~");
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.pty->canonical = true; }, {"i", "a"}), "|~");
  // The report does not cover the Enter yet: what runs is not known.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer& s) { s.echo_ack = 0; }, {"i", "a"}), "|~");
  // Other keys start no insert mode.
  EXPECT_EQ(DrawnAfterKeysInVi([](FakeServer&) {}, {"o", "a"}), "|~");
}

}  // namespace
}  // namespace moshx::core
