#include "cmd/terminal_state.h"

#include "absl/strings/str_cat.h"
#include "core/diff.h"
#include "net/instruction.h"

namespace moshx::cmd {

std::string TerminalState::DiffFrom(const TerminalState& reference) const {
  net::HostMessage message;
  if (echo_ack_ != reference.echo_ack_) {
    message.instructions.emplace_back().echo_ack = echo_ack_;
  }
  if (!(framebuffer_ == reference.framebuffer_)) {
    const core::Framebuffer& ref = reference.framebuffer_;
    if (ref.width() != framebuffer_.width() || ref.height() != framebuffer_.height()) {
      message.instructions.emplace_back().resize =
          net::Resize{framebuffer_.width(), framebuffer_.height()};
    }
    std::string bytes = core::Diff(ref, framebuffer_);
    if (!bytes.empty()) message.instructions.emplace_back().hostbytes = std::move(bytes);
  }
  if (message.instructions.empty()) return "";
  return message.Serialize();
}

absl::Status TerminalState::ApplyDiff(absl::string_view diff) {
  absl::StatusOr<net::HostMessage> message = net::HostMessage::Parse(diff);
  if (!message.ok()) return message.status();
  for (const net::HostInstruction& inst : message->instructions) {
    if (inst.hostbytes.has_value()) {
      absl::StatusOr<core::Framebuffer> next = core::Apply(framebuffer_, *inst.hostbytes);
      if (!next.ok()) return next.status();
      framebuffer_ = *std::move(next);
    } else if (inst.resize.has_value()) {
      const net::Resize& r = *inst.resize;
      if (r.width < 1 || r.height < 1 || r.width > kMaxDimension || r.height > kMaxDimension) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad screen size ", r.width, "x", r.height, " from server"));
      }
      framebuffer_.Resize(r.width, r.height);
    } else if (inst.echo_ack.has_value()) {
      if (*inst.echo_ack < echo_ack_) {
        return absl::InvalidArgumentError("echo ack went backwards");
      }
      echo_ack_ = *inst.echo_ack;
    }
  }
  return absl::OkStatus();
}

std::string TerminalState::InitDiff() const {
  return DiffFrom(TerminalState(framebuffer_.width(), framebuffer_.height()));
}

}  // namespace moshx::cmd
