#include "core/escape.h"

#include "absl/strings/str_cat.h"

namespace moshx::core {
namespace {

// ;30-37 / ;90-97 (ANSI) / ;38;5;n (palette) / ;38;2;r;g;b (base 30), or
// the 40s (base 40).
void AppendColor(const Color& c, int base, std::string* out) {
  switch (c.kind) {
    case Color::Kind::kDefault:
      return;
    case Color::Kind::kAnsi:
      if (c.index() < 8) {
        absl::StrAppend(out, ";", base + c.index());
      } else {
        absl::StrAppend(out, ";", base + 60 + c.index() - 8);
      }
      return;
    case Color::Kind::kIndexed:
      absl::StrAppend(out, ";", base + 8, ";5;", c.index());
      return;
    case Color::Kind::kRgb:
      absl::StrAppend(out, ";", base + 8, ";2;", c.r, ";", c.g, ";", c.b);
      return;
  }
}

}  // namespace

int DecimalLength(int n) {
  int length = 1;
  for (; n >= 10; n /= 10) ++length;
  return length;
}

int CupLength(int y, int x) {
  if (y == 0 && x == 0) return 3;
  return 4 + DecimalLength(y + 1) + DecimalLength(x + 1);
}

void AppendCup(int y, int x, std::string* out) {
  if (y == 0 && x == 0) {
    out->append("\x1b[H");
  } else {
    absl::StrAppend(out, "\x1b[", y + 1, ";", x + 1, "H");
  }
}

void AppendSgr(const Renditions& r, std::string* out) {
  static constexpr struct {
    Attribute attribute;
    const char* code;
  } kCodes[] = {{kBold, ";1"},      {kFaint, ";2"},    {kItalic, ";3"},
                {kUnderline, ";4"}, {kBlink, ";5"},    {kInverse, ";7"},
                {kInvisible, ";8"}, {kStrikethrough, ";9"}};
  out->append("\x1b[0");
  for (const auto& code : kCodes) {
    if (r.has(code.attribute)) out->append(code.code);
  }
  AppendColor(r.fg, 30, out);
  AppendColor(r.bg, 40, out);
  out->push_back('m');
}

void AppendHyperlink(const std::shared_ptr<const Hyperlink>& link,
                     std::string* out) {
  if (link == nullptr) {
    out->append("\x1b]8;;\x1b\\");
    return;
  }
  out->append("\x1b]8;");
  std::string id = StripControls(link->id, ";:");
  if (!id.empty()) absl::StrAppend(out, "id=", id);
  absl::StrAppend(out, ";", StripControls(link->uri), "\x1b\\");
}

std::string StripControls(absl::string_view text, absl::string_view also) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || also.find(c) != absl::string_view::npos) {
      continue;
    }
    result.push_back(c);
  }
  return result;
}

}  // namespace moshx::core
