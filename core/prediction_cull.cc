// The judging side of PredictionEngine: culling against the server screen,
// display triggers, drawing, and moshx's trusted contexts (docs/prediction.md
// §A.4, §A.5, §A.6, §A.8).
#include <algorithm>

#include "absl/strings/match.h"
#include "core/prediction_engine.h"

namespace moshx::core {
namespace {

// Blank-equivalence: empty, a space and U+00A0 NBSP all read as blank.
bool BlankText(const std::string& text) {
  return text.empty() || text == " " || text == "\xC2\xA0";
}

bool SameText(const Cell& a, const Cell& b) {
  if (BlankText(a.text) && BlankText(b.text)) return true;
  return a.text == b.text;
}

// The text of `row` left of column `end` (blanks as spaces).
std::string TextBefore(const Framebuffer& fb, int row, int end) {
  std::string out;
  for (int x = 0; x < end && x < fb.width(); ++x) {
    const Cell& c = fb.cell(row, x);
    if (c.is_continuation()) continue;
    out += c.is_blank() ? " " : c.text;
  }
  return out;
}

}  // namespace

void PredictionEngine::Cull(const ServerView& server, absl::Duration now) {
  if (options_.display == PredictionDisplay::kNever) return;
  const Framebuffer& fb = *server.framebuffer;
  late_ack_ = server.echo_ack;
  pty_ = options_.mosh_compatible ? std::nullopt : server.pty;
  if (pty_.has_value() && pty_->secret() && (active() || !cursors_.empty())) {
    // Drawn guesses the screen already agrees with (the command line that
    // started `read -s`, echoed before it ran) were right, not wrong.
    for (const RowPrediction& r : rows_) {
      for (int j = 0; j < static_cast<int>(r.cells.size()); ++j) {
        const CellPrediction& c = r.cells[j];
        if (!c.active || !c.shown) continue;
        const bool agrees = r.row >= 0 && r.row < fb.height() && j < fb.width() && !c.unknown &&
                            SameText(fb.cell(r.row, j), c.replacement);
        if (!agrees) NoteShownWrong(c);
      }
    }
    Reset();  // a password prompt: nothing predicted may stay
  }
  if (fb.height() != last_height_ || fb.width() != last_width_) {
    last_height_ = fb.height();
    last_width_ = fb.width();
    Reset();
  }
  // The frame shows the other screen (the Enter just typed started `less`,
  // or vim ended): guesses drawn on the screen it left cannot be judged
  // against this one. They are dropped uncounted, and the keys in flight are
  // guessed again on the new screen (docs/prediction.md §A.9).
  if (fb.modes().alternate_screen != last_alternate_) {
    last_alternate_ = fb.modes().alternate_screen;
    if (!options_.mosh_compatible && (active() || !cursors_.empty())) {
      Clear();
      replay_pending_ = true;
    }
  }
  UpdateTriggers();
  if (CullCells(fb, now)) CullCursors(fb);
  while (!inflight_.empty() && inflight_.front().frame <= late_ack_) inflight_.pop_front();
  if (inflight_.empty()) inflight_complete_ = true;
  if (replay_pending_) Replay(fb);
}

void PredictionEngine::Replay(const Framebuffer& fb) {
  replay_pending_ = false;
  if (!inflight_complete_ || experimental() || options_.mosh_compatible) return;
  rows_.clear();
  cursors_.clear();
  NewEpoch();
  parse_ = ParseState::kGround;
  utf8_needed_ = 0;
  const uint64_t key = current_key_;
  const size_t shown = KeysAlreadyOnScreen(fb);
  replaying_ = true;
  for (size_t i = shown; i < inflight_.size(); ++i) {
    const InFlight& k = inflight_[i];
    current_key_ = k.key;
    replay_frame_ = k.frame;
    NewUserByte(k.byte, fb, k.time);
    if (k.chunk_end) EndChunk();
  }
  replaying_ = false;
  current_key_ = key;
}

size_t PredictionEngine::KeysAlreadyOnScreen(const Framebuffer& fb) const {
  // The echo ack covers a key only kEchoTimeout (50 ms) after it reached the
  // pty, so the screen often shows a key or two the ack does not cover yet;
  // replaying those again would put every guess that many columns right of
  // where the program writes it, and each frame would kill the epoch anew
  // (docs/prediction.md §A.9). Printable ASCII only: anything else may have
  // moved the cursor elsewhere.
  size_t printable = 0;
  while (printable < inflight_.size() && inflight_[printable].byte >= 0x20 &&
         inflight_[printable].byte < 0x7f) {
    ++printable;
  }
  if (printable == 0) return 0;
  const Cursor& cur = fb.cursor();
  if (cur.row < 0 || cur.row >= fb.height()) return 0;
  const std::string before = TextBefore(fb, cur.row, cur.col);
  for (size_t n = std::min(printable, before.size()); n > 0; --n) {
    bool same = true;
    const size_t start = before.size() - n;
    for (size_t i = 0; i < n && same; ++i) {
      same = static_cast<unsigned char>(before[start + i]) == inflight_[i].byte;
    }
    if (same) return n;
  }
  return 0;
}

void PredictionEngine::UpdateTriggers() {
  bool high, low;
  if (pty_.has_value()) {
    high = srtt_ > kMoshxSrttHigh;
    low = srtt_ <= kMoshxSrttLow;
  } else {
    high = send_interval_ > kSrttTriggerHigh;
    low = send_interval_ <= kSrttTriggerLow;
  }
  if (high) {
    srtt_trigger_ = true;
  } else if (srtt_trigger_ && low && !active()) {
    srtt_trigger_ = false;  // only when nothing is outstanding (docs/prediction.md §E.2)
  }
  if (send_interval_ > kFlagTriggerHigh) {
    flagging_ = true;
  } else if (send_interval_ <= kFlagTriggerLow) {
    flagging_ = false;
  }
  if (glitch_trigger_ > kGlitchRepairCount) flagging_ = true;
}

bool PredictionEngine::CullCells(const Framebuffer& fb, absl::Duration now) {
  rows_.erase(std::remove_if(rows_.begin(), rows_.end(),
                             [&](const RowPrediction& r) {
                               return r.row < 0 || r.row >= fb.height();
                             }),
              rows_.end());
  for (RowPrediction& r : rows_) {
    for (int j = 0; j < static_cast<int>(r.cells.size()); ++j) {
      CellPrediction& c = r.cells[j];
      switch (CellValidity(c, fb, r.row, j)) {
        case Validity::kIncorrectOrExpired:
          if (experimental()) {
            if (!tentative(c) && c.shown) NoteShownWrong(c);
            ResetCell(&c);
          } else if (tentative(c)) {
            KillEpoch(c.epoch, fb, now);
          } else {
            if (c.shown) NoteShownWrong(c);
            Clear();
            replay_pending_ = true;
            return false;
          }
          break;
        case Validity::kCorrect:
          OnCorrect(&r, j, fb, now);
          break;
        case Validity::kCorrectNoCredit:
          ResetCell(&c);
          break;
        case Validity::kPending: {
          const absl::Duration age = now - c.prediction_time;
          if (age >= kGlitchFlagThreshold) {
            glitch_trigger_ = 2 * kGlitchRepairCount;  // display and underline
          } else if (age >= kGlitchThreshold && glitch_trigger_ < kGlitchRepairCount) {
            glitch_trigger_ = kGlitchRepairCount;  // display
          }
          break;
        }
        case Validity::kInactive:
          break;
      }
    }
  }
  return true;
}

void PredictionEngine::CullCursors(const Framebuffer& fb) {
  if (cursors_.empty()) return;
  if (CursorValidity(cursors_.back(), fb) == Validity::kIncorrectOrExpired) {
    if (cursors_.back().shown) NoteShownWrong(cursors_.back());
    if (!experimental()) {
      Clear();
      replay_pending_ = true;
      return;
    }
    cursors_.clear();
    return;
  }
  cursors_.erase(std::remove_if(cursors_.begin(), cursors_.end(),
                                [&](const CursorPrediction& c) {
                                  return CursorValidity(c, fb) != Validity::kPending;
                                }),
                 cursors_.end());
}

PredictionEngine::Validity PredictionEngine::CellValidity(const CellPrediction& c,
                                                          const Framebuffer& fb, int row,
                                                          int col) const {
  if (!c.active) return Validity::kInactive;
  if (row >= fb.height() || col >= fb.width()) return Validity::kIncorrectOrExpired;
  if (late_ack_ < c.expiration_frame) return Validity::kPending;
  if (c.unknown) return Validity::kCorrectNoCredit;
  // Blanks match too easily to earn credit (the partial-password fix,
  // docs/prediction.md §E.5).
  if (BlankText(c.replacement.text)) return Validity::kCorrectNoCredit;
  if (!SameText(fb.cell(row, col), c.replacement)) return Validity::kIncorrectOrExpired;
  for (const Cell& orig : c.original_contents) {
    if (SameText(orig, c.replacement)) return Validity::kCorrectNoCredit;
  }
  return Validity::kCorrect;
}

PredictionEngine::Validity PredictionEngine::CursorValidity(const CursorPrediction& c,
                                                            const Framebuffer& fb) const {
  if (!c.active) return Validity::kInactive;
  if (c.row < 0 || c.row >= fb.height() || c.col < 0 || c.col >= fb.width()) {
    return Validity::kIncorrectOrExpired;
  }
  if (late_ack_ < c.expiration_frame) return Validity::kPending;
  const Cursor& sc = fb.cursor();
  return sc.row == c.row && sc.col == c.col ? Validity::kCorrect
                                            : Validity::kIncorrectOrExpired;
}

void PredictionEngine::OnCorrect(RowPrediction* row, int col, const Framebuffer& fb,
                                 absl::Duration now) {
  CellPrediction& c = row->cells[col];
  confirmed_epoch_ = std::max(confirmed_epoch_, c.epoch);
  ++stats_.credited;
  LearnContext(c.epoch);
  if (now - c.prediction_time < kGlitchThreshold && glitch_trigger_ > 0 &&
      now - kGlitchRepairMinInterval >= last_quick_confirmation_) {
    --glitch_trigger_;
    last_quick_confirmation_ = now;
  }
  // The server knows the real colours: use them for the rest of the row.
  const Renditions& rend = fb.cell(row->row, col).renditions;
  for (size_t k = col; k < row->cells.size(); ++k) {
    if (row->cells[k].active) row->cells[k].replacement.renditions = rend;
  }
  ResetCell(&c);
}

void PredictionEngine::KillEpoch(uint64_t epoch, const Framebuffer& fb, absl::Duration now) {
  cursors_.erase(std::remove_if(cursors_.begin(), cursors_.end(),
                                [&](const CursorPrediction& c) { return c.epoch >= epoch; }),
                 cursors_.end());
  CursorPrediction& c = cursors_.emplace_back();
  c.row = fb.cursor().row;
  c.col = fb.cursor().col;
  c.active = true;
  c.epoch = prediction_epoch_;
  Stamp(&c, now);
  for (RowPrediction& r : rows_) {
    for (CellPrediction& cell : r.cells) {
      if (cell.active && cell.epoch >= epoch) ResetCell(&cell);
    }
  }
  NewEpoch();
  replay_pending_ = true;
}

void PredictionEngine::NoteShownWrong(const Base& p) {
  ++stats_.shown_wrong;
  std::vector<uint64_t>& keys = stats_.mispredicted_keys;
  auto it = std::lower_bound(keys.begin(), keys.end(), p.key);
  if (it == keys.end() || *it != p.key) keys.insert(it, p.key);
}

void PredictionEngine::Reset() {
  Clear();
  inflight_.clear();
  inflight_complete_ = false;  // keys still in flight were never predicted
  replay_pending_ = false;
}

void PredictionEngine::Clear() {
  rows_.clear();
  cursors_.clear();
  epoch_context_.reset();
  ++stats_.resets;
  NewEpoch();
}

bool PredictionEngine::active() const {
  for (const CursorPrediction& c : cursors_) {
    if (c.active) return true;
  }
  for (const RowPrediction& r : rows_) {
    for (const CellPrediction& c : r.cells) {
      if (c.active) return true;
    }
  }
  return false;
}

bool PredictionEngine::display_enabled() const {
  switch (options_.display) {
    case PredictionDisplay::kNever:
      return false;
    case PredictionDisplay::kAlways:
    case PredictionDisplay::kExperimental:
      return true;
    case PredictionDisplay::kAdaptive:
      return srtt_trigger_ || glitch_trigger_ > 0;
  }
  return false;
}

void PredictionEngine::Apply(Framebuffer* frame) {
  if (!display_enabled()) return;
  if (pty_.has_value() && pty_->secret()) return;
  for (CursorPrediction& c : cursors_) {
    if (!c.active || tentative(c)) continue;
    if (c.row < 0 || c.row >= frame->height() || c.col < 0 || c.col >= frame->width()) continue;
    frame->mutable_cursor()->row = c.row;
    frame->mutable_cursor()->col = c.col;
    c.shown = true;
  }
  for (RowPrediction& r : rows_) {
    if (r.row < 0 || r.row >= frame->height()) continue;
    const int width = std::min<int>(frame->width(), r.cells.size());
    for (int col = 0; col < width; ++col) {
      CellPrediction& c = r.cells[col];
      if (!c.active || tentative(c)) continue;
      const Cell& actual = frame->cell(r.row, col);
      if (c.unknown) {
        if (flagging_ && col != frame->width() - 1 && !actual.is_blank()) {
          Cell flagged = actual;
          flagged.renditions.set(kUnderline, true);
          frame->MutableRow(r.row)->Set(col, std::move(flagged));
        }
        continue;
      }
      // Blank over blank is never underlined (docs/prediction.md §E.8).
      if (BlankText(c.replacement.text) && actual.is_blank()) continue;
      if (actual == c.replacement) continue;
      Cell shown = c.replacement;
      if (flagging_) shown.renditions.set(kUnderline, true);
      frame->MutableRow(r.row)->Set(col, std::move(shown));
      c.shown = true;
    }
  }
}

absl::Duration PredictionEngine::WaitTime() const {
  if (options_.display == PredictionDisplay::kNever) return absl::InfiniteDuration();
  const bool timing_tests_needed = !(glitch_trigger_ > 0 && flagging_);
  if (timing_tests_needed && active()) return kPollInterval;
  return absl::InfiniteDuration();
}

// --- moshx trusted contexts ---

bool PredictionEngine::ReportIsCurrent() const {
  return pty_.has_value() && late_ack_ >= uncertain_frame_;
}

std::optional<PredictionEngine::Context> PredictionEngine::CurrentContext(
    const Framebuffer& fb) const {
  if (!ReportIsCurrent()) return std::nullopt;
  const Cursor& cur = fb.cursor();
  Context ctx{TextBefore(fb, cur.row, cur.col), *pty_};
  ctx.pty.fresh = false;  // a prompt learned at the first one holds later too
  if (ctx.prompt.find_first_not_of(' ') == std::string::npos) return std::nullopt;
  return ctx;
}

bool PredictionEngine::Trusted(const Framebuffer& fb) const {
  if (!ReportIsCurrent() || pty_->secret() || !pty_->settled) return false;
  // The shell's own cooked prompt: the kernel echoes every character.
  if (pty_->echo && pty_->canonical && pty_->shell_foreground) return true;
  // Learned prompts count only at the shell's own prompt: in a full-screen
  // program the "prompt" is document text, the same in every mode.
  if (!pty_->shell_foreground) return false;
  const Cursor& cur = fb.cursor();
  const std::string text = TextBefore(fb, cur.row, cur.col);
  // The session's first prompt: no keystroke reached the pty yet, and a line
  // editor is reading (bracketed paste is on: bash >= 5.1, zsh and fish turn
  // it on only while they edit a command line; `read -s` does not), behind
  // a prompt. docs/prediction.md §A.8.
  if (pty_->fresh && !pty_->canonical && fb.modes().bracketed_paste &&
      text.find_first_not_of(' ') != std::string::npos) {
    return true;
  }
  protocol::PtyState mode = *pty_;
  mode.fresh = false;
  for (const Context& t : trusted_) {
    if (t.pty == mode && absl::StartsWith(text, t.prompt)) return true;
  }
  return false;
}

void PredictionEngine::MaybeTrustEpoch(const Framebuffer& fb) {
  if (experimental() || confirmed_epoch_ >= prediction_epoch_) return;
  if (context_epoch_ != prediction_epoch_) {
    context_epoch_ = prediction_epoch_;
    epoch_context_ = CurrentContext(fb);
  }
  if (Trusted(fb)) confirmed_epoch_ = prediction_epoch_;
}

void PredictionEngine::LearnContext(uint64_t epoch) {
  if (!epoch_context_.has_value() || context_epoch_ != epoch) return;
  if (!epoch_context_->pty.shell_foreground) return;
  for (const Context& t : trusted_) {
    if (t.pty == epoch_context_->pty && t.prompt == epoch_context_->prompt) return;
  }
  if (trusted_.size() >= kMaxTrustedContexts) trusted_.erase(trusted_.begin());
  trusted_.push_back(*epoch_context_);
}

}  // namespace moshx::core
