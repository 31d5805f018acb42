// core::Apply: a tiny terminal that understands exactly Diff()'s subset.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/char_width.h"
#include "core/diff.h"

namespace moshx::core {
namespace {

absl::Status Invalid(absl::string_view what, size_t at) {
  return absl::InvalidArgumentError(absl::StrCat(what, " at byte ", at));
}

// A parsed control sequence: CSI [?] params [SP] final.
struct CsiSequence {
  bool is_private = false;
  bool space = false;
  std::vector<int> params;
  char final = 0;

  // Parameter i, or `fallback` when it is missing or 0.
  int param(size_t i, int fallback) const {
    return i < params.size() && params[i] != 0 ? params[i] : fallback;
  }
};

class Applier {
 public:
  explicit Applier(const Framebuffer& from)
      : fb_(from),
        y_(from.cursor().row),
        x_(from.cursor().col),
        bottom_(from.height() - 1),
        pen_(from.pen()) {}

  absl::Status Run(absl::string_view in);
  // Skip what fails instead of stopping; counts the skipped sequences.
  void set_lenient(int* skipped) { skipped_ = skipped; }
  Framebuffer Result() {
    fb_.mutable_cursor()->row = y_;
    fb_.mutable_cursor()->col = x_;
    fb_.set_pen(pen_);
    return std::move(fb_);
  }

 private:
  absl::Status Control(char c);
  absl::Status Escape(absl::string_view in, size_t* pos);
  absl::Status Csi(absl::string_view in, size_t* pos);
  absl::Status Dispatch(const CsiSequence& csi);
  absl::Status PrivateModes(const CsiSequence& csi);
  absl::Status CursorStyle(const CsiSequence& csi);
  void MoveCursor(int row, int col);
  void SetScrollRegion(int top, int bottom);
  absl::Status Osc(absl::string_view body);
  absl::Status Sgr(const std::vector<int>& params);
  absl::Status DecMode(int mode, bool on);
  absl::Status Print(char32_t cp);
  absl::Status Combine(char32_t cp);
  void LineFeed();
  void EraseCells(int begin, int end);

  int width() const { return fb_.width(); }
  int height() const { return fb_.height(); }

  Framebuffer fb_;
  int y_;
  int x_;
  bool pending_ = false;
  int top_ = 0;
  int bottom_;
  Renditions pen_;
  std::shared_ptr<const Hyperlink> link_;
  size_t at_ = 0;  // offset of the sequence being parsed, for errors
  int* skipped_ = nullptr;  // non-null: lenient
};

// Where the escape sequence starting at `at` ends (ECMA-48 grammar), for
// skipping one the applier does not know.
size_t SequenceEnd(absl::string_view in, size_t at) {
  size_t p = at + 1;
  if (p >= in.size()) return in.size();
  auto byte = [&](size_t i) { return static_cast<unsigned char>(in[i]); };
  if (in[p] == '[') {  // CSI: parameters and intermediates, then a final byte
    for (++p; p < in.size() && byte(p) >= 0x20 && byte(p) <= 0x3F; ++p) {
    }
    return p < in.size() && byte(p) >= 0x40 && byte(p) <= 0x7E ? p + 1 : p;
  }
  if (in[p] == ']' || in[p] == 'P' || in[p] == '_' || in[p] == '^') {  // strings
    for (++p; p < in.size(); ++p) {
      if (in[p] == '\a') return p + 1;
      if (in[p] == '\x1b' && p + 1 < in.size() && in[p + 1] == '\\') return p + 2;
    }
    return p;
  }
  for (; p < in.size() && byte(p) >= 0x20 && byte(p) <= 0x2F; ++p) {  // intermediates
  }
  return p < in.size() ? p + 1 : p;
}

absl::Status Applier::Run(absl::string_view in) {
  size_t pos = 0;
  while (pos < in.size()) {
    at_ = pos;
    const unsigned char c = static_cast<unsigned char>(in[pos]);
    absl::Status status;
    if (c == 0x1B) {
      ++pos;
      status = Escape(in, &pos);
    } else if (c < 0x20 || c == 0x7F) {
      ++pos;
      status = Control(static_cast<char>(c));
    } else {
      char32_t cp;
      status = DecodeUtf8(in, &pos, &cp) ? Print(cp) : Invalid("malformed UTF-8", at_);
    }
    if (!status.ok()) {
      if (skipped_ == nullptr) return status;
      ++*skipped_;
      size_t end = in[at_] == '\x1b' ? SequenceEnd(in, at_) : at_ + 1;
      pos = std::max(pos, end);  // never stall on the same byte
    }
  }
  return absl::OkStatus();
}

absl::Status Applier::Control(char c) {
  switch (c) {
    case '\x07':
      fb_.RingBell();
      return absl::OkStatus();
    case '\b':
      if (x_ > 0) --x_;  // from pending wrap: width-1 -> width-2
      pending_ = false;
      return absl::OkStatus();
    case '\n':
      LineFeed();
      return absl::OkStatus();
    case '\r':
      x_ = 0;
      pending_ = false;
      return absl::OkStatus();
    default:
      return Invalid("control character outside the subset", at_);
  }
}

void Applier::LineFeed() {
  pending_ = false;
  if (y_ == bottom_) {
    fb_.ScrollUp(top_, bottom_, 1, Renditions::BackgroundOnly(pen_.bg));
  } else if (y_ < height() - 1) {
    ++y_;
  }
}

absl::Status Applier::Escape(absl::string_view in, size_t* pos) {
  if (*pos >= in.size()) return Invalid("truncated escape", at_);
  const char c = in[(*pos)++];
  if (c == '[') return Csi(in, pos);
  if (c == '=' || c == '>') {
    fb_.mutable_modes()->application_keypad = c == '=';
    return absl::OkStatus();
  }
  if (c != ']') return Invalid("escape outside the subset", at_);
  // OSC: up to BEL or ESC backslash.
  for (size_t end = *pos; end < in.size(); ++end) {
    if (in[end] == '\x07' || (in[end] == '\x1b' && end + 1 < in.size() &&
                              in[end + 1] == '\\')) {
      absl::string_view body = in.substr(*pos, end - *pos);
      *pos = end + (in[end] == '\x07' ? 1 : 2);
      return Osc(body);
    }
    if (in[end] == '\x1b') break;
  }
  return Invalid("unterminated OSC", at_);
}

absl::Status Applier::Osc(absl::string_view body) {
  for (char c : body) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Invalid("control character in OSC", at_);
    }
  }
  const size_t semi = body.find(';');
  if (semi == absl::string_view::npos) return Invalid("bad OSC", at_);
  const absl::string_view kind = body.substr(0, semi);
  const absl::string_view rest = body.substr(semi + 1);
  if (kind == "0" || kind == "1") fb_.set_icon_name(std::string(rest));
  if (kind == "0" || kind == "2") fb_.set_title(std::string(rest));
  if (kind == "0" || kind == "1" || kind == "2") return absl::OkStatus();
  const size_t semi2 = rest.find(';');
  if (semi2 == absl::string_view::npos) return Invalid("bad OSC", at_);
  const absl::string_view first = rest.substr(0, semi2);
  const absl::string_view second = rest.substr(semi2 + 1);
  if (kind == "52") {
    fb_.set_clipboard({std::string(first), std::string(second)});
    return absl::OkStatus();
  }
  if (kind != "8") return Invalid("OSC outside the subset", at_);
  if (second.empty()) {
    link_ = nullptr;
    return absl::OkStatus();
  }
  auto link = std::make_shared<Hyperlink>();
  link->uri = std::string(second);
  for (absl::string_view param : absl::StrSplit(first, ':')) {
    if (absl::ConsumePrefix(&param, "id=")) link->id = std::string(param);
  }
  link_ = std::move(link);
  return absl::OkStatus();
}

absl::Status Applier::Csi(absl::string_view in, size_t* pos) {
  CsiSequence csi;
  if (*pos < in.size() && in[*pos] == '?') csi.is_private = true, ++*pos;
  const size_t begin = *pos;
  while (*pos < in.size() &&
         (absl::ascii_isdigit(in[*pos]) || in[*pos] == ';')) {
    ++*pos;
  }
  if (*pos - begin > 64) return Invalid("CSI too long", at_);
  if (*pos > begin) {
    for (absl::string_view p :
         absl::StrSplit(in.substr(begin, *pos - begin), ';')) {
      int value = 0;
      if (!p.empty() && !absl::SimpleAtoi(p, &value)) {
        return Invalid("bad CSI parameter", at_);
      }
      csi.params.push_back(std::min(value, 65535));
    }
  }
  if (*pos < in.size() && in[*pos] == ' ') csi.space = true, ++*pos;
  if (*pos >= in.size()) return Invalid("truncated CSI", at_);
  csi.final = in[(*pos)++];
  if (csi.is_private) return PrivateModes(csi);
  if (csi.space) return CursorStyle(csi);
  return Dispatch(csi);
}

absl::Status Applier::Dispatch(const CsiSequence& csi) {
  switch (csi.final) {
    case 'H':
      MoveCursor(csi.param(0, 1) - 1, csi.param(1, 1) - 1);
      return absl::OkStatus();
    case 'J':
      if (csi.params.empty() || (csi.params.size() == 1 && csi.params[0] == 0)) {
        // ED 0: from the cursor to the end of the screen.
        EraseCells(x_, width());
        for (int y = y_ + 1; y < height(); ++y) {
          fb_.SetRow(y, Row(width(), Renditions::BackgroundOnly(pen_.bg)));
        }
        return absl::OkStatus();
      }
      if (csi.params.size() != 1 || csi.params[0] != 2) break;
      fb_.EraseAll(Renditions::BackgroundOnly(pen_.bg));
      pending_ = false;
      return absl::OkStatus();
    case 'K':
      if (csi.param(0, 0) != 0) break;
      EraseCells(x_, width());
      return absl::OkStatus();
    case 'X':
      EraseCells(x_, x_ + csi.param(0, 1));
      return absl::OkStatus();
    case 'm':
      return Sgr(csi.params);
    case 'r':
      SetScrollRegion(csi.param(0, 1) - 1, csi.param(1, height()) - 1);
      return absl::OkStatus();
    default:
      break;
  }
  return Invalid("CSI outside the subset", at_);
}

absl::Status Applier::PrivateModes(const CsiSequence& csi) {
  if ((csi.final != 'h' && csi.final != 'l') || csi.space ||
      csi.params.empty()) {
    return Invalid("private CSI outside the subset", at_);
  }
  for (int mode : csi.params) {
    absl::Status status = DecMode(mode, csi.final == 'h');
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Applier::CursorStyle(const CsiSequence& csi) {
  if (csi.final != 'q' || csi.params.size() > 1 || csi.param(0, 0) > 6) {
    return Invalid("CSI outside the subset", at_);
  }
  const int n = csi.param(0, 1);  // DECSCUSR 0 and 1: blinking block
  Cursor* cursor = fb_.mutable_cursor();
  cursor->shape = n <= 2   ? CursorShape::kBlock
                  : n <= 4 ? CursorShape::kUnderline
                           : CursorShape::kBar;
  cursor->blinking = n % 2 == 1;
  return absl::OkStatus();
}

// CUP: in origin mode rows count from the region top and stay inside it.
void Applier::MoveCursor(int row, int col) {
  const bool origin = fb_.modes().origin_mode;
  if (origin) row += top_;
  y_ = std::clamp(row, origin ? top_ : 0, origin ? bottom_ : height() - 1);
  x_ = std::clamp(col, 0, width() - 1);
  pending_ = false;
}

// DECSTBM: an invalid region is ignored; a valid one homes the cursor.
void Applier::SetScrollRegion(int top, int bottom) {
  if (top >= bottom || bottom >= height()) return;
  top_ = top, bottom_ = bottom;
  y_ = fb_.modes().origin_mode ? top_ : 0;
  x_ = 0;
  pending_ = false;
}

void Applier::EraseCells(int begin, int end) {
  end = std::min(end, width());
  Row* row = fb_.MutableRow(y_);
  row->Erase(begin, end, Renditions::BackgroundOnly(pen_.bg));
  if (end == width()) row->set_wrapped(false);
  pending_ = false;
}

absl::Status Applier::Sgr(const std::vector<int>& params) {
  static constexpr Attribute kByCode[10] = {
      Attribute(0), kBold, kFaint,   kItalic,    kUnderline,
      kBlink,       Attribute(0), kInverse, kInvisible, kStrikethrough};
  if (params.empty()) pen_ = Renditions();
  for (size_t i = 0; i < params.size(); ++i) {
    const int p = params[i];
    if (p == 0) {
      pen_ = Renditions();
    } else if (p < 10 && kByCode[p] != 0) {
      pen_.set(kByCode[p], true);
    } else if ((p >= 30 && p <= 37) || (p >= 40 && p <= 47)) {
      (p < 40 ? pen_.fg : pen_.bg) = Color::Ansi(p % 10);
    } else if ((p >= 90 && p <= 97) || (p >= 100 && p <= 107)) {
      (p < 100 ? pen_.fg : pen_.bg) = Color::Ansi(8 + (p % 10));
    } else if (p == 39 || p == 49) {
      (p == 39 ? pen_.fg : pen_.bg) = Color::Default();
    } else if (p == 38 || p == 48) {
      Color& color = p == 38 ? pen_.fg : pen_.bg;
      auto in_byte = [&](size_t k) { return k < params.size() && params[k] < 256; };
      if (in_byte(i + 2) && i + 1 < params.size() && params[i + 1] == 5) {
        color = Color::Indexed(params[i + 2]);
        i += 2;
      } else if (in_byte(i + 2) && in_byte(i + 3) && in_byte(i + 4) &&
                 params[i + 1] == 2) {
        color = Color::Rgb(params[i + 2], params[i + 3], params[i + 4]);
        i += 4;
      } else {
        return Invalid("bad extended colour", at_);
      }
    } else {
      return Invalid("SGR outside the subset", at_);
    }
  }
  return absl::OkStatus();
}

absl::Status Applier::DecMode(int mode, bool on) {
  Modes* modes = fb_.mutable_modes();
  switch (mode) {
    case 1: modes->application_cursor_keys = on; break;
    case 5: modes->reverse_video = on; break;
    case 6:
      modes->origin_mode = on;
      y_ = on ? top_ : 0, x_ = 0, pending_ = false;
      break;
    case 7: modes->autowrap = on; break;
    case 25: fb_.mutable_cursor()->visible = on; break;
    case 1004: modes->focus_events = on; break;
    case 1049: modes->alternate_screen = on; break;
    case 2004: modes->bracketed_paste = on; break;
    case 9: case 1000: case 1001: case 1002: case 1003:
      // mosh sends 1001 (highlight tracking) too; core models it as normal.
      modes->mouse_tracking = !on ? MouseTracking::kNone
                              : mode == 9    ? MouseTracking::kX10
                              : mode <= 1001 ? MouseTracking::kNormal
                              : mode == 1002 ? MouseTracking::kButton
                                             : MouseTracking::kAnyEvent;
      break;
    case 1005: case 1006: case 1015:
      modes->mouse_encoding = !on ? MouseEncoding::kDefault
                              : mode == 1005 ? MouseEncoding::kUtf8
                              : mode == 1006 ? MouseEncoding::kSgr
                                             : MouseEncoding::kUrxvt;
      break;
    default:
      return Invalid(absl::StrCat("DEC mode ", mode, " outside the subset"), at_);
  }
  return absl::OkStatus();
}

absl::Status Applier::Print(char32_t cp) {
  const int w = CharWidth(cp);
  if (w < 0) return Invalid("non-printable character", at_);
  if (w == 0) return Combine(cp);
  const bool autowrap = fb_.modes().autowrap;
  if (pending_ && autowrap) {
    fb_.MutableRow(y_)->set_wrapped(true);
    LineFeed();
    x_ = 0;
    if (fb_.row(height() - 1).wrapped()) {
      fb_.MutableRow(height() - 1)->set_wrapped(false);
    }
  }
  pending_ = false;
  if (w == 2 && x_ == width() - 1 && autowrap && width() > 1) {
    // Early wrap: blank the last cell (the row is not marked wrapped) and
    // continue on the next row.
    Row* row = fb_.MutableRow(y_);
    row->Erase(x_, x_ + 1, Renditions::BackgroundOnly(pen_.bg));
    row->set_wrapped(false);
    LineFeed();
    x_ = 0;
  }
  Cell cell;
  AppendUtf8(cp, &cell.text);
  cell.width = static_cast<uint8_t>(w);
  cell.renditions = pen_;
  cell.link = link_;
  fb_.MutableRow(y_)->Set(x_, std::move(cell));
  x_ += w;
  if (x_ >= width()) {
    x_ = width() - 1;
    pending_ = autowrap;
  }
  return absl::OkStatus();
}

absl::Status Applier::Combine(char32_t cp) {
  int col = pending_ ? width() - 1 : x_ - 1;
  if (col >= 0 && fb_.cell(y_, col).is_continuation()) --col;
  if (col < 0) return Invalid("combining character without a base", at_);
  Cell cell = fb_.cell(y_, col);
  // A blank cell is a space: mosh-server sends e.g. " " U+200B as is.
  if (cell.is_blank()) cell.text = " ";
  AppendUtf8(cp, &cell.text);
  if (cell.text.size() > kMaxCellTextBytes) return absl::OkStatus();  // dropped
  fb_.MutableRow(y_)->Set(col, std::move(cell));
  return absl::OkStatus();
}

}  // namespace

Framebuffer ApplyLenient(const Framebuffer& from, absl::string_view diff, int* skipped) {
  int ignored = 0;
  Applier applier(from);
  applier.set_lenient(skipped != nullptr ? skipped : &ignored);
  // Lenient: what cannot be applied was skipped and counted; the rest stands.
  applier.Run(diff).IgnoreError();
  return applier.Result();
}

absl::StatusOr<Framebuffer> Apply(const Framebuffer& from,
                                  absl::string_view diff) {
  Applier applier(from);
  absl::Status status = applier.Run(diff);
  if (!status.ok()) return status;
  return applier.Result();
}

}  // namespace moshx::core
