// Test support (testonly): seeded random framebuffers and edits for the diff
// property tests, benchmarks and fuzzer, and a readable text form of screens.
//
// Everything is a pure function of the generator passed in, so a failing
// case is replayed from its seed. The generated framebuffers pass Validate(),
// use only characters whose width core::CharWidth knows (ASCII, Latin-1,
// CJK, combining marks), and titles and OSC strings without controls.
#ifndef MOSHX_CORE_TEST_SCREENS_H_
#define MOSHX_CORE_TEST_SCREENS_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/framebuffer.h"

namespace moshx::core::testing {

using Rng = std::mt19937_64;

// A random cell: mostly ASCII, sometimes CJK (wide), a combining sequence or
// a blank; random attributes and colours of every kind; sometimes a link.
Cell RandomCell(Rng& rng);

// Random renditions: attributes and default/16/256/RGB colours.
Renditions RandomRenditions(Rng& rng);

// A random screen of the given size: random cells with the given density
// (0..1), wrapped rows, cursor, modes, title, icon, bells and clipboard.
Framebuffer RandomScreen(Rng& rng, int width, int height, double density);

// A plausible successor of `from`: one of a few cells edited, a scroll by k
// lines (whole screen or a region at the top), cursor/mode/title/bell
// changes, a resize, an alternate-screen switch, or an unrelated screen.
// The result is reachable from `from` (see core/diff.h).
Framebuffer RandomSuccessor(Rng& rng, const Framebuffer& from);

// `fb` scrolled up by `lines` with `new_lines` text rows written at the
// bottom (like a shell printing output), cursor on the last row.
Framebuffer ScrolledWithText(const Framebuffer& fb, int lines, Rng& rng);

// Fills row y of `fb` with plain text (one cell per character by width,
// default renditions), padding with blanks.
void WriteText(Framebuffer* fb, int y, absl::string_view text);

// Human-readable description of the screen: one "|...|" line per row
// (blanks as spaces), then cursor and non-default state. For failure output.
std::string Describe(const Framebuffer& fb);

// Escapes control characters of a diff as \e, \r, \n, \b, \a, \xNN.
std::string EscapeDiff(absl::string_view diff);

// Inverse of EscapeDiff (also accepts \\). Error: an unknown escape.
absl::StatusOr<std::string> UnescapeDiff(absl::string_view text);

}  // namespace moshx::core::testing

#endif  // MOSHX_CORE_TEST_SCREENS_H_
