// PredictionEngine: predictive local echo (docs/prediction.md §A and §E, the
// mosh behaviours it keeps). It guesses what the user's keystrokes will do to
// the screen, draws those guesses over a copy of the newest server framebuffer,
// and judges every guess against the server's screen once the server's echo
// ack says the keystroke reached the application at least 50 ms earlier.
//
// mosh's adaptive engine, in full:
//   * cell predictions (printable narrow characters insert-shift the row, or
//     overwrite with `overwrite`; DEL deletes-shifts left) and cursor
//     predictions (left/right arrows, the cursor advance, CR);
//   * epochs: after any "uncertain" key (Enter, a control key, up/down, ...)
//     new predictions are tentative (never drawn) until the server shows one
//     of them: a predicted, non-blank character that was not there before;
//   * culling: only through the echo ack; a wrong tentative prediction kills
//     its epoch, a wrong displayed one resets the engine;
//   * display triggers with hysteresis (SRTT trigger, glitch trigger),
//     underlining of unconfirmed cells on slow links or after long glitches;
//   * the paste cutoff (a chunk of more than 100 bytes resets and predicts
//     nothing); modes adaptive/always/never/experimental.
//
// Beyond mosh, when the server reports its pty state with each frame (moshx
// wire mode, see protocol::PtyState in core/protocol/pty_state.h):
//   * secret input: while the pty has ECHO off in canonical mode (getpass,
//     sudo, `read -s`, `stty -echo; read`) nothing is predicted and every
//     prediction is dropped at once. Raw-mode programs (readline, vim) also
//     turn ECHO off but echo by themselves; for them mosh's epochs apply;
//   * trusted contexts: a new epoch is confirmed from its first keystroke
//     when the server's report already reflects every uncertain key typed so
//     far, is settled (PtyState::settled), and either the shell itself sits
//     in a cooked, echoing prompt (the kernel echoes), or the shell is in the
//     foreground and the cursor row starts with a prompt at which a
//     prediction was credited before under the same pty state (a raw-mode
//     shell prompt such as bash's), or is the session's first prompt (no
//     keystroke reached the pty yet, PtyState::fresh, and a line editor reads
//     it: raw mode with bracketed paste on, behind non-blank text);
//   * a line opened in a full-screen editor: Enter at the end of an echoed
//     line (column 0 start, nothing that would make an editor indent) above
//     an empty or `~` row, in a raw, non-echoing, alternate-screen program
//     other than the shell, starts a trusted epoch (EditorOpensLine);
//   * vi's insert commands: `i` or `a` as the first key a raw, non-echoing,
//     alternate-screen program other than the shell gets, or after a lone
//     Escape, with vi's `~` rows below the cursor and no "-- INSERT --" on
//     the last row, draws nothing and starts a trusted epoch
//     (ViEntersInsertMode);
//   * predictions are drawn on any link slower than SRTT 20 ms (mosh: 60 ms),
//     since the pty knowledge removes the wrong guesses that made mosh hide
//     them on fast links;
//   * in canonical mode arrows are not predicted (the kernel echoes them as
//     ^[[D).
// Beyond mosh in every wire mode (off with Options::mosh_compatible):
//   * replay after a wrong guess: mosh restarts from the server's cursor,
//     which lags behind the keys still in flight, so while typing outpaces
//     the round trip every new guess lands in the wrong column and is killed
//     again. This engine remembers the keys the echo ack does not cover yet
//     and, after killing an epoch or resetting on a wrong guess, predicts
//     them again (tentatively, in a new epoch) from the server's screen,
//     after those of them the screen already shows left of its cursor;
//   * insert-shifting moves only the text run under the cursor (up to a gap
//     of 3 blanks or a change of renditions), so a zsh RPROMPT or a fish
//     autosuggestion is never dragged along (docs/prediction.md §E.13); wide cells are never
//     shifted (the cells become "unknown");
//   * an ESC that ends an input chunk is a lone Escape key, so vi's ESC then
//     O is not read as an arrow key (docs/prediction.md §E.15, client side).
// As in mosh: wide or zero-width input is never predicted; typing into the
// last column starts a tentative epoch. Experimental mode confirms every
// epoch at once and so may show type-ahead before a password prompt's pty
// report arrives; every other mode never draws a character the server did
// not echo first in that epoch, or that a trusted context did not vouch for.
//
// Purity: no clock and no I/O; every call takes `now` (time since an
// arbitrary epoch) and the newest server state. Not thread-safe.
#ifndef MOSHX_CORE_PREDICTION_ENGINE_H_
#define MOSHX_CORE_PREDICTION_ENGINE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/framebuffer.h"
#include "core/protocol/pty_state.h"

namespace moshx::core {

// --predict (MOSH_PREDICTION_DISPLAY).
enum class PredictionDisplay { kAdaptive, kAlways, kNever, kExperimental };

// The newest server state, as the engine sees it. `framebuffer` must stay
// valid for the duration of the call it is passed to.
struct ServerView {
  const Framebuffer* framebuffer = nullptr;
  uint64_t echo_ack = 0;        // the state's echo ack ("late ack")
  std::optional<protocol::PtyState> pty;  // moshx mode only
};

class PredictionEngine {
 public:
  // docs/prediction.md §A.1 constants.
  static constexpr absl::Duration kSrttTriggerHigh = absl::Milliseconds(30);  // send interval
  static constexpr absl::Duration kSrttTriggerLow = absl::Milliseconds(20);
  static constexpr absl::Duration kFlagTriggerHigh = absl::Milliseconds(80);
  static constexpr absl::Duration kFlagTriggerLow = absl::Milliseconds(50);
  static constexpr absl::Duration kGlitchThreshold = absl::Milliseconds(250);
  static constexpr int kGlitchRepairCount = 10;
  static constexpr absl::Duration kGlitchRepairMinInterval = absl::Milliseconds(150);
  static constexpr absl::Duration kGlitchFlagThreshold = absl::Milliseconds(5000);
  static constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
  static constexpr size_t kPasteThreshold = 100;  // bytes in one chunk
  // moshx: with a pty report, draw above this SRTT, stop at or below the low
  // one (and nothing outstanding).
  static constexpr absl::Duration kMoshxSrttHigh = absl::Milliseconds(20);
  static constexpr absl::Duration kMoshxSrttLow = absl::Milliseconds(10);
  // Insert-shifting stops at a gap of this many blank cells.
  static constexpr int kShiftGap = 3;
  // Keys remembered for replay (older ones are forgotten: no replay).
  static constexpr size_t kMaxInFlight = 512;
  // Remembered trusted contexts (oldest dropped first).
  static constexpr size_t kMaxTrustedContexts = 8;

  struct Options {
    PredictionDisplay display = PredictionDisplay::kAdaptive;
    bool overwrite = false;  // --predict-overwrite
    // mosh 1.4's engine as it is, for comparisons: pty reports ignored, no
    // replay, the whole row insert-shifted.
    bool mosh_compatible = false;
  };

  // Counters for tests and benchmarks.
  struct Stats {
    uint64_t keystrokes = 0;     // bytes fed (pastes included)
    uint64_t credited = 0;       // predictions confirmed with credit
    uint64_t shown_wrong = 0;    // drawn predictions the server contradicted
    uint64_t resets = 0;
    // Keystroke ids (1-based byte index of NewUserBytes input) whose drawn
    // prediction the server contradicted; unique, ascending.
    std::vector<uint64_t> mispredicted_keys;
  };

  PredictionEngine();  // adaptive, insert mode
  explicit PredictionEngine(Options options);

  // Link timing: the transport's send interval (mosh's trigger input) and
  // SRTT. Before any measurement: 250 ms and 1 s.
  void SetTiming(absl::Duration send_interval, absl::Duration srtt);
  // The newest client state number already sent; keystrokes fed afterwards
  // travel in a later state and are judged once echo_ack >= this + 1.
  void SetLocalFrameSent(uint64_t num) { local_frame_sent_ = num; }

  // One chunk of typed bytes (one read()). More than kPasteThreshold bytes:
  // a paste, Reset() and nothing predicted. An ESC ending the chunk counts
  // as a lone Escape key.
  void NewUserBytes(absl::string_view bytes, const ServerView& server, absl::Duration now);

  // Judges predictions against the server state (docs/prediction.md §A.4). Call before Apply.
  void Cull(const ServerView& server, absl::Duration now);

  // Draws the displayable predictions onto `frame` (a copy of the server
  // framebuffer already culled against) (docs/prediction.md §A.6). Marks them as shown.
  void Apply(Framebuffer* frame);

  // Drops every prediction, forgets the keys in flight and starts a new
  // epoch (resize, paste, ...).
  void Reset();

  // How long the caller may wait before Cull should run again without new
  // input (InfiniteDuration when nothing needs polling).
  absl::Duration WaitTime() const;

  // Any prediction still awaiting judgment.
  bool active() const;
  // Whether Apply draws anything at the moment (mode and triggers).
  bool display_enabled() const;
  bool flagging() const { return flagging_; }
  int glitch_trigger() const { return glitch_trigger_; }
  uint64_t prediction_epoch() const { return prediction_epoch_; }
  uint64_t confirmed_epoch() const { return confirmed_epoch_; }
  const Stats& stats() const { return stats_; }

 private:
  enum class Validity { kInactive, kPending, kCorrect, kCorrectNoCredit, kIncorrectOrExpired };

  struct Base {
    bool active = false;
    uint64_t expiration_frame = UINT64_MAX;
    uint64_t epoch = UINT64_MAX;
    absl::Duration prediction_time;
    uint64_t key = 0;  // keystroke id, for Stats
    bool shown = false;
  };
  struct CellPrediction : Base {
    Cell replacement;
    bool unknown = false;
    std::vector<Cell> original_contents;
  };
  struct RowPrediction {
    int row = 0;
    std::vector<CellPrediction> cells;
  };
  struct CursorPrediction : Base {
    int row = 0;
    int col = 0;
  };
  // A prompt where a prediction was credited, with the pty state then.
  struct Context {
    std::string prompt;
    protocol::PtyState pty;
  };
  enum class ParseState { kGround, kEscape, kCsi };
  // A typed byte the echo ack does not cover yet.
  struct InFlight {
    uint64_t frame;
    unsigned char byte;
    absl::Duration time;
    uint64_t key;
    bool chunk_end;  // the last byte of its NewUserBytes chunk
  };

  // Input side (prediction_engine.cc).
  void NewUserByte(unsigned char byte, const Framebuffer& fb, absl::Duration now);
  void ParseEscape(unsigned char byte);
  void ParseCsi(unsigned char byte, const Framebuffer& fb, absl::Duration now);
  void ParseGround(unsigned char byte, const Framebuffer& fb, absl::Duration now);
  // Takes a UTF-8 continuation byte; false if `byte` is none (the sequence
  // is dropped and `byte` must be parsed afresh).
  bool ContinueUtf8(unsigned char byte, const Framebuffer& fb, absl::Duration now);
  void Dispatch(char32_t cp, absl::string_view utf8, const Framebuffer& fb, absl::Duration now);
  void DispatchCsi(unsigned char final, const Framebuffer& fb, absl::Duration now);
  void PredictChar(absl::string_view utf8, const Framebuffer& fb, absl::Duration now);
  void PredictBackspace(const Framebuffer& fb, absl::Duration now);
  void PredictCursorMove(int delta, const Framebuffer& fb, absl::Duration now);
  void NewlineCarriageReturn(const Framebuffer& fb, absl::Duration now);
  // Enter in a full-screen editor's insert mode, at the end of a line whose
  // typing the program echoed, above an empty row (docs/prediction.md §A.8,
  // "a line opened in a full-screen editor"): the epoch the Enter starts is
  // trusted (OpenLine, after NewlineCarriageReturn), not left to wait for
  // its first echo.
  bool EditorOpensLine(const Framebuffer& fb) const;
  // A program that echoes by itself on the alternate screen (raw, ECHO off,
  // not the shell), as a report covering every uncertain key so far says.
  bool EchoingFullScreenProgram(const Framebuffer& fb) const;
  // (row, column) of the newest cursor prediction, else of the server's cursor.
  std::pair<int, int> CursorPosition(const Framebuffer& fb) const;
  void OpenLine(const Framebuffer& fb, absl::Duration now);
  // vi's `i` or `a` in its normal mode (docs/prediction.md §A.8, "vi's
  // insert commands"): the key draws nothing and the epoch after it is
  // trusted (EnterInsertMode), so the first keys typed into the new insert
  // mode do not wait for a round trip.
  bool ViEntersInsertMode(unsigned char byte, const Framebuffer& fb) const;
  void EnterInsertMode(unsigned char byte, const Framebuffer& fb, absl::Duration now);
  // The last column of the text run starting at `col` that insert-shifting
  // moves (col - 1: none); `wide` is set when the run holds a wide cell.
  int ShiftRunEnd(const Framebuffer& fb, int row, int col, const Renditions& rend,
                  bool* wide) const;
  const CellPrediction* FindCell(int row, int col) const;
  // A new epoch because of a typed key (also remembers its client state).
  void BecomeTentative();
  // A new epoch for internal reasons (reset, killed epoch).
  void NewEpoch();
  void InitCursor(const Framebuffer& fb, absl::Duration now);
  CursorPrediction& cursor() { return cursors_.back(); }
  RowPrediction& GetRow(int row, int width);
  void Stamp(Base* p, absl::Duration now) const;
  // ResetWithOrig, then active in the current epoch, stamped.
  void Activate(CellPrediction* c, absl::Duration now) const;
  void ResetCell(CellPrediction* c) const;
  void ResetWithOrig(CellPrediction* c) const;
  // The active, known prediction at (row, col), else the server's cell.
  const Cell& PredictedOrActual(const Framebuffer& fb, int row, int col) const;

  // Judging side (prediction_cull.cc).
  void UpdateTriggers();
  bool CullCells(const Framebuffer& fb, absl::Duration now);
  void CullCursors(const Framebuffer& fb);
  Validity CellValidity(const CellPrediction& c, const Framebuffer& fb, int row, int col) const;
  Validity CursorValidity(const CursorPrediction& c, const Framebuffer& fb) const;
  void OnCorrect(RowPrediction* row, int col, const Framebuffer& fb, absl::Duration now);
  void KillEpoch(uint64_t epoch, const Framebuffer& fb, absl::Duration now);
  // Predicts the in-flight keys again from the server's screen.
  void Replay(const Framebuffer& fb);
  // How many of the oldest keys in flight (printable ASCII, typed in a row)
  // the server's screen already shows just left of its cursor, though the
  // echo ack does not cover them yet: the longest such run. Replay starts
  // after them.
  size_t KeysAlreadyOnScreen(const Framebuffer& fb) const;
  // Drops every prediction and starts a new epoch (keeps the keys in flight).
  void Clear();
  // An ESC that ended its chunk is the Escape key.
  void EndChunk();
  uint64_t NextFrame() const { return replaying_ ? replay_frame_ : local_frame_sent_ + 1; }
  void NoteShownWrong(const Base& p);
  bool tentative(const Base& p) const { return p.epoch > confirmed_epoch_; }
  bool experimental() const { return options_.display == PredictionDisplay::kExperimental; }

  // moshx trusted contexts (prediction_cull.cc).
  bool ReportIsCurrent() const;
  std::optional<Context> CurrentContext(const Framebuffer& fb) const;
  bool Trusted(const Framebuffer& fb) const;
  void MaybeTrustEpoch(const Framebuffer& fb);
  void LearnContext(uint64_t epoch);

  const Options options_;
  std::vector<RowPrediction> rows_;
  std::vector<CursorPrediction> cursors_;
  uint64_t prediction_epoch_ = 1;
  uint64_t confirmed_epoch_ = 0;
  uint64_t local_frame_sent_ = 0;
  uint64_t late_ack_ = 0;
  std::optional<protocol::PtyState> pty_;
  // The client state carrying the newest key that started an epoch.
  uint64_t uncertain_frame_ = 0;
  absl::Duration send_interval_ = absl::Milliseconds(250);
  absl::Duration srtt_ = absl::Milliseconds(1000);
  bool srtt_trigger_ = false;
  bool flagging_ = false;
  int glitch_trigger_ = 0;
  absl::Duration last_quick_confirmation_ = -absl::InfiniteDuration();
  int last_width_ = 0;
  int last_height_ = 0;
  bool last_alternate_ = false;  // the screen the server's last frame showed
  // Parser of the user's bytes.
  ParseState parse_ = ParseState::kGround;
  std::string utf8_;     // bytes of an incomplete UTF-8 sequence
  int utf8_needed_ = 0;  // continuation bytes still expected
  bool csi_has_params_ = false;
  uint64_t current_key_ = 0;  // id of the byte being processed
  // The previous key (not replayed ones): typed at the shell, as a report
  // covering every uncertain key then said; a lone Escape.
  bool last_key_at_shell_ = false;
  bool last_key_escape_ = false;
  // Context captured at the first prediction of `context_epoch_`.
  std::optional<Context> epoch_context_;
  uint64_t context_epoch_ = 0;
  std::vector<Context> trusted_;
  std::deque<InFlight> inflight_;
  bool inflight_complete_ = true;  // nothing was forgotten
  bool replay_pending_ = false;
  bool replaying_ = false;
  uint64_t replay_frame_ = 0;
  Stats stats_;
};

}  // namespace moshx::core

#endif  // MOSHX_CORE_PREDICTION_ENGINE_H_
