/* moshx's window into libvterm 0.3.3's internal terminal state.
 *
 * libvterm keeps, but does not export, some state that term::Emulator needs
 * to work around libvterm's own defects exactly (see term/emulator.h): the
 * pending-wrap flag, the last glyph printed (for combining characters), the
 * scroll region, origin mode and autowrap, and the saved cursor. This file
 * is moshx's own code; third_party/libvterm.BUILD compiles it together with
 * libvterm's sources so that it can read them through src/vterm_internal.h.
 * It is tied to that exact version (a compile-time check fails on another).
 *
 * Thread-safety: as libvterm (one thread per VTerm).
 */
#ifndef MOSHX_THIRD_PARTY_LIBVTERM_EXTRA_H_
#define MOSHX_THIRD_PARTY_LIBVTERM_EXTRA_H_

#include <stddef.h>
#include <stdint.h>

#include <vterm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  VTermPos cursor;
  int pending_wrap;       /* on the "phantom" column after the last one */
  VTermPos glyph_pos;     /* the last glyph printed (its left column) ... */
  int glyph_width;        /* ... and its width; 0 before any glyph */
  int scroll_top;         /* scroll region rows [scroll_top, scroll_bottom) */
  int scroll_bottom;
  int left_right_margins; /* DECLRMM (mode 69) is on */
  int origin_mode;        /* DECOM */
  int autowrap;           /* DECAWM */
} MoshxVTermState;

/* Reads the state above. */
void moshx_vterm_read_state(VTerm *vt, MoshxVTermState *out);

/* libvterm's own notion of a combining character (it joins the previous
 * glyph instead of taking a cell). */
int moshx_vterm_is_combining(uint32_t codepoint);

/* libvterm's width of a code point (its fullwidth table first, then
 * Unicode 5.0's wcwidth: a combining mark it also lists as full width is 2). */
int moshx_vterm_unicode_width(uint32_t codepoint);

/* Appends the code points marks[0..n) as combining characters to the glyph
 * at `at` and redraws it there, as libvterm does when a combining character
 * arrives right after its base (with the current pen; a cell keeps at most
 * VTERM_MAX_CHARS_PER_CELL characters, libvterm drops the rest). `chars`:
 * the glyph's characters, 0-terminated, at most VTERM_MAX_CHARS_PER_CELL, or
 * NULL for the last glyph printed (libvterm keeps its characters); `width`:
 * 1 or 2. Any code point joins, whatever libvterm's own (Unicode 5.0)
 * tables say of it. The glyph becomes the last one printed (later
 * combining characters and REP use it); the cursor and the pending-wrap flag
 * are left as they were. */
void moshx_vterm_append_combining(VTerm *vt, VTermPos at, const uint32_t *chars,
                                  int width, const uint32_t *marks, size_t n);

/* Whether row `row` of the primary screen continues the row above (a line
 * the terminal wrapped), whichever screen shows; `row` must be inside the
 * primary screen's line info. During a resize, the old screen's. */
int moshx_vterm_primary_line_continues(VTerm *vt, int row);

/* Puts the cursor at `pos` (inside the screen) and sets the pending-wrap
 * flag, without the side effects of a cursor motion sequence (origin mode,
 * margins). */
void moshx_vterm_set_cursor(VTerm *vt, VTermPos pos, int pending_wrap);

/* Resets the scroll region (and left/right margins) to the whole screen if
 * it is empty, as DECSTBM does with an invalid region: after a shrink
 * libvterm clamps only the bottom (right) edge, and scrolls an empty region
 * with a negative size. Returns whether it did. */
int moshx_vterm_repair_margins(VTerm *vt);

/* Sets whether row `row` of the screen showing continues the row above. */
void moshx_vterm_set_line_continues(VTerm *vt, int row, int continues);

/* Whether printable ASCII (0x20..0x7e) is printed as itself, each byte one
 * glyph over the cell at the cursor: the character set in GL is UTF-8 or
 * US-ASCII, no single shift is pending, insert mode (IRM) and new-line mode
 * (LNM: line feed also returns the carriage) are off. */
int moshx_vterm_prints_ascii_as_is(VTerm *vt);
/* Moves the saved cursor (DECSC, mode 1048/1049) inside the screen: after a
 * resize libvterm would restore it outside. */
void moshx_vterm_clamp_saved_cursor(VTerm *vt);

#ifdef __cplusplus
}
#endif

#endif /* MOSHX_THIRD_PARTY_LIBVTERM_EXTRA_H_ */
