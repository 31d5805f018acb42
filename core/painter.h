// Internal to //core:diff. The Painter writes the escape sequences of one
// diff while keeping a mirror of what the receiving terminal shows, so every
// decision (what is unchanged, where the cursor is, which SGR is active) is
// made against the receiver's believed state rather than against `from`.
//
// Every operation mirrors its effect on the screen with the same Row and
// Framebuffer primitives that core::Apply uses, so after PaintRows(to) the
// mirror's rows equal to's rows.
//
// Not thread-safe; one Painter per diff candidate.
#ifndef MOSHX_CORE_PAINTER_H_
#define MOSHX_CORE_PAINTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "core/diff.h"
#include "core/framebuffer.h"

namespace moshx::core {

class Painter {
 public:
  // Starts from a receiver showing `start` (cursor at start.cursor(), which
  // may be in the pending-wrap state if it is in the last column), SGR
  // start.pen(), no link, scroll region = whole screen.
  Painter(const Framebuffer& start, const DiffOptions& options);

  // Appends raw bytes (caller guarantees they do not move the cursor or
  // change the pen).
  void Emit(absl::string_view bytes) { out_.append(bytes.data(), bytes.size()); }

  // After an alternate-screen switch: the cursor position is unknown.
  void ForgetCursor() { known_ = false; }

  // CSI H CSI 2 J with SGR 0: a blank screen, cursor home.
  void EraseScreen();

  // Scrolls rows [0, bottom] up by `lines` with LFs (inside CSI 1;b r when
  // bottom is not the last row). Blank default rows enter at the bottom.
  void ScrollUp(int bottom, int lines);

  // Paints every row that differs from `to`'s. Gives up (returns false,
  // leaving a partial diff) once the output exceeds `budget` bytes.
  bool PaintRows(const Framebuffer& to, size_t budget = SIZE_MAX);

  // Final state: origin mode, autowrap, cursor position, SGR to.pen() and no link,
  // cursor visibility and shape, then the other modes that differ between
  // `from` (what the receiver had) and `to`.
  void Finish(const Framebuffer& from, const Framebuffer& to);

  const std::string& out() const { return out_; }
  std::string&& TakeOut() { return std::move(out_); }

 private:
  void PaintRow(int y, const Framebuffer& to);
  // Paints the cells of row y that differ from `want` (and column
  // `must_print`, unless -1), blank runs as spaces, ECH or EL.
  void PaintCells(int y, const Row& want, int must_print);
  // Prints `next` at the start of row y+1 through pending autowrap.
  void ContinueWrap(int y, const Cell& next);
  // Erases row y entirely (it stops wrapping; see painter.cc).
  void ClearWrap(int y);
  void FlushRun(int y, int begin, int end, const Renditions& r, bool wrapped);
  void DrawCell(int y, int x, const Cell& cell);
  // Prints cell at the believed cursor position (no motion).
  void PrintHere(int y, int x, const Cell& cell);
  // Notes the operation covering [x, end) of row y: a wide character cut
  // at `end` leaves a cell the receiver may draw its own way.
  void NoteCut(int y, int end);
  void BeginPaint(int y);
  // Moves the cursor by the shortest of: CUP; CR, LFs and BSs; or printing
  // again the cells between the cursor and x on the same row, when they are
  // drawn with the current pen (a no-op for the receiver's screen).
  void MoveTo(int y, int x);
  // Bytes needed to reprint cells [x_, x) of the cursor row with the current
  // pen, or `limit` if that is impossible or not shorter than `limit`.
  int ReprintLength(int x, int limit) const;
  void SetPen(const Renditions& r, const std::shared_ptr<const Hyperlink>& l);
  void EnsureAutowrap();

  const DiffOptions options_;
  Framebuffer screen_;  // the receiver's screen (cursor field unused)
  std::string out_;
  int y_;
  int x_;
  bool known_ = true;     // y_, x_ are the receiver's cursor
  bool pending_ = false;  // maybe in pending wrap: only CR or CUP may follow
  Renditions pen_;
  std::shared_ptr<const Hyperlink> link_;
  bool visible_;
  bool autowrap_;
  int first_painted_row_ = -1;
  // The column of the current row reached only by an absolute move (the
  // last cell of a wrapping row), or -1.
  int absolute_x_ = -1;
  // A cell left over from a broken wide character: must be repainted.
  int force_row_ = -1;
  int force_x_ = -1;
};

}  // namespace moshx::core

#endif  // MOSHX_CORE_PAINTER_H_
