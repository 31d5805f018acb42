#include "term/string_framer.h"

namespace moshx::term {
namespace {

constexpr char kEsc = 0x1b;
constexpr char kBel = 0x07;
constexpr char kCan = 0x18;
constexpr char kSub = 0x1a;

bool IsStringIntroducer(char c) {
  return c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_';
}

}  // namespace

void StringFramer::Release(std::string* out) {
  out->append(held_);
  held_.clear();
}

std::string StringFramer::Push(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    switch (state_) {
      case State::kGround:
        if (c == kEsc) {
          state_ = State::kEscape;
          held_.push_back(c);
        } else {
          out.push_back(c);
        }
        break;
      case State::kEscape:
        OnEscape(c, &out);
        break;
      case State::kCsi:
        if (c == kEsc) {
          state_ = State::kEscape;
          held_.push_back(c);
          break;
        }
        out.push_back(c);
        if (c == kCan || c == kSub || (c >= 0x40 && c <= 0x7e)) {
          state_ = State::kGround;
        }
        break;
      case State::kString:
      case State::kStringEscape:
        OnString(c, &out);
        break;
      case State::kDiscard:
      case State::kDiscardEscape:
        OnDiscard(c, &out);
        break;
    }
  }
  return out;
}

void StringFramer::OnEscape(char c, std::string* out) {
  if (c == kEsc) {  // a new escape
    Release(out);
    held_.push_back(c);
    return;
  }
  const bool final = c == kCan || c == kSub || (c >= 0x30 && c <= 0x7e);
  if (held_.empty()) {  // after intermediates: only a final byte is left
    out->push_back(c);
    if (final) state_ = State::kGround;
    return;
  }
  if (IsStringIntroducer(c)) {
    held_.push_back(c);
    state_ = State::kString;
    return;
  }
  if (static_cast<unsigned char>(c) < 0x20 && !final) {
    held_.push_back(c);  // a C0 control inside the escape: executed
    return;
  }
  Release(out);
  out->push_back(c);
  if (c == '[') {
    state_ = State::kCsi;
  } else if (final) {
    state_ = State::kGround;
  }
}

void StringFramer::OnString(char c, std::string* out) {
  if (state_ == State::kStringEscape) {
    if (c == '\\') {
      held_.push_back(c);
      Release(out);
      state_ = State::kGround;
      return;
    }
    // The ESC ended the string and starts a new sequence.
    held_.pop_back();
    Release(out);
    held_.push_back(kEsc);
    state_ = State::kEscape;
    OnEscape(c, out);
    return;
  }
  held_.push_back(c);
  if (c == kBel || c == kCan || c == kSub) {
    Release(out);
    state_ = State::kGround;
  } else if (c == kEsc) {
    state_ = State::kStringEscape;
  } else if (held_.size() > kMaxStringBytes) {
    held_.clear();
    state_ = State::kDiscard;
  }
}

void StringFramer::OnDiscard(char c, std::string* out) {
  if (state_ == State::kDiscardEscape) {
    state_ = State::kGround;
    if (c == '\\') return;
    held_.push_back(kEsc);
    state_ = State::kEscape;
    OnEscape(c, out);
    return;
  }
  if (c == kBel || c == kCan || c == kSub) {
    state_ = State::kGround;
  } else if (c == kEsc) {
    state_ = State::kDiscardEscape;
  }
}

}  // namespace moshx::term
