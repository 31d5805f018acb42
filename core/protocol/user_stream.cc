#include "core/protocol/user_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/protocol/messages.h"

namespace moshx::protocol {

bool HasInterruptKey(absl::string_view bytes) {
  for (char c : bytes) {
    if (IsInterruptKey(c)) return true;
  }
  return false;
}

void UserStream::PushBytes(absl::string_view bytes) {
  for (char c : bytes) events_.push_back(UserEvent{false, c, 0, 0});
}

void UserStream::PushResize(int width, int height) {
  events_.push_back(UserEvent{true, 0, width, height});
}

std::vector<UserEvent> UserStream::EventsSince(uint64_t index) const {
  uint64_t from = std::max(index, base_) - base_;
  if (from >= events_.size()) return {};
  return std::vector<UserEvent>(events_.begin() + from, events_.end());
}

std::string UserStream::DiffFrom(const UserStream& reference) const {
  UserMessage message;
  for (const UserEvent& e : EventsSince(reference.end_index())) {
    if (e.is_resize) {
      UserInstruction inst;
      inst.resize = Resize{e.width, e.height};
      message.instructions.push_back(std::move(inst));
      continue;
    }
    if (message.instructions.empty() || !message.instructions.back().keystroke.has_value()) {
      message.instructions.emplace_back();
      message.instructions.back().keystroke.emplace();
    }
    message.instructions.back().keystroke->push_back(e.byte);
  }
  if (message.instructions.empty()) return "";
  return message.Serialize();
}

absl::Status UserStream::ApplyDiff(absl::string_view diff) {
  absl::StatusOr<UserMessage> message = UserMessage::Parse(diff);
  if (!message.ok()) return message.status();
  for (const UserInstruction& inst : message->instructions) {
    if (inst.keystroke.has_value()) {
      PushBytes(*inst.keystroke);
    } else if (inst.resize.has_value()) {
      const Resize& r = *inst.resize;
      if (r.width < 1 || r.height < 1 || r.width > kMaxDimension || r.height > kMaxDimension) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad window size ", r.width, "x", r.height, " in user stream"));
      }
      PushResize(r.width, r.height);
    }
    // Instructions with neither (unknown extensions) are ignored, as in mosh.
  }
  return absl::OkStatus();
}

std::string UserStream::InitDiff() const { return DiffFrom(UserStream()); }

void UserStream::Subtract(const UserStream& prefix) {
  uint64_t drop = std::min<uint64_t>(prefix.end_index(), end_index());
  while (base_ < drop) {
    events_.pop_front();
    ++base_;
  }
}

bool operator==(const UserStream& a, const UserStream& b) {
  if (a.end_index() != b.end_index()) return false;
  // Both are states of the same sender: compare what both still hold.
  uint64_t from = std::max(a.base_, b.base_);
  return std::equal(a.events_.begin() + (from - a.base_), a.events_.end(),
                    b.events_.begin() + (from - b.base_));
}

}  // namespace moshx::protocol
