// UserStream: the client -> server synchronized state (docs/protocol.md
// §7.1): the ever-growing sequence of user events, each one raw byte typed or
// one window resize.
//
// It satisfies net/sync_state.h. Diffs are serialized ClientBuffers.UserMessage
// (core/protocol/messages.h), byte-compatible with mosh: consecutive bytes coalesce
// into one Keystroke instruction, each resize is its own instruction. Events
// are numbered from the start of the session; Subtract() forgets an
// acknowledged prefix so sent states stay small, while the numbering
// (end_index) keeps counting.
//
// ApplyDiff rejects a resize with a non-positive or absurd size (a real
// mosh-server would abort on it; moshx drops the diff instead).
//
// Value type; not thread-safe.
#ifndef MOSHX_CORE_PROTOCOL_USER_STREAM_H_
#define MOSHX_CORE_PROTOCOL_USER_STREAM_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::protocol {

struct UserEvent {
  bool is_resize = false;
  char byte = 0;    // !is_resize
  int width = 0;    // is_resize
  int height = 0;   // is_resize
  friend bool operator==(const UserEvent& a, const UserEvent& b) {
    return a.is_resize == b.is_resize && a.byte == b.byte && a.width == b.width &&
           a.height == b.height;
  }
};

// True for a key that interrupts the foreground program: Ctrl-C, Ctrl-Z or
// Ctrl-Backslash (the default VINTR, VSUSP and VQUIT characters). The client
// sends the state carrying it, and the server its answer, as urgent
// (net/send_scheduler.h, SendScheduler::kUrgentCopies; docs/protocol.md
// §6.4).
inline bool IsInterruptKey(char byte) { return byte == 0x03 || byte == 0x1c || byte == 0x1a; }
bool HasInterruptKey(absl::string_view bytes);

class UserStream {
 public:
  // Largest window dimension a resize may carry.
  static constexpr int kMaxDimension = 4096;

  void PushBytes(absl::string_view bytes);
  void PushResize(int width, int height);

  // Number of events since the session started (including subtracted ones).
  uint64_t end_index() const { return base_ + events_.size(); }
  // The retained events with index >= `index` (index >= the subtracted prefix).
  std::vector<UserEvent> EventsSince(uint64_t index) const;
  // Events held (not yet subtracted). On the sender, once the transport has
  // subtracted the acknowledged state, the events the peer has not
  // acknowledged.
  size_t held_events() const { return events_.size(); }
  // Memory the held events take (net/sync_state.h's optional held_bytes).
  size_t held_bytes() const { return events_.size() * sizeof(UserEvent); }

  // net/sync_state.h contract.
  std::string DiffFrom(const UserStream& reference) const;
  absl::Status ApplyDiff(absl::string_view diff);
  std::string InitDiff() const;
  void Subtract(const UserStream& prefix);
  friend bool operator==(const UserStream& a, const UserStream& b);

 private:
  uint64_t base_ = 0;               // events dropped by Subtract
  std::deque<UserEvent> events_;    // events base_, base_ + 1, ...
};

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_USER_STREAM_H_
