#include "core/test_screens.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/char_width.h"

namespace moshx::core::testing {
namespace {

int Uniform(Rng& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

bool Chance(Rng& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

std::string Utf8(char32_t cp) {
  std::string s;
  AppendUtf8(cp, &s);
  return s;
}

Color RandomColor(Rng& rng) {
  switch (Uniform(rng, 0, 5)) {
    case 0:
      return Uniform(rng, 0, 1) == 0
                 ? Color::Ansi(static_cast<uint8_t>(Uniform(rng, 0, 15)))
                 : Color::Indexed(static_cast<uint8_t>(Uniform(rng, 0, 15)));
    case 1:
      return Color::Indexed(static_cast<uint8_t>(Uniform(rng, 0, 255)));
    case 2:
      return Color::Rgb(Uniform(rng, 0, 255), Uniform(rng, 0, 255),
                        Uniform(rng, 0, 255));
    default:
      return Color::Default();
  }
}

const std::shared_ptr<const Hyperlink>& RandomLink(Rng& rng) {
  static const auto* links = new std::vector<std::shared_ptr<const Hyperlink>>{
      std::make_shared<Hyperlink>(Hyperlink{"", "https://example.com/a"}),
      std::make_shared<Hyperlink>(Hyperlink{"x1", "file:///tmp/b;c"}),
      std::make_shared<Hyperlink>(Hyperlink{"", "https://example.com/a"}),
  };
  return (*links)[Uniform(rng, 0, 2)];
}

std::string RandomText(Rng& rng, int max_length) {
  static constexpr absl::string_view kChars[] = {
      "a", "b", "Z", "0", "~", "é", "ß", "Ω", "中", "x", "title", " "};
  std::string text;
  const int n = Uniform(rng, 0, max_length);
  for (int i = 0; i < n; ++i) absl::StrAppend(&text, kChars[Uniform(rng, 0, 11)]);
  return text;
}

}  // namespace

Renditions RandomRenditions(Rng& rng) {
  Renditions r;
  if (Chance(rng, 0.3)) r.attributes = static_cast<uint8_t>(Uniform(rng, 0, 255));
  if (Chance(rng, 0.5)) r.fg = RandomColor(rng);
  if (Chance(rng, 0.4)) r.bg = RandomColor(rng);
  return r;
}

Cell RandomCell(Rng& rng) {
  static constexpr char32_t kCjk[] = {0x4E2D, 0x6587, 0xAC00, 0x3042, 0xFF21,
                                      0x1F600};
  static constexpr char32_t kMarks[] = {0x0301, 0x0308, 0x20DD, 0x0327};
  Cell cell;
  const int kind = Uniform(rng, 0, 19);
  if (kind < 12) {
    cell.text = Utf8(static_cast<char32_t>(Uniform(rng, 0x21, 0x7E)));
  } else if (kind < 14) {
    cell.text = Utf8(static_cast<char32_t>(Uniform(rng, 0xA1, 0xFF)));
  } else if (kind < 16) {
    cell.text = Utf8(kCjk[Uniform(rng, 0, 5)]);
    cell.width = 2;
  } else if (kind < 18) {
    cell.text = Utf8(static_cast<char32_t>(Uniform(rng, 'a', 'z')));
    for (int i = Uniform(rng, 1, 2); i > 0; --i) cell.text += Utf8(kMarks[Uniform(rng, 0, 3)]);
  }  // else blank
  if (Chance(rng, 0.6)) cell.renditions = RandomRenditions(rng);
  if (Chance(rng, 0.05)) cell.link = RandomLink(rng);
  return cell;
}

Framebuffer RandomScreen(Rng& rng, int width, int height, double density) {
  Framebuffer fb(width, height);
  for (int y = 0; y < height; ++y) {
    Row* row = fb.MutableRow(y);
    for (int x = 0; x < width; ++x) {
      if (Chance(rng, density)) row->Set(x, RandomCell(rng));
    }
    if (Chance(rng, 0.1)) row->Erase(Uniform(rng, 0, width - 1), width, RandomRenditions(rng));
    row->set_wrapped(y < height - 1 && Chance(rng, 0.2));
  }
  Cursor* cursor = fb.mutable_cursor();
  cursor->row = Uniform(rng, 0, height - 1);
  cursor->col = Uniform(rng, 0, width - 1);
  cursor->visible = Chance(rng, 0.8);
  cursor->shape = static_cast<CursorShape>(Uniform(rng, 0, 2));
  cursor->blinking = Chance(rng, 0.5);
  Modes* modes = fb.mutable_modes();
  modes->application_cursor_keys = Chance(rng, 0.3);
  modes->application_keypad = Chance(rng, 0.3);
  modes->bracketed_paste = Chance(rng, 0.5);
  modes->mouse_tracking = static_cast<MouseTracking>(Uniform(rng, 0, 4));
  modes->mouse_encoding = static_cast<MouseEncoding>(Uniform(rng, 0, 3));
  modes->focus_events = Chance(rng, 0.3);
  modes->alternate_screen = Chance(rng, 0.2);
  modes->origin_mode = Chance(rng, 0.1);
  modes->autowrap = Chance(rng, 0.9);
  modes->reverse_video = Chance(rng, 0.1);
  fb.set_title(RandomText(rng, 6));
  fb.set_icon_name(Chance(rng, 0.5) ? fb.title() : RandomText(rng, 4));
  fb.set_bell_count(Uniform(rng, 0, 5));
  if (Chance(rng, 0.5)) {
    fb.set_clipboard({Chance(rng, 0.5) ? "c" : "ps0", RandomText(rng, 8)});
  }
  return fb;
}

Framebuffer ScrolledWithText(const Framebuffer& fb, int lines, Rng& rng) {
  Framebuffer next = fb;
  next.ScrollUp(0, fb.height() - 1, lines, Renditions());
  for (int y = fb.height() - lines; y < fb.height(); ++y) {
    std::string text;
    for (int x = 0; x < fb.width(); ++x) {
      text.push_back(static_cast<char>(Uniform(rng, 'a', 'z')));
    }
    WriteText(&next, y, text);
  }
  next.mutable_cursor()->row = fb.height() - 1;
  next.mutable_cursor()->col = 0;
  return next;
}

Framebuffer RandomSuccessor(Rng& rng, const Framebuffer& from) {
  Framebuffer to = from;
  const int w = from.width(), h = from.height();
  switch (Uniform(rng, 0, 9)) {
    case 0:
    case 1:
    case 2:  // a few cells
      for (int i = Uniform(rng, 1, 6); i > 0; --i) {
        to.MutableRow(Uniform(rng, 0, h - 1))->Set(Uniform(rng, 0, w - 1), RandomCell(rng));
      }
      break;
    case 3:  // whole-screen scroll with new text
      to = ScrolledWithText(from, Uniform(rng, 1, std::max(1, h - 1)), rng);
      break;
    case 4: {  // scroll of a region at the top
      const int bottom = Uniform(rng, 0, h - 1);
      to.ScrollUp(0, bottom, Uniform(rng, 1, bottom + 1), RandomRenditions(rng));
      break;
    }
    case 5:  // rows erased, wrapping changed
      for (int i = Uniform(rng, 1, 3); i > 0; --i) {
        const int y = Uniform(rng, 0, h - 1);
        Row* row = to.MutableRow(y);
        row->Erase(Uniform(rng, 0, w - 1), Uniform(rng, 0, w), RandomRenditions(rng));
        row->set_wrapped(y < h - 1 && Chance(rng, 0.5));
      }
      break;
    case 6:  // resize
      to.Resize(std::max(1, w + Uniform(rng, -3, 3)), std::max(1, h + Uniform(rng, -2, 2)));
      break;
    case 7:  // an unrelated screen
      to = RandomScreen(rng, w, h, 0.5);
      break;
    default:  // modes, cursor, title only
      Framebuffer other = RandomScreen(rng, w, h, 0);
      *to.mutable_cursor() = other.cursor();
      *to.mutable_modes() = other.modes();
      if (Chance(rng, 0.7)) to.mutable_modes()->alternate_screen = from.modes().alternate_screen;
      to.set_title(other.title());
      to.set_icon_name(other.icon_name());
      break;
  }
  // Keep the result reachable from `from`.
  to.set_bell_count(from.bell_count() + Uniform(rng, 0, 1) * Uniform(rng, 0, 3));
  if (from.clipboard().has_value() && !to.clipboard().has_value()) {
    to.set_clipboard(*from.clipboard());
  }
  return to;
}

void WriteText(Framebuffer* fb, int y, absl::string_view text) {
  Row row(fb->width());
  size_t pos = 0;
  int x = 0;
  char32_t cp;
  while (x < fb->width() && DecodeUtf8(text, &pos, &cp)) {
    const int w = CharWidth(cp);
    if (w == 0 && x > 0) {
      Cell base = row.cell(row.cell(x - 1).is_continuation() ? x - 2 : x - 1);
      AppendUtf8(cp, &base.text);
      row.Set(x - base.width, base);
      continue;
    }
    Cell cell;
    cell.text = Utf8(cp);
    cell.width = static_cast<uint8_t>(std::max(w, 1));
    row.Set(x, cell);
    x += cell.width;
  }
  fb->SetRow(y, std::move(row));
}

std::string Describe(const Framebuffer& fb) {
  std::string out;
  for (int y = 0; y < fb.height(); ++y) {
    out += "|";
    for (const Cell& cell : fb.row(y).cells()) {
      if (cell.is_continuation()) continue;
      out += cell.text.empty() ? " " : cell.text;
    }
    absl::StrAppend(&out, "|", fb.row(y).wrapped() ? " wrapped" : "", "\n");
  }
  const Cursor& c = fb.cursor();
  absl::StrAppend(&out, "cursor ", c.row, ",", c.col, c.visible ? "" : " hidden",
                  " title '", fb.title(), "' icon '", fb.icon_name(), "' bells ",
                  fb.bell_count(), "\n");
  return out;
}

std::string EscapeDiff(absl::string_view diff) {
  std::string out;
  for (char c : diff) {
    switch (c) {
      case '\x1b': out += "\\e"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\b': out += "\\b"; break;
      case '\x07': out += "\\a"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

absl::StatusOr<std::string> UnescapeDiff(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (++i >= text.size()) return absl::InvalidArgumentError("trailing \\");
    switch (text[i]) {
      case 'e': out.push_back('\x1b'); break;
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 'b': out.push_back('\b'); break;
      case 'a': out.push_back('\x07'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        int value = 0;
        for (int k = 0; k < 2; ++k) {
          const char h = ++i < text.size() ? text[i] : 'z';
          const int digit = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                   : -1;
          if (digit < 0) return absl::InvalidArgumentError("bad \\x escape");
          value = value * 16 + digit;
        }
        out.push_back(static_cast<char>(value));
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", text.substr(i, 1)));
    }
  }
  return out;
}

}  // namespace moshx::core::testing
