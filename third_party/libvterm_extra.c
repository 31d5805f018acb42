/* See libvterm_extra.h. Compiled inside the @libvterm target. */
#include "libvterm_extra.h"  /* beside this file */

#include "vterm_internal.h"

#if VTERM_VERSION_MAJOR != 0 || VTERM_VERSION_MINOR != 3 || VTERM_VERSION_PATCH != 3
#error "libvterm_extra.c reads libvterm 0.3.3's internal state; check it against this version"
#endif

void moshx_vterm_read_state(VTerm *vt, MoshxVTermState *out) {
  const VTermState *state = vterm_obtain_state(vt);
  out->cursor = state->pos;
  out->pending_wrap = state->at_phantom;
  out->glyph_pos = state->combine_pos;
  out->glyph_width = state->combine_width;
  out->scroll_top = state->scrollregion_top;
  out->scroll_bottom = SCROLLREGION_BOTTOM(state);
  out->left_right_margins = state->mode.leftrightmargin;
  out->origin_mode = state->mode.origin;
  out->autowrap = state->mode.autowrap;
}

int moshx_vterm_is_combining(uint32_t codepoint) {
  return vterm_unicode_is_combining(codepoint);
}

int moshx_vterm_unicode_width(uint32_t codepoint) {
  return vterm_unicode_width(codepoint);
}

void moshx_vterm_append_combining(VTerm *vt, VTermPos at, const uint32_t *chars,
                                  int width, const uint32_t *marks, size_t n) {
  VTermState *state = vterm_obtain_state(vt);
  /* The combine buffer starts with 16 elements and only grows; what does not
   * fit would not be shown (a cell keeps VTERM_MAX_CHARS_PER_CELL). */
  const size_t room = state->combine_chars_size - 1;
  size_t len = 0;
  if (chars != NULL) {
    while (len < VTERM_MAX_CHARS_PER_CELL && len < room && chars[len] != 0) {
      state->combine_chars[len] = chars[len];
      ++len;
    }
  } else {
    while (len < room && state->combine_chars[len] != 0) ++len;
  }
  for (size_t i = 0; i < n && len < room; ++i) state->combine_chars[len++] = marks[i];
  state->combine_chars[len] = 0;
  state->combine_pos = at;
  state->combine_width = width;
  /* What state.c's putglyph() does with a joined glyph. */
  VTermGlyphInfo info = {
      .chars = state->combine_chars,
      .width = width,
      .protected_cell = state->protected_cell,
      .dwl = state->lineinfo[at.row].doublewidth,
      .dhl = state->lineinfo[at.row].doubleheight,
  };
  if (state->callbacks && state->callbacks->putglyph) {
    (*state->callbacks->putglyph)(&info, at, state->cbdata);
  }
}

int moshx_vterm_primary_line_continues(VTerm *vt, int row) {
  const VTermState *state = vterm_obtain_state(vt);
  return state->lineinfos[BUFIDX_PRIMARY][row].continuation;
}

void moshx_vterm_set_cursor(VTerm *vt, VTermPos pos, int pending_wrap) {
  VTermState *state = vterm_obtain_state(vt);
  state->pos = pos;
  state->at_phantom = pending_wrap;
}

int moshx_vterm_repair_margins(VTerm *vt) {
  VTermState *state = vterm_obtain_state(vt);
  int repaired = 0;
  if (SCROLLREGION_BOTTOM(state) <= state->scrollregion_top) {
    state->scrollregion_top = 0;
    state->scrollregion_bottom = -1;
    repaired = 1;
  }
  if (state->scrollregion_right > -1 && state->scrollregion_right <= state->scrollregion_left) {
    state->scrollregion_left = 0;
    state->scrollregion_right = -1;
    repaired = 1;
  }
  return repaired;
}

void moshx_vterm_set_line_continues(VTerm *vt, int row, int continues) {
  VTermState *state = vterm_obtain_state(vt);
  if (row >= 0 && row < state->rows) state->lineinfo[row].continuation = continues != 0;
}

void moshx_vterm_clamp_saved_cursor(VTerm *vt) {
  VTermState *state = vterm_obtain_state(vt);
  if (state->saved.pos.row >= state->rows) state->saved.pos.row = state->rows - 1;
  if (state->saved.pos.col >= state->cols) state->saved.pos.col = state->cols - 1;
  if (state->saved.pos.row < 0) state->saved.pos.row = 0;
  if (state->saved.pos.col < 0) state->saved.pos.col = 0;
}

int moshx_vterm_prints_ascii_as_is(VTerm *vt) {
  const VTermState *state = vterm_obtain_state(vt);
  if (state->gsingle_set || state->mode.insert || state->mode.newline) return 0;
  const VTermEncoding *gl = state->encoding[state->gl_set].enc;
  return gl == vterm_lookup_encoding(ENC_UTF8, 'u') ||
         gl == vterm_lookup_encoding(ENC_SINGLE_94, 'B');
}
