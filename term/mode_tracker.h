// term::ModeTracker: follows origin mode (DECOM) and autowrap (DECAWM) in a
// byte stream, for the two modes libvterm 0.1.4 keeps but does not expose.
//
// It is a passive scanner run over the same bytes as libvterm, with the same
// escape-sequence framing as libvterm 0.1.4 (checked by emulator_test against
// libvterm's own DECRQM answers):
//   * `CSI ? Pm h` / `CSI ? Pm l` (no intermediates) set / reset mode 6 or 7
//     when it is the FIRST parameter: libvterm 0.1.4 ignores the others;
//   * `ESC c` (RIS) restores the defaults (origin off, autowrap on); DECSTR
//     and DECSC/DECRC leave both alone, as in libvterm;
//   * C0 controls inside a CSI are executed without ending it, ESC starts a
//     new sequence (inside a CSI or a string), CAN and SUB abort;
//   * OSC, DCS, SOS, PM and APC strings are skipped up to BEL or ST.
// Parameters larger than 99999 saturate. A sequence may be split across
// Scan() calls. Never fails; any byte sequence is accepted.
//
// Thread-safety: none (plain value).
#ifndef MOSHX_TERM_MODE_TRACKER_H_
#define MOSHX_TERM_MODE_TRACKER_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace moshx::term {

class ModeTracker {
 public:
  ModeTracker() = default;

  // Scans more output bytes.
  void Scan(absl::string_view bytes);

  bool origin_mode() const { return origin_mode_; }
  bool autowrap() const { return autowrap_; }
  // Not inside an escape sequence or string.
  bool at_ground() const { return state_ == State::kGround; }
  // True when scrolling certainly covers the whole screen: no top/bottom
  // margins were set (DECSTBM) or they span all `height` rows, and left/right
  // margins were never enabled (DECLRMM, mode 69). Conservative: it may say
  // false when the margins are in fact full.
  bool FullScreenScrollRegion(int height) const {
    return !lr_margins_ever_ && region_top_ <= 1 &&
           (region_bottom_ == 0 || region_bottom_ >= static_cast<uint32_t>(height));
  }

 private:
  enum class State : uint8_t { kGround, kEscape, kCsi, kString, kStringEscape };

  void OnEscape(char c);
  void OnCsi(char c);
  void OnString(char c);
  // A complete `CSI ? ... h/l`: applies the collected parameters.
  void ApplyPrivateMode(bool set);
  void StartCsi();
  // Ends the parameter being collected.
  void EndParam();

  State state_ = State::kGround;
  bool origin_mode_ = false;
  bool autowrap_ = true;
  uint32_t region_top_ = 0;     // DECSTBM parameters (0 = default)
  uint32_t region_bottom_ = 0;
  bool lr_margins_ever_ = false;
  uint32_t csi_second_param_ = 0;
  // The CSI being collected: leader '?' seen, intermediates (or another
  // leader) seen, no byte seen yet, the current parameter and its index, and
  // the first parameter once complete.
  bool csi_private_ = false;
  bool csi_intermediate_ = false;
  bool csi_first_byte_ = false;
  uint32_t csi_param_ = 0;
  int csi_param_index_ = 0;
  uint32_t csi_first_param_ = 0;
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_MODE_TRACKER_H_
