#include "core/framebuffer.h"

#include <algorithm>
#include <string>
#include <vector>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/char_width.h"

namespace moshx::core {

bool operator==(const Cell& x, const Cell& y) {
  return x.width == y.width && x.renditions == y.renditions &&
         x.text == y.text && SameLink(x.link, y.link);
}

bool operator==(const Modes& x, const Modes& y) {
  return x.application_cursor_keys == y.application_cursor_keys &&
         x.application_keypad == y.application_keypad &&
         x.bracketed_paste == y.bracketed_paste &&
         x.mouse_tracking == y.mouse_tracking &&
         x.mouse_encoding == y.mouse_encoding &&
         x.focus_events == y.focus_events &&
         x.alternate_screen == y.alternate_screen &&
         x.origin_mode == y.origin_mode && x.autowrap == y.autowrap &&
         x.reverse_video == y.reverse_video;
}

namespace {

// True when `text` has no C0 control, no DEL and none of `also`.
bool IsOscSafe(absl::string_view text, absl::string_view also = "") {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || also.find(c) != absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsValidLink(const std::shared_ptr<const Hyperlink>& link) {
  return link == nullptr || (!link->uri.empty() && IsOscSafe(link->uri) &&
                             IsOscSafe(link->id, ";:"));
}

}  // namespace

// ---------------------------------------------------------------- Row

Row::Row(int width, const Renditions& blank) {
  Cell cell;
  cell.renditions = blank;
  cells_.assign(std::max(width, 1), cell);
}

void Row::BreakWide(int col) {
  if (col < 0 || col >= width()) return;
  int lead = col;
  if (cells_[col].width == 0) lead = col - 1;
  if (lead < 0 || cells_[lead].width != 2) return;
  for (int c = lead; c <= lead + 1 && c < width(); ++c) {
    cells_[c].text.clear();
    cells_[c].width = 1;
  }
}

void Row::Set(int col, Cell cell) {
  if (col < 0 || col >= width()) return;
  if (cell.text == " ") cell.text.clear();
  if (cell.width == 0) cell.width = 1;
  if (cell.width > 2) cell.width = 2;
  if (cell.width == 2 && col == width() - 1) {
    cell.text.clear();
    cell.width = 1;
  }
  if (cell.width == 1 && cells_[col].width == 1) {  // no wide char involved
    cells_[col] = std::move(cell);
    return;
  }
  BreakWide(col);
  if (cell.width == 2) BreakWide(col + 1);
  if (cell.width == 2) {
    Cell continuation;
    continuation.width = 0;
    continuation.renditions = cell.renditions;
    continuation.link = cell.link;
    cells_[col + 1] = std::move(continuation);
  }
  cells_[col] = std::move(cell);
}

Row LayOut(const PlainRow& plain) {
  const PlainPalette& palette = *plain.palette;
  Row row(palette.cols);  // default blanks, not wrapped
  for (int x = 0; x < palette.cols; ++x) {
    const size_t i = static_cast<size_t>(x);
    const unsigned char c = i < plain.text.size() ? static_cast<unsigned char>(plain.text[i]) : 0;
    const std::optional<Cell>& cell =
        c >= 0x20 && c < 0x7f ? palette.glyphs[c - 0x20] : palette.blank;
    if (cell.has_value()) row.Set(x, *cell);
  }
  return row;
}

void Row::Erase(int begin, int end, const Renditions& renditions) {
  begin = std::max(begin, 0);
  end = std::min(end, width());
  if (begin >= end) return;
  BreakWide(begin);
  BreakWide(end - 1);
  Cell blank;
  blank.renditions = renditions;
  std::fill(cells_.begin() + begin, cells_.begin() + end, blank);
}

void Row::Resize(int width) {
  width = std::max(width, 1);
  if (width < this->width() && cells_[width - 1].width == 2) {
    cells_[width - 1].text.clear();
    cells_[width - 1].width = 1;
  }
  cells_.resize(width);
}

absl::Status Row::Validate() const {
  for (int col = 0; col < width(); ++col) {
    const Cell& c = cells_[col];
    if (c.width > 2) return absl::InternalError(absl::StrCat("width ", col));
    if (!IsValidLink(c.link)) {
      return absl::InternalError(absl::StrCat("bad hyperlink ", col));
    }
    if (c.width == 0) {
      if (col == 0 || cells_[col - 1].width != 2 || !c.text.empty() ||
          c.renditions != cells_[col - 1].renditions ||
          !SameLink(c.link, cells_[col - 1].link)) {
        return absl::InternalError(absl::StrCat("bad continuation ", col));
      }
      continue;
    }
    if (c.width == 2 && (col + 1 >= width() || cells_[col + 1].width != 0)) {
      return absl::InternalError(absl::StrCat("unfinished wide cell ", col));
    }
    if (c.text.empty()) continue;
    if (c.text == " ") return absl::InternalError("space is not canonical");
    if (c.text.size() > kMaxCellTextBytes) {
      return absl::InternalError(absl::StrCat("cell text too long ", col));
    }
    size_t pos = 0;
    char32_t cp;
    if (!DecodeUtf8(c.text, &pos, &cp) || CharWidth(cp) < 1) {
      return absl::InternalError(absl::StrCat("bad base character ", col));
    }
    while (pos < c.text.size()) {
      if (!DecodeUtf8(c.text, &pos, &cp) || CharWidth(cp) < 0) {
        return absl::InternalError(absl::StrCat("bad UTF-8 in cell ", col));
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- Framebuffer

namespace {

std::shared_ptr<const Row> BlankRow(int width, const Renditions& fill) {
  return std::make_shared<const Row>(width, fill);
}

}  // namespace

Framebuffer::Framebuffer(int width, int height)
    : width_(std::max(width, 1)) {
  // One shared blank row: copy-on-write keeps the rows independent.
  rows_.assign(std::max(height, 1), BlankRow(width_, Renditions()));
}

Row* Framebuffer::MutableRow(int y) {
  std::shared_ptr<const Row>& slot = rows_[y];
  if (slot.use_count() != 1) slot = std::make_shared<const Row>(*slot);
  // Sole owner now: casting away const is safe.
  return const_cast<Row*>(slot.get());
}

void Framebuffer::SetRow(int y, Row row) {
  if (row.width() != width_) row.Resize(width_);
  if (y == height() - 1) row.set_wrapped(false);
  rows_[y] = std::make_shared<const Row>(std::move(row));
}

void Framebuffer::SetRow(int y, std::shared_ptr<const Row> row) {
  if (row->width() != width_ || (y == height() - 1 && row->wrapped())) {
    SetRow(y, Row(*row));
    return;
  }
  rows_[y] = std::move(row);
}

void Framebuffer::ScrollUp(int top, int bottom, int n, const Renditions& fill) {
  top = std::max(top, 0);
  bottom = std::min(bottom, height() - 1);
  if (top > bottom || n <= 0) return;
  n = std::min(n, bottom - top + 1);
  std::move(rows_.begin() + top + n, rows_.begin() + bottom + 1,
            rows_.begin() + top);
  auto blank = BlankRow(width_, fill);
  std::fill(rows_.begin() + bottom + 1 - n, rows_.begin() + bottom + 1, blank);
  if (rows_.back()->wrapped()) MutableRow(height() - 1)->set_wrapped(false);
}

void Framebuffer::EraseAll(const Renditions& fill) {
  rows_.assign(rows_.size(), BlankRow(width_, fill));
}

void Framebuffer::Resize(int width, int height) {
  width = std::max(width, 1);
  height = std::max(height, 1);
  if (width != width_) {
    for (int y = 0; y < this->height(); ++y) {
      Row* row = MutableRow(y);
      row->Resize(width);
      row->set_wrapped(false);
    }
    width_ = width;
  }
  rows_.resize(height, BlankRow(width_, Renditions()));
  if (rows_.back()->wrapped()) MutableRow(height - 1)->set_wrapped(false);
  cursor_.row = std::min(cursor_.row, height - 1);
  cursor_.col = std::min(cursor_.col, width_ - 1);
}

absl::Status Framebuffer::Validate() const {
  for (int y = 0; y < height(); ++y) {
    if (rows_[y]->width() != width_) {
      return absl::InternalError(absl::StrCat("row ", y, " has wrong width"));
    }
    absl::Status status = rows_[y]->Validate();
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("row ", y, ": ", status.message()));
    }
  }
  if (rows_.back()->wrapped()) return absl::InternalError("last row wrapped");
  if (!IsOscSafe(title_) || !IsOscSafe(icon_name_)) {
    return absl::InternalError("control character in title or icon name");
  }
  if (clipboard_.has_value() && (!IsOscSafe(clipboard_->selection, ";") ||
                                 !IsOscSafe(clipboard_->data))) {
    return absl::InternalError("bad clipboard selection or payload");
  }
  if (cursor_.row < 0 || cursor_.row >= height() || cursor_.col < 0 ||
      cursor_.col >= width_) {
    return absl::InternalError("cursor outside the screen");
  }
  return absl::OkStatus();
}

bool operator==(const Framebuffer& x, const Framebuffer& y) {
  if (x.width_ != y.width_ || x.rows_.size() != y.rows_.size()) return false;
  if (x.cursor_ != y.cursor_ || x.modes_ != y.modes_ ||
      x.bell_count_ != y.bell_count_ || x.title_ != y.title_ ||
      x.icon_name_ != y.icon_name_ || x.clipboard_ != y.clipboard_ ||
      x.pen_ != y.pen_) {
    return false;
  }
  for (size_t i = 0; i < x.rows_.size(); ++i) {
    if (x.rows_[i] != y.rows_[i] && *x.rows_[i] != *y.rows_[i]) return false;
  }
  return true;
}

namespace {

// Bytes of the first (base) character of canonical UTF-8 cell text.
size_t BaseCharBytes(const std::string& text) {
  if (text.empty()) return 0;
  const unsigned char c = static_cast<unsigned char>(text[0]);
  const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::min(n, text.size());
}

bool Contains(const std::vector<const Hyperlink*>& links, const Hyperlink* link) {
  return std::find(links.begin(), links.end(), link) != links.end();
}

}  // namespace

bool CarriesBudgetedBytes(const Row& row) {
  for (int x = 0; x < row.width(); ++x) {
    const Cell& cell = row.cell(x);
    if (cell.link != nullptr || cell.text.size() > BaseCharBytes(cell.text)) return true;
  }
  return false;
}

ScreenBudgetCuts EnforceScreenBudget(Framebuffer* fb) {
  ScreenBudgetCuts cuts;
  size_t link_bytes = 0, mark_bytes = 0;
  std::vector<const Hyperlink*> kept, cut;  // this row's links, by identity
  for (int y = 0; y < fb->height(); ++y) {
    const Row* src = &fb->row(y);
    Row* out = nullptr;
    kept.clear();
    cut.clear();
    for (int x = 0; x < src->width(); ++x) {
      const Cell& cell = src->cell(x);
      bool drop_link = false;
      if (const Hyperlink* link = cell.link.get(); link != nullptr && !Contains(kept, link)) {
        const size_t bytes = link->uri.size() + link->id.size();
        if (!Contains(cut, link) && link_bytes + bytes <= kMaxScreenLinkBytes) {
          link_bytes += bytes;
          kept.push_back(link);
        } else {
          if (!Contains(cut, link)) cut.push_back(link);
          drop_link = true;
        }
      }
      const size_t marks = cell.text.size() - BaseCharBytes(cell.text);
      bool drop_marks = false;
      if (marks > 0) {
        if (mark_bytes + marks <= kMaxScreenMarkBytes) {
          mark_bytes += marks;
        } else {
          drop_marks = true;
        }
      }
      if (!drop_link && !drop_marks) continue;
      if (out == nullptr) src = out = fb->MutableRow(y);
      Cell changed = out->cell(x);
      if (drop_link) {
        changed.link = nullptr;
        ++cuts.links_dropped;
      }
      if (drop_marks) {
        changed.text.resize(BaseCharBytes(changed.text));
        ++cuts.marks_dropped;
      }
      out->Set(x, std::move(changed));
    }
  }
  return cuts;
}

}  // namespace moshx::core
