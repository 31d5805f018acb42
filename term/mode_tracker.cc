#include "term/mode_tracker.h"

namespace moshx::term {
namespace {

constexpr char kEsc = 0x1b;
constexpr char kBel = 0x07;
constexpr char kCan = 0x18;
constexpr char kSub = 0x1a;
constexpr uint32_t kMaxParam = 99999;

bool IsC0(char c) { return static_cast<unsigned char>(c) < 0x20; }

}  // namespace

void ModeTracker::Scan(absl::string_view bytes) {
  for (char c : bytes) {
    switch (state_) {
      case State::kGround:
        if (c == kEsc) state_ = State::kEscape;
        break;
      case State::kEscape:
        OnEscape(c);
        break;
      case State::kCsi:
        OnCsi(c);
        break;
      case State::kString:
        OnString(c);
        break;
      case State::kStringEscape:
        // ST ends the string; any other ESC sequence starts afresh.
        state_ = State::kGround;
        if (c != '\\') OnEscape(c);
        break;
    }
  }
}

void ModeTracker::OnEscape(char c) {
  if (c == kCan || c == kSub) {
    state_ = State::kGround;
  } else if (c == kEsc) {
    state_ = State::kEscape;
  } else if (IsC0(c)) {
    // Executed; the escape continues.
  } else if (c == '[') {
    StartCsi();
  } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
    state_ = State::kString;
  } else if (c >= 0x20 && c <= 0x2f) {
    // Intermediate (charset designation etc.): wait for the final byte.
  } else {
    if (c == 'c') {  // RIS
      origin_mode_ = false;
      autowrap_ = true;
      region_top_ = region_bottom_ = 0;
    }
    state_ = State::kGround;
  }
}

void ModeTracker::StartCsi() {
  state_ = State::kCsi;
  csi_private_ = false;
  csi_intermediate_ = false;
  csi_first_byte_ = true;
  csi_param_ = 0;
  csi_param_index_ = 0;
  csi_first_param_ = 0;
  csi_second_param_ = 0;
}

void ModeTracker::EndParam() {
  if (csi_param_index_ == 1) csi_second_param_ = csi_param_;
  if (csi_param_index_++ == 0) csi_first_param_ = csi_param_;
  csi_param_ = 0;
}

void ModeTracker::OnCsi(char c) {
  const bool first = csi_first_byte_;
  csi_first_byte_ = false;
  if (c == kEsc) {
    state_ = State::kEscape;
  } else if (c == kCan || c == kSub) {
    state_ = State::kGround;
  } else if (IsC0(c)) {
    csi_first_byte_ = first;  // executed, does not count as a byte
  } else if (c >= '0' && c <= '9') {
    csi_param_ = csi_param_ * 10 + static_cast<uint32_t>(c - '0');
    if (csi_param_ > kMaxParam) csi_param_ = kMaxParam;
  } else if (c == ';' || c == ':') {
    EndParam();
  } else if (c >= 0x3c && c <= 0x3f) {
    if (first && c == '?') csi_private_ = true;
    else csi_intermediate_ = true;  // another leader: not a DEC mode set
  } else if (c >= 0x20 && c <= 0x2f) {
    csi_intermediate_ = true;
  } else if (c >= 0x40 && c <= 0x7e) {
    EndParam();
    if ((c == 'h' || c == 'l') && csi_private_ && !csi_intermediate_) {
      ApplyPrivateMode(c == 'h');
    }
    if (c == 'r' && !csi_private_ && !csi_intermediate_) {  // DECSTBM
      region_top_ = csi_first_param_;
      region_bottom_ = csi_param_index_ > 1 ? csi_second_param_ : 0;
    }
    state_ = State::kGround;
  }
  // Bytes 0x7f and above are ignored inside a CSI.
}

void ModeTracker::ApplyPrivateMode(bool set) {
  if (csi_first_param_ == 6) origin_mode_ = set;
  if (csi_first_param_ == 7) autowrap_ = set;
  if (csi_first_param_ == 69 && set) lr_margins_ever_ = true;
}

void ModeTracker::OnString(char c) {
  if (c == kBel || c == kCan || c == kSub) {
    state_ = State::kGround;
  } else if (c == kEsc) {
    state_ = State::kStringEscape;
  }
}

}  // namespace moshx::term
