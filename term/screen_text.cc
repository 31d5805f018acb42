#include "term/screen_text.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace moshx::term {
namespace {

std::string ColorSpec(absl::string_view name, const core::Color& c) {
  switch (c.kind) {
    case core::Color::Kind::kDefault: return "";
    case core::Color::Kind::kAnsi: return absl::StrCat(name, "=", c.index());
    case core::Color::Kind::kIndexed: return absl::StrCat(name, "=p", c.index());
    case core::Color::Kind::kRgb:
      return absl::StrFormat("%s=#%02x%02x%02x", name, c.r, c.g, c.b);
  }
  return "";
}

const char* ShapeName(core::CursorShape shape) {
  switch (shape) {
    case core::CursorShape::kUnderline: return "underline";
    case core::CursorShape::kBar: return "bar";
    default: return "block";
  }
}

std::vector<std::string> ModeNames(const core::Modes& m) {
  static const char* kTracking[] = {"", "mouse=9", "mouse=1000", "mouse=1002",
                                    "mouse=1003"};
  static const char* kEncoding[] = {"", "mouse-encoding=1005",
                                    "mouse-encoding=1006",
                                    "mouse-encoding=1015"};
  std::vector<std::string> names;
  if (m.application_cursor_keys) names.push_back("app-cursor-keys");
  if (m.application_keypad) names.push_back("app-keypad");
  if (m.bracketed_paste) names.push_back("bracketed-paste");
  if (m.mouse_tracking != core::MouseTracking::kNone) {
    names.push_back(kTracking[static_cast<int>(m.mouse_tracking)]);
  }
  if (m.mouse_encoding != core::MouseEncoding::kDefault) {
    names.push_back(kEncoding[static_cast<int>(m.mouse_encoding)]);
  }
  if (m.focus_events) names.push_back("focus-events");
  if (m.alternate_screen) names.push_back("alternate-screen");
  if (m.origin_mode) names.push_back("origin");
  if (!m.autowrap) names.push_back("no-autowrap");
  if (m.reverse_video) names.push_back("reverse-video");
  return names;
}

void AppendHeader(const core::Framebuffer& fb, std::string* out) {
  const core::Cursor& c = fb.cursor();
  absl::StrAppend(out, "size ", fb.width(), "x", fb.height(), "\n");
  absl::StrAppend(out, "cursor ", c.row, ",", c.col, c.visible ? "" : " hidden",
                  " ", ShapeName(c.shape), c.blinking ? "" : " steady", "\n");
  std::vector<std::string> modes = ModeNames(fb.modes());
  absl::StrAppend(out, "modes ", modes.empty() ? "-" : absl::StrJoin(modes, " "),
                  "\n");
  if (!fb.title().empty()) absl::StrAppend(out, "title ", Quoted(fb.title()), "\n");
  if (!fb.icon_name().empty()) {
    absl::StrAppend(out, "icon ", Quoted(fb.icon_name()), "\n");
  }
  if (fb.bell_count() > 0) absl::StrAppend(out, "bell ", fb.bell_count(), "\n");
  if (fb.clipboard()) {
    absl::StrAppend(out, "clipboard ", Quoted(fb.clipboard()->selection), " ",
                    Quoted(fb.clipboard()->data), "\n");
  }
}

std::string RowText(const core::Row& row) {
  std::string text;
  size_t keep = 0;  // length without trailing blanks
  for (const core::Cell& cell : row.cells()) {
    if (cell.is_continuation()) continue;
    if (cell.is_blank()) {
      text += ' ';
    } else {
      text += cell.text;
      keep = text.size();
    }
  }
  text.resize(keep);
  return text;
}

void AppendAttributes(int y, const core::Row& row, std::string* out) {
  int x = 0;
  while (x < row.width()) {
    const std::string spec = CellSpec(row.cell(x));
    int end = x + 1;
    while (end < row.width() && CellSpec(row.cell(end)) == spec) ++end;
    if (!spec.empty()) absl::StrAppend(out, y, ":", x, "-", end - 1, " ", spec, "\n");
    x = end;
  }
}

}  // namespace

std::string Quoted(absl::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c == 0x1b) {
      out += "\\e";
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string CellSpec(const core::Cell& cell) {
  static const std::pair<core::Attribute, const char*> kNames[] = {
      {core::kBold, "bold"},         {core::kFaint, "faint"},
      {core::kItalic, "italic"},     {core::kUnderline, "underline"},
      {core::kBlink, "blink"},       {core::kInverse, "inverse"},
      {core::kInvisible, "invisible"}, {core::kStrikethrough, "strike"},
  };
  std::vector<std::string> parts;
  const core::Renditions& r = cell.renditions;
  if (!r.fg.is_default()) parts.push_back(ColorSpec("fg", r.fg));
  if (!r.bg.is_default()) parts.push_back(ColorSpec("bg", r.bg));
  for (const auto& [bit, name] : kNames) {
    if (r.has(bit)) parts.push_back(name);
  }
  if (cell.link) {
    parts.push_back("link=" + Quoted(absl::StrCat(cell.link->id, ";", cell.link->uri)));
  }
  return absl::StrJoin(parts, " ");
}

std::string ScreenText(const core::Framebuffer& fb) {
  std::string out;
  AppendHeader(fb, &out);
  out += "text:\n";
  for (int y = 0; y < fb.height(); ++y) {
    absl::StrAppendFormat(&out, "%02d%c%s\n", y, fb.row(y).wrapped() ? '>' : '|',
                          RowText(fb.row(y)));
  }
  out += "attributes:\n";
  for (int y = 0; y < fb.height(); ++y) AppendAttributes(y, fb.row(y), &out);
  return out;
}

}  // namespace moshx::term
