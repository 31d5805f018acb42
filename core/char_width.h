// Display widths of Unicode code points, and a strict UTF-8 decoder.
//
// core's wcwidth, generated from Unicode data (core/char_width_gen.py, the
// Unicode version is in core/char_width_tables.inc): combining marks and
// format characters (Mn, Me, Cf except U+00AD) and Hangul medial/final jamo
// are 0, East Asian Wide/Fullwidth (CJK, emoji presentation) are 2, other
// printable characters 1, and C0/C1 controls -1. It is the table used by
// core::Apply (the client's emulator) and core's tests; the server's
// emulator may disagree on a few code points (other Unicode versions).
//
// Pure functions; thread-safe.
#ifndef MOSHX_CORE_CHAR_WIDTH_H_
#define MOSHX_CORE_CHAR_WIDTH_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace moshx::core {

// -1 for controls (U+0000-001F, U+007F-009F) and invalid code points, 0 for
// combining / zero-width characters, 2 for wide characters, else 1.
int CharWidth(char32_t cp);

// True for a code point that attaches to the previous grapheme (width 0).
inline bool IsCombining(char32_t cp) { return CharWidth(cp) == 0; }

// Decodes one UTF-8 sequence of `text` at *pos, advancing *pos. Returns false
// (leaving *pos unchanged) for a malformed, overlong, surrogate or
// out-of-range sequence, or when *pos is at the end.
bool DecodeUtf8(absl::string_view text, size_t* pos, char32_t* cp);

// Appends the UTF-8 encoding of `cp` (which must be <= U+10FFFF).
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace moshx::core

#endif  // MOSHX_CORE_CHAR_WIDTH_H_
