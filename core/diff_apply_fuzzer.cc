// Fuzzes the diff engine and its applier:
//  1. two related framebuffers are built from the input bytes (the second is
//     the first plus more edits); Apply(a, Diff(a, b)) must equal b;
//  2. the raw input is fed to Apply, which must return a Status, never crash;
//     whatever it accepts must be a valid framebuffer that Diff reproduces.
// Any violation aborts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "core/char_width.h"
#include "core/diff.h"
#include "core/framebuffer.h"

namespace moshx::core {
namespace {

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  int Below(int n) { return n <= 0 ? 0 : Next() % n; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

Color ColorFrom(Bytes& in) {
  switch (in.Below(5)) {
    case 1: return Color::Indexed(in.Next());
    case 2: return Color::Rgb(in.Next(), in.Next(), in.Next());
    case 3: return Color::Ansi(in.Next() & 15);
    default: return Color::Default();
  }
}

Cell CellFrom(Bytes& in) {
  static constexpr char32_t kChars[] = {'a', 'Z', '~', 0xE9, 0x4E2D, 0xAC00,
                                        0x1F600, 0x3042};
  Cell cell;
  const int kind = in.Below(10);
  if (kind < 8) {
    AppendUtf8(kChars[kind], &cell.text);
    cell.width = static_cast<uint8_t>(CharWidth(kChars[kind]));
    if (in.Below(4) == 0) AppendUtf8(0x0301, &cell.text);
  }
  if (in.Below(2)) {
    cell.renditions.attributes = in.Next();
    cell.renditions.fg = ColorFrom(in);
    cell.renditions.bg = ColorFrom(in);
  }
  if (in.Below(8) == 0) {
    cell.link = std::make_shared<Hyperlink>(Hyperlink{in.Below(2) ? "i" : "", "u:x"});
  }
  return cell;
}

// Applies edits from the input until it runs out or an end marker.
void Edit(Bytes& in, Framebuffer* fb) {
  const int w = fb->width(), h = fb->height();
  while (!in.empty()) {
    switch (in.Below(12)) {
      case 0: return;
      case 1: {
        const int y = in.Below(h);
        fb->MutableRow(y)->set_wrapped(y < h - 1 && in.Below(2));
        break;
      }
      case 2: fb->ScrollUp(0, in.Below(h), 1 + in.Below(h), Renditions()); break;
      case 3: fb->MutableRow(in.Below(h))->Erase(in.Below(w), in.Below(w + 1), Renditions::BackgroundOnly(ColorFrom(in))); break;
      case 4: fb->mutable_cursor()->row = in.Below(h), fb->mutable_cursor()->col = in.Below(w); break;
      case 5: {
        Cursor* c = fb->mutable_cursor();
        c->visible = in.Below(2), c->shape = static_cast<CursorShape>(in.Below(3)), c->blinking = in.Below(2);
        break;
      }
      case 6: {
        Modes* m = fb->mutable_modes();
        const uint8_t bits = in.Next();
        m->application_cursor_keys = bits & 1, m->application_keypad = bits & 2;
        m->bracketed_paste = bits & 4, m->focus_events = bits & 8;
        m->alternate_screen = bits & 16, m->origin_mode = bits & 32;
        m->autowrap = bits & 64, m->reverse_video = bits & 128;
        m->mouse_tracking = static_cast<MouseTracking>(in.Below(5));
        m->mouse_encoding = static_cast<MouseEncoding>(in.Below(4));
        break;
      }
      case 7: fb->set_title(std::string(in.Below(3), 'x')); break;
      case 8: fb->set_icon_name(std::string(in.Below(3), 'y')); break;
      default: fb->MutableRow(in.Below(h))->Set(in.Below(w), CellFrom(in)); break;
    }
  }
}

void CheckRoundTrip(const Framebuffer& a, const Framebuffer& b) {
  Framebuffer start = a;
  start.Resize(b.width(), b.height());
  absl::StatusOr<Framebuffer> applied = Apply(start, Diff(a, b));
  if (!applied.ok() || *applied != b) std::abort();
}

}  // namespace
}  // namespace moshx::core

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace moshx::core;
  Bytes in(data, size);
  Framebuffer a(1 + in.Below(30), 1 + in.Below(10));
  Edit(in, &a);
  Framebuffer b = a;
  if (in.Below(4) == 0) b.Resize(1 + in.Below(30), 1 + in.Below(10));
  Edit(in, &b);
  b.set_bell_count(a.bell_count() + in.Below(4));
  if (!a.Validate().ok() || !b.Validate().ok()) std::abort();
  CheckRoundTrip(a, b);

  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Framebuffer> result = Apply(a, raw);
  if (result.ok()) {
    if (!result->Validate().ok()) std::abort();
    if (result->bell_count() - a.bell_count() <= kMaxBells) {
      CheckRoundTrip(a, *result);
    }
  }
  return 0;
}
