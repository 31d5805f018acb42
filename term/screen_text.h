// term::ScreenText: a readable, diff-friendly rendering of a core::Framebuffer,
// used for the golden files testdata/vt/*.screen and in test failure output.
//
// Format (one item per line; testdata/vt/README.md has the full description):
//   size WIDTHxHEIGHT
//   cursor ROW,COL [hidden] SHAPE [steady]     (0-based; block|underline|bar)
//   modes NAME...                              (non-default modes only, or "-")
//   title "..." / icon "..."                   (only when non-empty)
//   bell N                                     (only when N > 0)
//   clipboard SELECTION "DATA"                 (only when set)
//   text:
//   NN|row text                                ("|" or ">" when the row wraps)
//   attributes:
//   ROW:FIRST-LAST SPEC                         (runs of equal non-default cells)
// Row text shows each cell's grapheme (a blank cell as a space, nothing for
// the right half of a wide character), with trailing blanks removed. A
// SPEC is space-separated: fg=N / fg=#rrggbb, bg=..., attribute names
// (bold faint italic underline blink inverse invisible strike) and
// link="ID;URI". Strings are quoted with \\ \" \e \xNN escapes.
//
// Pure functions; thread-safe.
#ifndef MOSHX_TERM_SCREEN_TEXT_H_
#define MOSHX_TERM_SCREEN_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::term {

// The whole framebuffer in the format above; ends with a newline.
std::string ScreenText(const core::Framebuffer& fb);

// `text` quoted: printable ASCII and UTF-8 as is; \\ \" \e and \xNN for the
// rest of the bytes below 0x20 and 0x7f.
std::string Quoted(absl::string_view text);

// The SPEC of one cell's renditions and link ("" for a default cell).
std::string CellSpec(const core::Cell& cell);

}  // namespace moshx::term

#endif  // MOSHX_TERM_SCREEN_TEXT_H_
