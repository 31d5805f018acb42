#include "term/sequence_framer.h"

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

std::string SequenceFramer::Push(absl::string_view bytes,
                                 std::vector<size_t>* restores) {
  restores_ = restores;
  std::string out;
  out.reserve(bytes.size());
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
  restores_ = nullptr;
  return out;
}

// Notes cursor restores: ESC 8, CSI ? 1049 l (libvterm applies only the
// first parameter) and CSI u, ignoring C0 controls inside the sequence.
void SequenceFramer::Completed(const std::string& out) {
  if (restores_ == nullptr) return;
  std::string seq;
  for (char c : held_) {
    if (Byte(c) >= 0x20 || c == kEsc) seq.push_back(c);
  }
  if (seq == "\x1b" "8" || seq == "\x1b[u" ||
      (seq.size() >= 8 && seq.compare(0, 7, "\x1b[?1049") == 0 &&
       (seq[7] == 'l' || seq[7] == ';' || seq[7] == ':') && seq.back() == 'l')) {
    restores_->push_back(out.size() + held_.size());
  }
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
    out->push_back(c);
  }
}

void SequenceFramer::OnUtf8(char c, std::string* out) {
  if ((Byte(c) & 0xC0) == 0x80) {
    held_.push_back(c);
    if (--utf8_left_ == 0) Release(out);
    return;
  }
  Release(out);  // a broken character: libvterm decodes it as U+FFFD
  OnGround(c, out);
}

void SequenceFramer::OnEscape(char c, std::string* out) {
  if (c == kEsc) {  // abandons the escape, starts another
    Release(out);
    OnGround(c, out);
    return;
  }
  held_.push_back(c);
  if (c == '[' && !intermediate_) {
    state_ = State::kCsi;
    csi_separators_ = 0;
  } else if (IsStringIntroducer(c) && !intermediate_) {
    state_ = State::kString;
  } else if (IsAbort(c) || (Byte(c) >= 0x30 && Byte(c) <= 0x7e)) {
    if (!IsAbort(c)) Completed(*out);
    Release(out);  // a final byte (after any intermediates), or an abort
  } else if (Byte(c) >= 0x20 && Byte(c) <= 0x2f) {
    intermediate_ = true;
  }
  // C0 controls (executed) and intermediates: the escape goes on.
}

void SequenceFramer::OnCsi(char c, std::string* out) {
  if (c == kEsc) {
    Release(out);
    OnGround(c, out);
    return;
  }
  if (c == ';' || c == ':') ++csi_separators_;
  if (csi_separators_ >= kMaxCsiParams && Byte(c) >= 0x30 && Byte(c) <= 0x3f) {
    return;  // a parameter past the 16th (or its separator): dropped
  }
  held_.push_back(c);
  if (IsAbort(c) || (Byte(c) >= 0x40 && Byte(c) <= 0x7e)) {
    if (!IsAbort(c)) Completed(*out);
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
      Release(out);
      return;
    }
    // ESC + anything else: libvterm would drop the string or, for ESC + C0,
    // report garbage. Close it with ST here and start the new escape.
    held_.push_back('\\');
    Release(out);
    OnGround(kEsc, out);
    OnEscape(c, out);
    return;
  }
  held_.push_back(c);
  if (c == kBel || IsAbort(c)) {
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
      } else if (IsAbort(c) || (Byte(c) >= 0x40 && Byte(c) <= 0x7e)) {
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
