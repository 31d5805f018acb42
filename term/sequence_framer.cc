#include "term/sequence_framer.h"

#include "core/char_width.h"

namespace moshx::term {
namespace {

constexpr char kEsc = 0x1b;
constexpr char kBel = 0x07;
constexpr char kCan = 0x18;
constexpr char kSub = 0x1a;

bool IsStringIntroducer(char c) {
  return c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_';
}

unsigned char Byte(char c) { return static_cast<unsigned char>(c); }

bool IsAbort(char c) { return c == kCan || c == kSub; }

// Whether libvterm's CSI parser takes `c`, a byte it does not handle before
// the grammar (not a C0 control, ESC, NUL or DEL), as part of a CSI whose
// grammar is at `*phase`, which it advances: a leader byte (0x3c-0x3f) first,
// then parameters (0-9 : ;), then intermediates (0x20-0x2f), then a final
// byte (0x40-0x7e). False: libvterm abandons the CSI on `c` and drops `c`
// (parser.c's "invalid CSI").
template <typename Phase>
bool TakesCsiByte(char c, Phase* phase) {
  const unsigned char b = static_cast<unsigned char>(c);
  if (*phase == Phase::kLeader) {
    if (b >= 0x3c && b <= 0x3f) return true;
    *phase = Phase::kParams;
  }
  if (*phase == Phase::kParams) {
    if ((b >= '0' && b <= '9') || b == ':' || b == ';') return true;
    *phase = Phase::kIntermediates;
  }
  return (b >= 0x20 && b <= 0x2f) || (b >= 0x40 && b <= 0x7e);
}

// The bytes libvterm's parser handles whatever state it is in.
bool IsOutsideCsiGrammar(char c) { return Byte(c) < 0x20 || Byte(c) == 0x7f; }

// Continuation bytes that follow a UTF-8 lead byte (libvterm also decodes
// the old 5- and 6-byte forms); 0 for anything else.
int Utf8Continuations(char c) {
  const unsigned char b = Byte(c);
  if (b >= 0xC0 && b < 0xE0) return 1;
  if (b >= 0xE0 && b < 0xF0) return 2;
  if (b >= 0xF0 && b < 0xF8) return 3;
  if (b >= 0xF8 && b < 0xFC) return 4;
  if (b >= 0xFC && b < 0xFE) return 5;
  return 0;
}

}  // namespace

void SequenceFramer::Release(std::string* out) {
  out->append(held_);
  held_.clear();
  state_ = State::kGround;
}

std::string SequenceFramer::Push(absl::string_view bytes, std::vector<Mark>* marks) {
  marks_ = marks;
  std::string out;
  out.reserve(bytes.size());
  // Each Push() is written to libvterm on its own: text starts afresh.
  after_non_ascii_ = false;
  run_chars_ = 0;
  for (char c : bytes) {
    switch (state_) {
      case State::kGround: OnGround(c, &out); break;
      case State::kUtf8: OnUtf8(c, &out); break;
      case State::kEscape: OnEscape(c, &out); break;
      case State::kCsi: OnCsi(c, &out); break;
      case State::kString:
      case State::kStringEscape: OnString(c, &out); break;
      default: OnDiscard(c, &out); break;
    }
  }
  marks_ = nullptr;
  return out;
}

void SequenceFramer::AddMark(Mark::Kind kind, size_t begin, size_t end) {
  if (marks_ != nullptr) marks_->push_back(Mark{kind, begin, end});
}

// Marks SGR, REP, OSC 52 and CSIs with too many parameters. C0 controls
// (and DEL) anywhere inside are executed (or ignored) by libvterm and do not
// count, even between ESC and the introducer.
void SequenceFramer::Completed(const std::string& out) {
  after_non_ascii_ = false;
  run_chars_ = 0;
  if (marks_ == nullptr) return;
  std::string seq;  // the sequence as libvterm reads it
  for (char c : held_) {
    if (Byte(c) >= 0x20 && c != 0x7f) seq.push_back(c);
  }
  if (seq.size() < 2) return;
  const size_t begin = out.size(), end = out.size() + held_.size();
  if (seq[0] == ']') {
    if (seq.compare(1, 3, "52;") == 0) AddMark(Mark::Kind::kClipboard, begin, end);
    return;
  }
  if (seq[0] != '[') return;
  if (csi_separators_ >= kMaxCsiParams) {
    AddMark(Mark::Kind::kLongCsi, begin, end);
    return;
  }
  const char final = seq.back();
  if (final != 'm' && final != 'b') return;
  for (size_t i = 1; i + 1 < seq.size(); ++i) {
    const char c = seq[i];
    if ((c < '0' || c > '9') && c != ';' && c != ':') return;  // leader, intermediate
  }
  AddMark(final == 'm' ? Mark::Kind::kSgr : Mark::Kind::kRep, begin, end);
}

void SequenceFramer::OnGround(char c, std::string* out) {
  if (c == kEsc) {
    held_.push_back(c);
    intermediate_ = false;
    state_ = State::kEscape;
  } else if (int n = Utf8Continuations(c); n > 0) {
    held_.push_back(c);
    utf8_left_ = n;
    state_ = State::kUtf8;
  } else {
    // ASCII text, a control, or a stray continuation byte (U+FFFD).
    after_non_ascii_ = Byte(c) >= 0x80;
    if (Byte(c) < 0x20 || c == 0x7f) {
      run_chars_ = 0;
    } else {
      ++run_chars_;
    }
    out->push_back(c);
  }
}

bool SequenceFramer::IsOwnMark(absl::string_view character) const {
  if (own_mark_ == nullptr) return false;
  size_t pos = 0;
  char32_t cp;
  return core::DecodeUtf8(character, &pos, &cp) && own_mark_(cp);
}

void SequenceFramer::ReleaseCharacter(std::string* out) {
  if (held_.size() == 2 && Byte(held_[0]) == 0xC2 && Byte(held_[1]) < 0xA0) {
    held_.clear();  // U+0080..U+009F: dropped
    state_ = State::kGround;
    return;
  }
  if (!after_non_ascii_ || run_chars_ >= kMaxRunChars || IsOwnMark(held_)) {
    AddMark(Mark::Kind::kTextStart, out->size(), out->size() + held_.size());
    run_chars_ = 0;
  }
  after_non_ascii_ = true;
  ++run_chars_;
  Release(out);
}

void SequenceFramer::OnUtf8(char c, std::string* out) {
  if ((Byte(c) & 0xC0) == 0x80) {
    held_.push_back(c);
    if (--utf8_left_ == 0) ReleaseCharacter(out);
    return;
  }
  // A character broken by a control, ESC or DEL: libvterm's UTF-8 decoder
  // keeps waiting across it and completes the character with the next
  // continuation bytes (C2 CR 89 became U+0089, a glyph of width -1; the
  // cursor at column -1 then made EL write through a null cell). Broken by
  // text, libvterm decodes it as U+FFFD, but only if the breaking character
  // reaches it: a UTF-8 C1 control is dropped here, so C2 (C2 98) 8E became
  // C2 8E, U+008E, and a wide-glyph insert moved cells from outside the row
  // (diff_round_trip_fuzzer, screen.c:246). Either way the broken character
  // becomes U+FFFD here, before what broke it.
  held_ = "\xef\xbf\xbd";
  ReleaseCharacter(out);
  OnGround(c, out);
}

void SequenceFramer::OnEscape(char c, std::string* out) {
  if (c == kEsc) {  // abandons the escape, starts another
    after_non_ascii_ = false;
    run_chars_ = 0;
    KeepOnlyControls();  // see ReleaseAbandonedCsi
    Release(out);
    OnGround(c, out);
    return;
  }
  // libvterm ignores a byte >= 0x80 inside an escape sequence (the escape
  // goes on: ESC 0x87 [ is a CSI): dropped here, so the sequence is
  // classified (and marked) as libvterm reads it.
  if (Byte(c) >= 0x80) return;
  held_.push_back(c);
  if (c == '[' && !intermediate_) {
    state_ = State::kCsi;
    csi_separators_ = 0;
    csi_digits_ = 0;
    csi_phase_ = CsiPhase::kLeader;
  } else if (IsStringIntroducer(c) && !intermediate_) {
    state_ = State::kString;
    osc_command_digits_ = c == ']' ? 0 : -1;
    dcs_ = c == 'P';
  } else if (IsAbort(c) || (Byte(c) >= 0x30 && Byte(c) <= 0x7e)) {
    Completed(*out);
    Release(out);  // a final byte (after any intermediates), or an abort
  } else if (Byte(c) >= 0x20 && Byte(c) <= 0x2f) {
    intermediate_ = true;
  }
  // C0 controls (executed) and intermediates: the escape goes on.
}

void SequenceFramer::KeepOnlyControls() {
  std::string controls;
  for (size_t i = 1; i < held_.size(); ++i) {
    if (Byte(held_[i]) < 0x20) controls.push_back(held_[i]);
  }
  held_ = controls;
}

// An unfinished CSI that ESC, CAN or SUB abandons. libvterm would parse its
// parameters before dropping it, so one with too many goes without them;
// and one that ESC abandons goes without its bytes too: libvterm would drop
// it only on seeing that ESC, and the sequence the ESC starts may be one the
// emulator leaves out (a REP with nothing to repeat), after which libvterm
// would still be inside the old CSI and take the next text for its final
// byte ("ESC [ ESC [ b b" made a REP of the last "b" and looped forever:
// diff_round_trip_fuzzer). Only the C0 controls, which libvterm executes,
// are passed on. CAN and SUB end the sequence in libvterm themselves.
void SequenceFramer::ReleaseAbandonedCsi(std::string* out, bool by_escape) {
  if (by_escape || csi_separators_ >= kMaxCsiParams) KeepOnlyControls();
  Release(out);
}

void SequenceFramer::OnCsi(char c, std::string* out) {
  if (c == kEsc) {
    after_non_ascii_ = false;
    run_chars_ = 0;
    ReleaseAbandonedCsi(out, /*by_escape=*/true);
    OnGround(c, out);
    return;
  }
  if (!IsOutsideCsiGrammar(c) && !TakesCsiByte(c, &csi_phase_)) {
    // libvterm drops the CSI here, and `c` with it: its controls only.
    after_non_ascii_ = false;
    run_chars_ = 0;
    KeepOnlyControls();
    Release(out);
    return;
  }
  if (c == ';' || c == ':') {
    ++csi_separators_;
    csi_digits_ = 0;
  } else if (c >= '0' && c <= '9' && ++csi_digits_ > kMaxParamDigits) {
    return;  // libvterm would overflow a long (undefined behaviour) on it
  }
  held_.push_back(c);
  if (IsAbort(c)) {
    after_non_ascii_ = false;
    run_chars_ = 0;
    ReleaseAbandonedCsi(out, /*by_escape=*/false);
  } else if (Byte(c) >= 0x40 && Byte(c) <= 0x7e) {
    Completed(*out);
    Release(out);
  } else if (held_.size() > kMaxCsiBytes) {
    held_.clear();
    state_ = State::kDiscardCsi;
  }
}

void SequenceFramer::OnString(char c, std::string* out) {
  if (state_ == State::kStringEscape) {
    if (c == '\\') {
      held_.push_back(c);
      Completed(*out);
      Release(out);
      return;
    }
    // ESC + anything else: libvterm would drop the string or, for ESC + C0,
    // report garbage. Close it with ST here and start the new escape.
    held_.push_back('\\');
    Completed(*out);
    Release(out);
    OnGround(kEsc, out);
    OnEscape(c, out);
    return;
  }
  if (osc_command_digits_ >= 0) {  // an OSC's command number
    if (c >= '0' && c <= '9') {
      if (++osc_command_digits_ > kMaxParamDigits) {
        return;  // libvterm would overflow an int (undefined behaviour)
      }
    } else if (Byte(c) >= 0x20 && c != 0x7f) {
      osc_command_digits_ = -1;
    }
    // libvterm executes (or skips) C0 controls and DEL inside the number,
    // whose digits go on after them.
  }
  // libvterm reads a DCS request (DECRQSS) into plain chars and shifts them
  // left: a byte >= 0x80 is a negative value there (undefined behaviour;
  // diff_round_trip_fuzzer). No request it answers has one: dropped.
  if (dcs_ && Byte(c) >= 0x80) return;
  held_.push_back(c);
  if (c == kBel || IsAbort(c)) {
    if (c == kBel) {
      Completed(*out);
    } else {
      after_non_ascii_ = false;
      run_chars_ = 0;
    }
    Release(out);
  } else if (c == kEsc) {
    state_ = State::kStringEscape;
  } else if (held_.size() > kMaxStringBytes) {
    held_.clear();
    state_ = State::kDiscardString;
  }
}

void SequenceFramer::OnDiscard(char c, std::string* out) {
  switch (state_) {
    case State::kDiscardCsi:
      if (c == kEsc) {
        state_ = State::kGround;
        OnGround(c, out);
      } else if (IsAbort(c) || (Byte(c) >= 0x40 && Byte(c) <= 0x7e) ||
                 (!IsOutsideCsiGrammar(c) && !TakesCsiByte(c, &csi_phase_))) {
        state_ = State::kGround;
      }
      break;
    case State::kDiscardString:
      if (c == kBel || IsAbort(c)) state_ = State::kGround;
      if (c == kEsc) state_ = State::kDiscardStringEscape;
      break;
    default:  // kDiscardStringEscape
      state_ = State::kGround;
      if (c != '\\') {
        OnGround(kEsc, out);
        OnEscape(c, out);
      }
      break;
  }
}

}  // namespace moshx::term
