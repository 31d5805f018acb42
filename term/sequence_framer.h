// term::SequenceFramer: passes a byte stream to libvterm in whole pieces —
// never ending inside an escape sequence, a control string or a UTF-8
// character — by holding back an unfinished one until it completes, and
// marks the places where term::Emulator has to step in.
//
// Why whole pieces: libvterm 0.3.3 overruns its 16-entry parameter array on
// a CSI with more parameters (parser.c increments the index unchecked), so
// such a CSI must reach libvterm rewritten (the Emulator splits a long SGR
// into several, and cuts any other after its 16th parameter), which needs
// the whole CSI. And with libvterm's parser in its ground state between
// Push() calls, the Emulator can write sequences of its own (resize, SGR
// carriers, combining fixes) without corrupting the program's. (libvterm
// 0.1.4 also lost control strings split across writes; 0.3.3 hands them
// over in fragments.)
//
// UTF-8-encoded C1 controls (U+0080..U+009F) are dropped: libvterm 0.3.3
// prints them as glyphs of width -1, which moves the cursor left and makes a
// later REP loop forever. A character broken by anything but a
// continuation byte becomes U+FFFD before it (libvterm would complete one
// broken by a control after the control, and one broken by a dropped C1
// control with the next stray continuation byte).
//
// Framing follows libvterm: a CSI ends at a final byte (0x40-0x7e), with C0
// controls inside it executed, and is abandoned at a byte its grammar
// (leader 0x3c-0x3f, then parameters 0-9 : ;, then intermediates 0x20-0x2f)
// has no place for there, which libvterm drops: such a CSI reaches libvterm
// as its controls only, and what follows is text again (a byte >= 0x80 or a
// '?' after a parameter ended a CSI in libvterm but not in the framer, so
// the text after it reached libvterm unchecked); a byte >= 0x80 inside an escape sequence,
// which libvterm ignores, is dropped, and so is one inside a DCS (libvterm
// shifts it as a negative char); ESC, CAN and SUB abort a sequence; a
// string ends at BEL, CAN, SUB or ESC '\'. An ESC followed by anything else inside
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
  // libvterm has room for 16 CSI parameters and writes past its array for
  // more: a CSI with more (counting ':' sub-parameters) is marked kLongCsi.
  static constexpr int kMaxCsiParams = 16;
  // Digits kept of one CSI parameter or OSC number: libvterm multiplies by
  // 10 in a long (an int) without a check; the digits after these are
  // dropped (no parameter means anything that large).
  static constexpr int kMaxParamDigits = 9;
  static constexpr size_t kMaxStringBytes = (1 << 20) + 1024;
  static constexpr int kMaxRunChars = 1000;

  // A place in Push()'s output: bytes [begin, end).
  struct Mark {
    enum class Kind : uint8_t {
      kSgr,        // CSI ... m (no leader, no intermediate), whole sequence
      kRep,        // CSI ... b (REP), whole sequence
      kClipboard,  // an OSC string starting "52;", whole sequence
      kLongCsi,    // a CSI with more than kMaxCsiParams parameters (SGR
                   // included), whole sequence: must not reach libvterm as is
      // A non-ASCII character that starts a run of text as libvterm decodes
      // it: after anything but a non-ASCII character (ASCII text, a
      // control, a sequence), at the start of the output, or after
      // kMaxRunChars characters of text since the last such mark (libvterm
      // decodes at most 1024 code points per run; the Emulator writes each
      // marked run on its own, so libvterm's runs start exactly here); and
      // every character the constructor's `own_mark` names, wherever it is.
      kTextStart,
    };
    Kind kind;
    size_t begin;
    size_t end;

    friend bool operator==(const Mark& a, const Mark& b) {
      return a.kind == b.kind && a.begin == b.begin && a.end == b.end;
    }
  };

  // `own_mark` (optional) names the characters that must start a run of
  // their own (term::Emulator joins the combining marks libvterm's tables
  // lack to their base itself). Called only with valid code points.
  explicit SequenceFramer(bool (*own_mark)(char32_t cp) = nullptr) : own_mark_(own_mark) {}

  // Takes more stream bytes; returns those that can go to libvterm now, in
  // order: everything up to the start of an unfinished sequence, which a
  // later call returns once it is complete. If `marks` is given, it gets the
  // marks in the returned bytes (in order).
  std::string Push(absl::string_view bytes, std::vector<Mark>* marks = nullptr);

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
  // Releases a complete UTF-8 character (or drops a C1 control).
  void ReleaseCharacter(std::string* out);
  // Whether `character` (one whole UTF-8 sequence) is an own_mark_.
  bool IsOwnMark(absl::string_view character) const;
  void ReleaseAbandonedCsi(std::string* out, bool by_escape);
  // Leaves only the C0 controls of the held (abandoned) sequence.
  void KeepOnlyControls();
  // Called with a complete escape sequence or string held (from ESC to its
  // final byte or terminator), before it is released.
  void Completed(const std::string& out);
  void AddMark(Mark::Kind kind, size_t begin, size_t end);

  State state_ = State::kGround;
  int utf8_left_ = 0;  // continuation bytes still expected in kUtf8
  int csi_separators_ = 0;  // ';' and ':' seen in the current CSI
  int csi_digits_ = 0;      // digits of the current CSI parameter
  // Where the current CSI is in its grammar (libvterm's parser.c states).
  enum class CsiPhase : uint8_t { kLeader, kParams, kIntermediates };
  CsiPhase csi_phase_ = CsiPhase::kLeader;
  int osc_command_digits_ = -1;  // digits of an OSC's number; -1: past it
  bool intermediate_ = false;  // kEscape: an intermediate byte was seen
  bool dcs_ = false;           // kString: the string is a DCS
  // The last byte released belongs to a non-ASCII character.
  bool after_non_ascii_ = false;
  // Characters of text released since the last kTextStart mark or non-text.
  int run_chars_ = 0;
  std::string held_;
  std::vector<Mark>* marks_ = nullptr;  // during Push()
  bool (*own_mark_)(char32_t) = nullptr;
};

}  // namespace moshx::term

#endif  // MOSHX_TERM_SEQUENCE_FRAMER_H_
