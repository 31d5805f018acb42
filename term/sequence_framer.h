// term::SequenceFramer: passes a byte stream to libvterm in whole pieces —
// never ending inside an escape sequence, a control string or a UTF-8
// character — by holding back an unfinished one until it completes.
//
// Why: libvterm 0.1.4 mishandles a control string (OSC, DCS...) split across
// vterm_input_write() calls — the fallback then sees only the last write's
// bytes (a title set in two pieces is lost), and a split between ESC and '\'
// of the terminator makes it report a length of SIZE_MAX. pty reads split
// output anywhere. Holding every unfinished sequence also means libvterm's
// parser is in its ground state between Push() calls, so the Emulator can
// inject sequences of its own (on resize) without corrupting the program's.
//
// Framing follows libvterm: a CSI ends at a final byte (0x40-0x7e), with C0
// controls inside it executed; ESC, CAN and SUB abort a sequence; a string
// ends at BEL, CAN, SUB or ESC '\'. An ESC followed by anything else inside
// a string makes libvterm drop the string, or (ESC + C0) report garbage, so
// the framer ends the string there with an ST of its own and goes on with
// the new escape sequence. A CSI longer than kMaxCsiBytes or a string
// longer than kMaxStringBytes is dropped up to its end: libvterm ignores
// excess parameters, and no consumer accepts payloads that large.
//
// Thread-safety: none (plain value).
#ifndef MOSHX_TERM_SEQUENCE_FRAMER_H_
#define MOSHX_TERM_SEQUENCE_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace moshx::term {

class SequenceFramer {
 public:
  static constexpr size_t kMaxCsiBytes = 4096;
  // libvterm 0.1.4 has room for 16 CSI parameters and writes past its array
  // for more; parameters after the 16th are dropped here.
  static constexpr int kMaxCsiParams = 16;
  static constexpr size_t kMaxStringBytes = (1 << 20) + 1024;

  // Takes more stream bytes; returns those that can go to libvterm now, in
  // order: everything up to the start of an unfinished sequence, which a
  // later call returns once it is complete. If `restores` is given, it gets
  // the offsets in the returned bytes just after each sequence that restores
  // a saved cursor (ESC 8, CSI ? 1049 l, CSI u): libvterm 0.1.4 does not
  // clamp a cursor saved before a resize, so the Emulator checks it there.
  std::string Push(absl::string_view bytes,
                   std::vector<size_t>* restores = nullptr);

  // Bytes currently held back (0 when the stream is at a boundary).
  size_t held() const { return held_.size(); }

 private:
  enum class State : uint8_t {
    kGround,
    kUtf8,          // inside a multi-byte character
    kEscape,        // after ESC
    kCsi,
    kString,
    kStringEscape,  // after an ESC inside a string
    kDiscardCsi,    // an over-long CSI being dropped
    kDiscardString, // an over-long string being dropped
    kDiscardStringEscape,
  };

  void OnGround(char c, std::string* out);
  void OnUtf8(char c, std::string* out);
  void OnEscape(char c, std::string* out);
  void OnCsi(char c, std::string* out);
  void OnString(char c, std::string* out);
  void OnDiscard(char c, std::string* out);
  // Moves the held bytes to `out`; the stream is at a boundary again.
  void Release(std::string* out);
  // Called with a complete escape sequence (from ESC to its final byte).
  void Completed(const std::string& out);

  State state_ = State::kGround;
  int utf8_left_ = 0;  // continuation bytes still expected in kUtf8
  int csi_separators_ = 0;  // ';' and ':' seen in the current CSI
  bool intermediate_ = false;  // kEscape: an intermediate byte was seen
  std::string held_;
  std::vector<size_t>* restores_ = nullptr;  // during Push()
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_SEQUENCE_FRAMER_H_
