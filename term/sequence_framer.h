// term::StringFramer: holds back an unfinished OSC/DCS/SOS/PM/APC string so
// that libvterm receives each string in one vterm_input_write() call.
//
// Why: libvterm 0.1.4 mishandles a string split across writes — the OSC or
// DCS fallback then sees only the bytes of the last write (a title set in
// two pieces is lost), and a write boundary between ESC and '\' of the
// terminator makes it report a length of SIZE_MAX. pty reads split output
// anywhere, so the Emulator passes its input through a StringFramer. CSI
// sequences, plain escapes and UTF-8 survive splits and pass straight
// through. A string longer than kMaxStringBytes is dropped (up to and
// including its terminator): no consumer accepts payloads that large.
//
// Framing follows libvterm: a string ends at BEL, CAN, SUB or ESC '\'; an
// ESC followed by anything else ends it too and starts a new sequence.
//
// Thread-safety: none (plain value).
#ifndef MOSHX_TERM_STRING_FRAMER_H_
#define MOSHX_TERM_STRING_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace moshx::term {

class StringFramer {
 public:
  // Strings (from their ESC) longer than this are dropped.
  static constexpr size_t kMaxStringBytes = (1 << 20) + 1024;

  // Takes more stream bytes; returns those that can go to libvterm now, in
  // order: everything except an unfinished string (or a trailing ESC that
  // may start one), which is returned by a later call once complete.
  std::string Push(absl::string_view bytes);

  // Bytes currently held back.
  size_t held() const { return held_.size(); }

 private:
  enum class State : uint8_t {
    kGround,
    kEscape,        // after ESC (held if nothing followed it yet)
    kCsi,
    kString,        // held
    kStringEscape,  // held, after an ESC inside a string
    kDiscard,       // an over-long string being dropped
    kDiscardEscape,
  };

  void OnEscape(char c, std::string* out);
  void OnString(char c, std::string* out);
  void OnDiscard(char c, std::string* out);
  // Moves the held bytes to `out`.
  void Release(std::string* out);

  State state_ = State::kGround;
  std::string held_;
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_STRING_FRAMER_H_
