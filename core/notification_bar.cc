#include "core/notification_bar.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/char_width.h"

namespace moshx::core {
namespace {

constexpr absl::Duration kServerLate = absl::Milliseconds(6500);
constexpr absl::Duration kReplyLate = absl::Milliseconds(10000);
constexpr absl::Duration kTemporaryLife = absl::Milliseconds(1000);
constexpr absl::Duration kNetworkErrorLife = absl::Milliseconds(3100);
// After a minute without contact the count-up slows to save power (mosh #243).
constexpr absl::Duration kSlowCountUpAfter = absl::Seconds(60);
constexpr int kMaxLineChars = 128;

Renditions BarRenditions(bool bold) {
  Renditions r;
  r.fg = Color::Ansi(7);  // SGR 37;44, as mosh draws it
  r.bg = Color::Ansi(4);
  r.set(Attribute::kBold, bold);
  return r;
}

}  // namespace

std::string FormatElapsed(absl::Duration elapsed, bool short_form) {
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(elapsed));
  if (s < 60) return absl::StrCat(s, short_form ? " s" : " seconds");
  if (s < 3600) return absl::StrFormat("%d:%02d", s / 60, s % 60);
  return absl::StrFormat("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
}

NotificationBar::NotificationBar(std::string quit_key_name, absl::Duration now)
    : quit_hint_(quit_key_name.empty() ? ""
                                       : absl::StrCat(" [To quit: ", quit_key_name, " .]")),
      last_word_from_server_(now),
      last_acked_state_(now) {}

void NotificationBar::SetMessage(std::string message, Kind kind, absl::Duration now,
                                 bool with_quit_hint) {
  message_ = std::move(message);
  message_has_hint_ = with_quit_hint;
  network_error_ = kind == Kind::kNetworkError;
  switch (kind) {
    case Kind::kTemporary: message_expiry_ = now + kTemporaryLife; break;
    case Kind::kPermanent: message_expiry_ = absl::InfiniteDuration(); break;
    case Kind::kNetworkError: message_expiry_ = now + kNetworkErrorLife; break;
  }
}

void NotificationBar::ClearMessage() {
  message_.clear();
  network_error_ = false;
  message_expiry_ = absl::InfiniteDuration();
}

void NotificationBar::ClearNetworkError(absl::Duration now) {
  if (!network_error_) return;
  network_error_ = false;
  message_expiry_ = std::min(message_expiry_, now + kTemporaryLife);
}

bool NotificationBar::ServerLate(absl::Duration now) const {
  return now - last_word_from_server_ > kServerLate;
}

bool NotificationBar::ReplyLate(absl::Duration now) const {
  return now - last_acked_state_ > kReplyLate;
}

bool NotificationBar::MessageActive(absl::Duration now) const {
  return !message_.empty() && now < message_expiry_;
}

std::string NotificationBar::Line(absl::Duration now) const {
  bool countup = ServerLate(now) || ReplyLate(now);
  bool has_message = MessageActive(now);
  if (!countup && !has_message) return "";
  // "reply" only when the uplink alone is failing.
  bool reply = ReplyLate(now) && !ServerLate(now);
  absl::Duration since = now - (reply ? last_acked_state_ : last_word_from_server_);
  const char* what = reply ? "reply" : "contact";
  std::string hint = has_message && !message_has_hint_ ? "" : quit_hint_;
  if (!path_note_.empty()) hint = absl::StrCat(" [", path_note_, "]", hint);
  if (!has_message) {
    return absl::StrCat("mosh: Last ", what, " ", FormatElapsed(since, false), " ago.", hint);
  }
  if (!countup) return absl::StrCat("mosh: ", message_, hint);
  return absl::StrCat("mosh: ", message_, " (", FormatElapsed(since, true), " without ", what,
                      ".)", hint);
}

void NotificationBar::Draw(absl::Duration now, Framebuffer* fb) const {
  std::string line = Line(now);
  if (line.empty()) return;
  Row* row = fb->MutableRow(0);
  const int width = row->width();
  for (int x = 0; x < width; ++x) row->Set(x, Cell{"", 1, BarRenditions(false), nullptr});
  size_t pos = 0;
  int col = 0;
  int chars = 0;
  char32_t cp;
  std::string previous;  // text of the cell at col - 1 (for combining marks)
  while (pos < line.size() && chars < kMaxLineChars && DecodeUtf8(line, &pos, &cp)) {
    int w = CharWidth(cp);
    ++chars;
    if (w < 0) continue;
    if (w == 0) {  // combining: attach to the previous cell (or a blank one)
      if (col == 0 || previous.empty()) {
        if (col >= width) break;
        previous = "\u00a0";
        AppendUtf8(cp, &previous);
        row->Set(col++, Cell{previous, 1, BarRenditions(true), nullptr});
      } else {
        AppendUtf8(cp, &previous);
        Cell cell = row->cell(col - 1);
        cell.text = previous;
        row->Set(col - 1, cell);
      }
      continue;
    }
    if (col + w > width) break;
    previous.clear();
    if (cp != ' ') AppendUtf8(cp, &previous);
    row->Set(col, Cell{previous, static_cast<uint8_t>(w), BarRenditions(true), nullptr});
    col += w;
  }
  if (fb->cursor().row == 0) fb->mutable_cursor()->visible = false;
}

absl::Duration NotificationBar::WaitTime(absl::Duration now) const {
  absl::Duration wait = absl::InfiniteDuration();
  if (!message_.empty() && message_expiry_ != absl::InfiniteDuration()) {
    wait = std::max(absl::ZeroDuration(), message_expiry_ - now);
  }
  if (ServerLate(now) || ReplyLate(now)) {
    absl::Duration tick = now - last_word_from_server_ > kSlowCountUpAfter ? absl::Seconds(3)
                                                                            : absl::Seconds(1);
    wait = std::min(wait, tick);
  }
  return wait;
}

}  // namespace moshx::core
