// The input side of PredictionEngine: parsing typed bytes into predictions
// (docs/prediction.md §A.3). Judging and drawing live in
// prediction_cull.cc.
#include <algorithm>

#include "core/char_width.h"
#include "core/prediction_engine.h"

namespace moshx::core {
namespace {

constexpr unsigned char kEsc = 0x1b;
constexpr unsigned char kDel = 0x7f;
constexpr unsigned char kCr = 0x0d;

// Number of continuation bytes after a UTF-8 lead byte; -1 if invalid.
int Utf8Continuations(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 1;
  if (lead >= 0xE0 && lead <= 0xEF) return 2;
  if (lead >= 0xF0 && lead <= 0xF4) return 3;
  return -1;
}

}  // namespace

PredictionEngine::PredictionEngine() : PredictionEngine(Options()) {}

PredictionEngine::PredictionEngine(Options options) : options_(options) {}

void PredictionEngine::SetTiming(absl::Duration send_interval, absl::Duration srtt) {
  send_interval_ = send_interval;
  srtt_ = srtt;
}

void PredictionEngine::NewUserBytes(absl::string_view bytes, const ServerView& server,
                                    absl::Duration now) {
  if (options_.display == PredictionDisplay::kNever) {
    stats_.keystrokes += bytes.size();
    return;
  }
  if (bytes.size() > kPasteThreshold) {  // a paste: predict nothing (docs/prediction.md §E.14)
    stats_.keystrokes += bytes.size();
    Reset();
    return;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char byte = bytes[i];
    current_key_ = ++stats_.keystrokes;
    if (experimental()) prediction_epoch_ = confirmed_epoch_;
    Cull(server, now);
    if (inflight_.size() >= kMaxInFlight) {
      inflight_.pop_front();
      inflight_complete_ = false;
    }
    inflight_.push_back({local_frame_sent_ + 1, byte, now, current_key_, i + 1 == bytes.size()});
    // Read before the key changes what the report covers.
    const bool at_shell = ReportIsCurrent() && pty_->shell_foreground;
    NewUserByte(byte, *server.framebuffer, now);
    last_key_at_shell_ = at_shell;
    last_key_escape_ = false;
  }
  EndChunk();
}

void PredictionEngine::EndChunk() {
  if (parse_ == ParseState::kEscape) {  // a lone Escape key (vi), not ESC O
    parse_ = ParseState::kGround;
    BecomeTentative();
    if (!replaying_) last_key_escape_ = true;
  }
}

void PredictionEngine::NewUserByte(unsigned char byte, const Framebuffer& fb,
                                   absl::Duration now) {
  if (pty_.has_value() && pty_->secret()) {  // a password: track nothing
    parse_ = ParseState::kGround;
    utf8_needed_ = 0;
    BecomeTentative();
    return;
  }
  switch (parse_) {
    case ParseState::kEscape:
      return ParseEscape(byte);
    case ParseState::kCsi:
      return ParseCsi(byte, fb, now);
    case ParseState::kGround:
      if (utf8_needed_ > 0 && ContinueUtf8(byte, fb, now)) return;
      return ParseGround(byte, fb, now);
  }
}

void PredictionEngine::ParseEscape(unsigned char byte) {
  if (byte == '[' || byte == 'O') {  // SS3 rewrite: ESC O x reads as CSI x
    parse_ = ParseState::kCsi;
    csi_has_params_ = false;
    return;
  }
  BecomeTentative();  // Esc_Dispatch (Alt-x), or a control character
  parse_ = byte == kEsc ? ParseState::kEscape : ParseState::kGround;
}

void PredictionEngine::ParseCsi(unsigned char byte, const Framebuffer& fb, absl::Duration now) {
  if (byte >= 0x20 && byte <= 0x3f) {
    csi_has_params_ = true;
  } else if (byte >= 0x40 && byte <= 0x7e) {
    parse_ = ParseState::kGround;
    DispatchCsi(byte, fb, now);
  } else {
    BecomeTentative();
    parse_ = byte == kEsc ? ParseState::kEscape : ParseState::kGround;
  }
}

bool PredictionEngine::ContinueUtf8(unsigned char byte, const Framebuffer& fb,
                                    absl::Duration now) {
  if ((byte & 0xC0) != 0x80) {
    utf8_needed_ = 0;  // a broken sequence: start over with this byte
    BecomeTentative();
    return false;
  }
  utf8_.push_back(static_cast<char>(byte));
  if (--utf8_needed_ > 0) return true;
  size_t pos = 0;
  char32_t cp = 0;
  if (DecodeUtf8(utf8_, &pos, &cp)) {
    Dispatch(cp, utf8_, fb, now);
  } else {
    BecomeTentative();
  }
  return true;
}

void PredictionEngine::ParseGround(unsigned char byte, const Framebuffer& fb,
                                   absl::Duration now) {
  if (byte == kEsc) {
    parse_ = ParseState::kEscape;
  } else if (byte == kDel) {
    PredictBackspace(fb, now);
  } else if (byte == kCr) {
    const bool opens_line = EditorOpensLine(fb);
    BecomeTentative();
    NewlineCarriageReturn(fb, now);
    if (opens_line) OpenLine(fb, now);
  } else if (byte < 0x20) {
    BecomeTentative();  // any other control key, the escape key included
  } else if (ViEntersInsertMode(byte, fb)) {
    EnterInsertMode(byte, fb, now);
  } else if (byte < 0x80) {
    Dispatch(byte, std::string(1, static_cast<char>(byte)), fb, now);
  } else if (int n = Utf8Continuations(byte); n > 0) {
    utf8_.assign(1, static_cast<char>(byte));
    utf8_needed_ = n;
  } else {
    BecomeTentative();
  }
}

void PredictionEngine::Dispatch(char32_t cp, absl::string_view utf8, const Framebuffer& fb,
                                absl::Duration now) {
  // Wide and zero-width input is never predicted (docs/prediction.md §E.12);
  // C1 controls neither.
  if (cp < 0xA0 && cp >= 0x80) return BecomeTentative();
  if (CharWidth(cp) != 1) return BecomeTentative();
  PredictChar(utf8, fb, now);
}

void PredictionEngine::DispatchCsi(unsigned char final, const Framebuffer& fb,
                                   absl::Duration now) {
  // In canonical mode the kernel echoes arrows as "^[[D": no cursor motion.
  const bool canonical = pty_.has_value() && pty_->canonical;
  if (canonical || csi_has_params_ || (final != 'C' && final != 'D')) {
    return BecomeTentative();
  }
  PredictCursorMove(final == 'C' ? 1 : -1, fb, now);
}

void PredictionEngine::PredictChar(absl::string_view utf8, const Framebuffer& fb,
                                   absl::Duration now) {
  MaybeTrustEpoch(fb);
  InitCursor(fb, now);
  const int width = fb.width();
  const int row = cursor().row;
  const int col = cursor().col;
  if (col + 1 >= width) BecomeTentative();  // typing into the last column
  // The typed cell's renditions: those of the cell to its left.
  Renditions rend;
  if (col > 0) rend = PredictedOrActual(fb, row, col - 1).renditions;
  if (!options_.overwrite) {
    bool wide = false;
    const int end = ShiftRunEnd(fb, row, col, rend, &wide);
    RowPrediction& r = GetRow(row, width);
    for (int i = std::min(end + 1, width - 1); i > col; --i) {
      CellPrediction& cell = r.cells[i];
      const CellPrediction& left = r.cells[i - 1];
      Cell source = left.active ? left.replacement : fb.cell(row, i - 1);
      const bool unknown = i == width - 1 || wide || (left.active && left.unknown);
      Activate(&cell, now);
      cell.original_contents.push_back(fb.cell(row, i));
      cell.unknown = unknown;
      if (!unknown) cell.replacement = std::move(source);
    }
  }
  CellPrediction& cell = GetRow(row, width).cells[col];
  Activate(&cell, now);
  cell.replacement = Cell();
  if (utf8 != " ") cell.replacement.text = std::string(utf8);
  cell.replacement.renditions = rend;
  cell.original_contents.push_back(fb.cell(row, col));
  Stamp(&cursor(), now);
  if (col < width - 1) {
    cursor().col = col + 1;
  } else {
    BecomeTentative();
    NewlineCarriageReturn(fb, now);  // predicts the wrap
  }
}

void PredictionEngine::PredictBackspace(const Framebuffer& fb, absl::Duration now) {
  InitCursor(fb, now);
  if (cursor().col == 0) return;
  const int width = fb.width();
  const int row = cursor().row;
  const int col = --cursor().col;
  Stamp(&cursor(), now);
  RowPrediction& r = GetRow(row, width);
  if (options_.overwrite) {
    CellPrediction& cell = r.cells[col];
    Activate(&cell, now);
    const Cursor& sc = fb.cursor();
    // As mosh: the renditions of the cell under the *server's* cursor.
    cell.replacement = Cell();
    cell.replacement.renditions = fb.cell(sc.row, sc.col).renditions;
    cell.original_contents.push_back(fb.cell(row, col));
    return;
  }
  bool wide = false;
  const Renditions& rend = PredictedOrActual(fb, row, col).renditions;
  const int end = std::max(col, ShiftRunEnd(fb, row, col + 1, rend, &wide));
  for (int i = col; i <= end && i < width; ++i) {
    Cell source;  // past the run: a blank
    bool unknown = i >= width - 2 || wide;  // emacs-style line ends (docs/prediction.md §E.6)
    if (!unknown && i + 1 <= end) {
      const CellPrediction& right = r.cells[i + 1];
      unknown = right.active && right.unknown;
      source = right.active ? right.replacement : fb.cell(row, i + 1);
    }
    CellPrediction& cell = r.cells[i];
    Activate(&cell, now);
    cell.original_contents.push_back(fb.cell(row, i));
    cell.unknown = unknown;
    if (!unknown) cell.replacement = std::move(source);
  }
}

void PredictionEngine::PredictCursorMove(int delta, const Framebuffer& fb, absl::Duration now) {
  InitCursor(fb, now);
  CursorPrediction& c = cursor();
  if (delta > 0 && c.col < fb.width() - 1) {
    ++c.col;
    Stamp(&c, now);
  } else if (delta < 0 && c.col > 0) {
    --c.col;
    Stamp(&c, now);
  }
}

void PredictionEngine::NewlineCarriageReturn(const Framebuffer& fb, absl::Duration now) {
  InitCursor(fb, now);
  CursorPrediction& c = cursor();
  c.col = 0;
  Stamp(&c, now);
  if (c.row < fb.height() - 1) {
    ++c.row;
    return;
  }
  // No scroll prediction (docs/prediction.md §E.7): the bottom row is predicted blank.
  const int row = c.row;
  RowPrediction& r = GetRow(row, fb.width());
  for (int i = 0; i < fb.width(); ++i) {
    CellPrediction& cell = r.cells[i];
    ResetCell(&cell);
    cell.active = true;
    cell.epoch = prediction_epoch_;
    Stamp(&cell, now);
    cell.replacement.renditions = fb.cell(row, i).renditions;
  }
}

bool PredictionEngine::EchoingFullScreenProgram(const Framebuffer& fb) const {
  return ReportIsCurrent() && !pty_->canonical && !pty_->echo && !pty_->shell_foreground &&
         fb.modes().alternate_screen;
}

std::pair<int, int> PredictionEngine::CursorPosition(const Framebuffer& fb) const {
  if (cursors_.empty()) return {fb.cursor().row, fb.cursor().col};
  return {cursors_.back().row, cursors_.back().col};
}

bool PredictionEngine::EditorOpensLine(const Framebuffer& fb) const {
  if (options_.mosh_compatible || experimental() || replaying_) return false;
  // A full-screen program that echoes by itself (raw, ECHO off, on the
  // alternate screen, not the shell), as the report covering every
  // uncertain key so far says, and the typing of this line was echoed.
  if (!EchoingFullScreenProgram(fb) || confirmed_epoch_ < prediction_epoch_) return false;
  const auto [row, col] = CursorPosition(fb);
  // Not the last two rows (a command line, a status line, an input line).
  if (row + 2 >= fb.height() || col <= 0 || col >= fb.width()) return false;
  // Enter at the end of a line that starts in column 0: no text moves down
  // with it, and an editor's auto-indent keeps column 0 ...
  for (int x = col; x < fb.width(); ++x) {
    if (!PredictedOrActual(fb, row, x).is_blank()) return false;
  }
  if (PredictedOrActual(fb, row, 0).is_blank()) return false;
  // ... unless the line opens a block or continues: an unclosed bracket, or
  // a last character that indents the next line in common modes (C's `{`,
  // Python's `:`, a list's `,`, a shell's `\`).
  int depth[3] = {0, 0, 0};
  char last = ' ';
  for (int x = 0; x < col; ++x) {
    const Cell& cell = PredictedOrActual(fb, row, x);
    if (cell.is_blank()) continue;
    if (cell.text.size() != 1) {
      last = 'a';
      continue;
    }
    last = cell.text[0];
    const char* opens = "([{";
    const char* closes = ")]}";
    for (int k = 0; k < 3; ++k) {
      if (last == opens[k]) ++depth[k];
      if (last == closes[k]) --depth[k];
    }
  }
  if (depth[0] > 0 || depth[1] > 0 || depth[2] > 0) return false;
  if (absl::string_view("{([:,\\").find(last) != absl::string_view::npos) return false;
  // The next row is empty, or a `~` that marks "no line here" (vi).
  for (int x = 0; x < fb.width(); ++x) {
    const Cell& cell = PredictedOrActual(fb, row + 1, x);
    if (!cell.is_blank() && !(x == 0 && cell.text == "~")) return false;
  }
  return true;
}

void PredictionEngine::OpenLine(const Framebuffer& fb, absl::Duration now) {
  const int row = cursor().row;  // NewlineCarriageReturn moved it there
  if (!PredictedOrActual(fb, row, 0).is_blank()) {
    CellPrediction& cell = GetRow(row, fb.width()).cells[0];
    Activate(&cell, now);
    cell.original_contents.push_back(fb.cell(row, 0));
    cell.replacement = Cell();
  }
  confirmed_epoch_ = prediction_epoch_;
}

bool PredictionEngine::ViEntersInsertMode(unsigned char byte, const Framebuffer& fb) const {
  if (byte != 'i' && byte != 'a') return false;
  // (A mosh-compatible engine has no report: ReportIsCurrent() is false.)
  if (experimental() || replaying_) return false;
  // vi is in its normal mode: the key is the first the program gets (the
  // previous one was typed at the shell: the Enter that started it), or it
  // follows a lone Escape (which ends insert mode and any pending command).
  if (!last_key_at_shell_ && !last_key_escape_) return false;
  // A full-screen program that echoes by itself, as the report covering
  // every uncertain key so far (that previous key included) says.
  if (!EchoingFullScreenProgram(fb)) return false;
  const auto [row, col] = CursorPosition(fb);
  if (col < 0 || col >= fb.width()) return false;
  // Not in insert mode already: vim's 'showmode' ("-- INSERT --",
  // "-- REPLACE --", "-- VISUAL --") is not on the last row.
  const int last = fb.height() - 1;
  if (PredictedOrActual(fb, last, 0).text == "-" && PredictedOrActual(fb, last, 1).text == "-") {
    return false;
  }
  // vi's look: a row below the cursor, above the last (a status or command
  // line, where a pager such as less keeps its cursor), is a lone `~` ("no
  // line here").
  for (int r = row + 1; r < last; ++r) {
    bool tilde = PredictedOrActual(fb, r, 0).text == "~";
    for (int x = 1; tilde && x < fb.width(); ++x) tilde = PredictedOrActual(fb, r, x).is_blank();
    if (tilde) return true;
  }
  return false;
}

void PredictionEngine::EnterInsertMode(unsigned char byte, const Framebuffer& fb,
                                       absl::Duration now) {
  BecomeTentative();  // the key itself draws nothing
  InitCursor(fb, now);
  // `a` appends after the character under the cursor (none on an empty line).
  const Cell& under = PredictedOrActual(fb, cursor().row, cursor().col);
  if (byte == 'a' && !under.is_blank() && under.width == 1) PredictCursorMove(1, fb, now);
  confirmed_epoch_ = prediction_epoch_;
}

int PredictionEngine::ShiftRunEnd(const Framebuffer& fb, int row, int col,
                                  const Renditions& rend, bool* wide) const {
  if (options_.mosh_compatible) return fb.width() - 1;  // mosh shifts it all
  int end = col - 1;
  int blanks = 0;
  for (int i = col; i < fb.width(); ++i) {
    const CellPrediction* p = FindCell(row, i);
    if (p != nullptr && p->unknown) {  // unknown text moves along
      blanks = 0;
      end = i;
      continue;
    }
    const Cell& cell = PredictedOrActual(fb, row, i);
    if (cell.is_blank() && cell.width == 1) {
      if (++blanks >= kShiftGap) break;
      continue;
    }
    // Other renditions: a suggestion, an RPROMPT, a status field
    // (docs/prediction.md §E.13).
    if (cell.renditions != rend) break;
    if (cell.width != 1) *wide = true;
    blanks = 0;
    end = i;
  }
  return end;
}

void PredictionEngine::BecomeTentative() {
  uncertain_frame_ = std::max(uncertain_frame_, NextFrame());
  NewEpoch();
}

void PredictionEngine::NewEpoch() {
  if (!experimental()) ++prediction_epoch_;
}

void PredictionEngine::InitCursor(const Framebuffer& fb, absl::Duration now) {
  if (cursors_.empty()) {
    CursorPrediction c;
    c.row = fb.cursor().row;
    c.col = fb.cursor().col;
    cursors_.push_back(c);
  } else if (cursors_.back().epoch < prediction_epoch_) {
    cursors_.push_back(cursors_.back());
  } else {
    return;
  }
  CursorPrediction& c = cursors_.back();
  c.active = true;
  c.shown = false;
  c.epoch = prediction_epoch_;
  Stamp(&c, now);
}

PredictionEngine::RowPrediction& PredictionEngine::GetRow(int row, int width) {
  for (RowPrediction& r : rows_) {
    if (r.row == row) return r;
  }
  RowPrediction& r = rows_.emplace_back();
  r.row = row;
  r.cells.resize(width);
  return r;
}

const PredictionEngine::CellPrediction* PredictionEngine::FindCell(int row, int col) const {
  for (const RowPrediction& r : rows_) {
    if (r.row == row && col < static_cast<int>(r.cells.size())) {
      return r.cells[col].active ? &r.cells[col] : nullptr;
    }
  }
  return nullptr;
}

const Cell& PredictionEngine::PredictedOrActual(const Framebuffer& fb, int row, int col) const {
  const CellPrediction* p = FindCell(row, col);
  if (p != nullptr && !p->unknown) return p->replacement;
  return fb.cell(row, col);
}

void PredictionEngine::Activate(CellPrediction* c, absl::Duration now) const {
  ResetWithOrig(c);
  c->active = true;
  c->epoch = prediction_epoch_;
  Stamp(c, now);
}

void PredictionEngine::Stamp(Base* p, absl::Duration now) const {
  p->expiration_frame = NextFrame();
  p->prediction_time = now;
  p->key = current_key_;
}

void PredictionEngine::ResetCell(CellPrediction* c) const { *c = CellPrediction(); }

void PredictionEngine::ResetWithOrig(CellPrediction* c) const {
  if (!c->active || c->unknown) return ResetCell(c);
  std::vector<Cell> history = std::move(c->original_contents);
  history.push_back(std::move(c->replacement));
  ResetCell(c);
  c->original_contents = std::move(history);
}

}  // namespace moshx::core
