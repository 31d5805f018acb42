// The client's notification bar: the one-line status mosh draws over the top
// row ("mosh: Last contact 7 seconds ago. [To quit: Ctrl-^ .]").
//
// Pure logic, no clock: every call takes `now`, a monotonic time measured from
// an arbitrary epoch (the caller's clock's), so tests run in virtual time.
// Texts, thresholds and drawing follow mosh 1.4 exactly
// (docs/prediction.md §B):
//   - "server late": more than 6.5 s since the newest server state arrived
//     (two lost 3 s heartbeats plus 0.5 s);
//   - "reply late": more than 10 s since the send time of the newest client
//     state the server acknowledged;
//   - temporary messages last 1 s, network errors 3.1 s (the 3 s heartbeat
//     interval plus 0.1 s), permanent ones until replaced or cleared.
//
// Thread-safety: none; one owner on the client's loop thread.
#ifndef MOSHX_CORE_NOTIFICATION_BAR_H_
#define MOSHX_CORE_NOTIFICATION_BAR_H_

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "core/framebuffer.h"

namespace moshx::core {

class NotificationBar {
 public:
  enum class Kind {
    kTemporary,     // expires after 1 s
    kPermanent,     // stays until replaced or cleared
    kNetworkError,  // expires after 3.1 s; shortened once sends succeed again
  };

  // `quit_key_name` is how the quit hint names the escape key ("Ctrl-^",
  // "Ctrl-B", "\"~\""); empty means the escape key is disabled and no quit
  // hint is shown. `now` starts the contact timers.
  NotificationBar(std::string quit_key_name, absl::Duration now);

  // A new server state arrived at `t` (heartbeats count).
  void ServerHeard(absl::Duration t) { last_word_from_server_ = t; }
  // The newest client state the server acknowledged was sent at `t`.
  void ServerAcked(absl::Duration t) { last_acked_state_ = t; }

  // Shows `message`. `with_quit_hint` false is for the escape-key help line.
  void SetMessage(std::string message, Kind kind, absl::Duration now,
                  bool with_quit_hint = true);
  void ClearMessage();
  // Sends work again: a showing network error lasts at most 1 s more.
  void ClearNetworkError(absl::Duration now);
  // Names the path the session travels when it is not the usual one (moshx's
  // "via SSH", docs/ssh-path.md §5): every line the bar shows then carries
  // " [NOTE]" before the quit hint. Empty (the default, and always in mosh
  // mode): the lines are mosh 1.4's exactly. Shows no bar by itself.
  void set_path_note(std::string note) { path_note_ = std::move(note); }
  const std::string& path_note() const { return path_note_; }
  // The message currently set (possibly expired), for tests and callers that
  // must know whether e.g. the escape help is showing.
  const std::string& message() const { return message_; }
  bool showing_network_error() const { return network_error_; }

  // The bar's text at `now`, or "" when no bar is shown.
  std::string Line(absl::Duration now) const;

  // Draws the bar over row 0 of `fb` (white on blue, text bold), hiding the
  // cursor when it sits on row 0. Does nothing when Line(now) is empty.
  void Draw(absl::Duration now, Framebuffer* fb) const;

  // How long until the bar may change on its own (a message expiring, the
  // count-up ticking: every 1 s, every 3 s after a minute without contact).
  // absl::InfiniteDuration() when nothing will change without new input.
  absl::Duration WaitTime(absl::Duration now) const;

 private:
  bool ServerLate(absl::Duration now) const;
  bool ReplyLate(absl::Duration now) const;
  bool MessageActive(absl::Duration now) const;

  std::string quit_hint_;  // " [To quit: Ctrl-^ .]" or ""
  absl::Duration last_word_from_server_;
  absl::Duration last_acked_state_;
  std::string message_;
  std::string path_note_;
  bool message_has_hint_ = true;
  bool network_error_ = false;
  absl::Duration message_expiry_ = absl::InfiniteDuration();
};

// "7 seconds" / "1:05" / "1:00:05" (count-up form) or, with `short_form`,
// "7 s" / "1:05" / "1:00:05" (the form used next to a message).
std::string FormatElapsed(absl::Duration elapsed, bool short_form);

}  // namespace moshx::core

#endif  // MOSHX_CORE_NOTIFICATION_BAR_H_
