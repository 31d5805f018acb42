#include "core/protocol/terminal_state.h"

#include "absl/strings/str_cat.h"
#include "core/diff.h"
#include "core/protocol/messages.h"
#include "core/protocol/protobuf.h"

namespace moshx::protocol {
namespace {

// PtyEchoState fields (inside field::kMoshxPtyEchoState).
constexpr uint32_t kEchoField = 1;
constexpr uint32_t kCanonicalField = 2;
constexpr uint32_t kShellForegroundField = 3;
constexpr uint32_t kForegroundField = 4;
constexpr uint32_t kSettledField = 5;
constexpr uint32_t kFreshField = 6;  // written only while true
// Superseded fields (inside field::kMoshxSuperseded).
constexpr uint32_t kNewClientAddressField = 1;

bool IsAddressText(absl::string_view text) {
  if (text.size() > Superseded::kMaxAddressLength) return false;
  for (char c : text) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    c == '.' || c == ':' || c == '[' || c == ']' || c == '%' || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EncodeSuperseded(const Superseded& s) {
  std::string payload;
  if (!s.new_client_address.empty() && IsAddressText(s.new_client_address)) {
    AppendBytesField(&payload, kNewClientAddressField, s.new_client_address);
  }
  std::string out;
  AppendBytesField(&out, field::kMoshxSuperseded, payload);
  return out;
}

absl::Status DecodeSuperseded(absl::string_view payload, Superseded* s) {
  ProtoReader reader(payload);
  while (!reader.done()) {
    ProtoField f;
    if (absl::Status st = reader.Next(&f); !st.ok()) return st;
    if (f.number != kNewClientAddressField) continue;  // room to grow
    if (f.type != WireType::kLengthDelimited || !IsAddressText(f.bytes)) {
      return absl::InvalidArgumentError("bad superseded extension");
    }
    s->new_client_address = std::string(f.bytes);
  }
  return absl::OkStatus();
}

std::string EncodePtyState(const PtyState& s) {
  std::string payload;
  AppendVarintField(&payload, kEchoField, s.echo);
  AppendVarintField(&payload, kCanonicalField, s.canonical);
  AppendVarintField(&payload, kShellForegroundField, s.shell_foreground);
  AppendVarintField(&payload, kForegroundField, s.foreground);
  AppendVarintField(&payload, kSettledField, s.settled);
  if (s.fresh) AppendVarintField(&payload, kFreshField, 1);
  std::string out;
  AppendBytesField(&out, field::kMoshxPtyEchoState, payload);
  return out;
}

absl::Status DecodePtyState(absl::string_view payload, PtyState* s) {
  ProtoReader reader(payload);
  while (!reader.done()) {
    ProtoField f;
    if (absl::Status st = reader.Next(&f); !st.ok()) return st;
    if (f.type != WireType::kVarint) continue;  // room to grow
    if (f.number == kEchoField) s->echo = f.varint != 0;
    if (f.number == kCanonicalField) s->canonical = f.varint != 0;
    if (f.number == kShellForegroundField) s->shell_foreground = f.varint != 0;
    if (f.number == kForegroundField) s->foreground = static_cast<uint32_t>(f.varint);
    if (f.number == kSettledField) s->settled = f.varint != 0;
    if (f.number == kFreshField) s->fresh = f.varint != 0;
  }
  return absl::OkStatus();
}

// Finds the moshx extensions among an Instruction's unknown fields.
absl::Status ReadExtensions(absl::string_view unknown, std::optional<PtyState>* out,
                            std::optional<Superseded>* superseded) {
  ProtoReader reader(unknown);
  while (!reader.done()) {
    ProtoField f;
    if (absl::Status st = reader.Next(&f); !st.ok()) return st;
    if (f.number == field::kMoshxSuperseded) {
      if (f.type != WireType::kLengthDelimited) {
        return absl::InvalidArgumentError("bad superseded extension");
      }
      Superseded s;
      if (absl::Status st = DecodeSuperseded(f.bytes, &s); !st.ok()) return st;
      *superseded = std::move(s);
      continue;
    }
    if (f.number != field::kMoshxPtyEchoState) continue;
    if (f.type != WireType::kLengthDelimited) {
      return absl::InvalidArgumentError("bad pty state extension");
    }
    PtyState s;
    if (absl::Status st = DecodePtyState(f.bytes, &s); !st.ok()) return st;
    *out = s;
  }
  return absl::OkStatus();
}

}  // namespace

std::string TerminalState::DiffFrom(const TerminalState& reference) const {
  HostMessage message;
  if (echo_ack_ != reference.echo_ack_) {
    message.instructions.emplace_back().echo_ack = echo_ack_;
  }
  if (pty_state_.has_value() && pty_state_ != reference.pty_state_) {
    message.instructions.emplace_back().unknown_fields = EncodePtyState(*pty_state_);
  }
  if (superseded_.has_value() && superseded_ != reference.superseded_) {
    message.instructions.emplace_back().unknown_fields = EncodeSuperseded(*superseded_);
  }
  if (!(framebuffer_ == reference.framebuffer_)) {
    const core::Framebuffer& ref = reference.framebuffer_;
    if (ref.width() != framebuffer_.width() || ref.height() != framebuffer_.height()) {
      message.instructions.emplace_back().resize =
          Resize{framebuffer_.width(), framebuffer_.height()};
    }
    std::string bytes = core::Diff(ref, framebuffer_);
    if (!bytes.empty()) message.instructions.emplace_back().hostbytes = std::move(bytes);
  }
  if (message.instructions.empty()) return "";
  return message.Serialize();
}

absl::Status TerminalState::ApplyDiff(absl::string_view diff) {
  absl::StatusOr<HostMessage> message = HostMessage::Parse(diff);
  if (!message.ok()) return message.status();
  for (const HostInstruction& inst : message->instructions) {
    if (!inst.unknown_fields.empty()) {
      if (absl::Status st = ReadExtensions(inst.unknown_fields, &pty_state_, &superseded_); !st.ok()) {
        return st;
      }
    }
    if (inst.hostbytes.has_value() && lenient_apply_) {
      framebuffer_ = core::ApplyLenient(framebuffer_, *inst.hostbytes, &skipped_sequences_);
    } else if (inst.hostbytes.has_value()) {
      absl::StatusOr<core::Framebuffer> next = core::Apply(framebuffer_, *inst.hostbytes);
      if (!next.ok()) return next.status();
      framebuffer_ = *std::move(next);
    } else if (inst.resize.has_value()) {
      const Resize& r = *inst.resize;
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

}  // namespace moshx::protocol
