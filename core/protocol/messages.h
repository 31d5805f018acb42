// The application's messages: what the transport's opaque diffs contain
// (docs/protocol.md §7.1, §7.2, §6.2), encoded by hand:
//   * UserMessage  = ClientBuffers.UserMessage (client -> server diff):
//                    keystrokes and window resizes;
//   * HostMessage  = HostBuffers.HostMessage   (server -> client diff):
//                    terminal update bytes, the screen size, the echo ack;
// plus the field numbers moshx mode adds to the host diff (pty state,
// scrollback, clipboard). The transport's own TransportBuffers.Instruction,
// which carries these bytes as its `diff`, is net/instruction.h; net/ never
// looks inside a diff.
//
// Serialize() writes fields in field-number order exactly as mosh does, so
// mosh-mode output is byte-identical to the real programs'.
//
// Parse() accepts any field order, repeated scalars (last one wins, as in
// protobuf), absent fields (defaults 0/empty) and unknown fields of wire types
// 0/1/2/5, which are kept verbatim in `unknown_fields` and written back after
// the known fields by Serialize(). It rejects with InvalidArgument: truncated
// or over-long varints, lengths past the end, groups and wire types 6/7,
// field number 0, and a known field with the wrong wire type
// (core/protocol/protobuf.h).
//
// Room for moshx-mode extensions: the diff Instructions of ClientBuffers/
// HostBuffers reserve field numbers for moshx (constants below). Until they
// are modelled they travel in `unknown_fields`, so nothing is lost when a
// message is parsed and re-serialized. mosh peers never see them (moshx mode
// only).
//
// Thread-safety: plain value types.
#ifndef MOSHX_CORE_PROTOCOL_MESSAGES_H_
#define MOSHX_CORE_PROTOCOL_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::protocol {

// Field numbers of ClientBuffers / HostBuffers (docs/protocol.md §7.1–§7.2).
namespace field {
inline constexpr uint32_t kMessageInstruction = 1;  // repeated Instruction
inline constexpr uint32_t kKeystroke = 2;           // user: Keystroke
inline constexpr uint32_t kHostBytes = 2;           // host: HostBytes
inline constexpr uint32_t kResize = 3;              // both: ResizeMessage
inline constexpr uint32_t kEchoAck = 7;             // host: EchoAck
inline constexpr uint32_t kKeys = 4;                // Keystroke.keys
inline constexpr uint32_t kHostString = 4;          // HostBytes.hoststring
inline constexpr uint32_t kWidth = 5;               // ResizeMessage.width
inline constexpr uint32_t kHeight = 6;              // ResizeMessage.height
inline constexpr uint32_t kEchoAckNum = 8;          // EchoAck.echo_ack_num

// Reserved for moshx-mode extensions of the diff Instructions (never sent to
// mosh peers; mosh's schema declares "extensions 2 to max" there), 100..199.
inline constexpr uint32_t kMoshxExtensionFirst = 100;
inline constexpr uint32_t kMoshxExtensionLast = 199;
inline constexpr uint32_t kMoshxPtyEchoState = 100;  // host diff: pty ECHO/ICANON
inline constexpr uint32_t kMoshxScrollback = 101;    // host diff: scrollback lines
inline constexpr uint32_t kMoshxClipboard = 102;     // host diff: OSC 52 events
inline constexpr uint32_t kMoshxSuperseded = 103;    // host diff: another client attached
}  // namespace field

// ResizeMessage. Values are not range-checked here; senders must never send
// <= 0 (it aborts mosh-server, docs/protocol.md §7.1), receivers decide.
struct Resize {
  int32_t width = 0;
  int32_t height = 0;
  friend bool operator==(const Resize& a, const Resize& b) {
    return a.width == b.width && a.height == b.height;
  }
};

// One ClientBuffers.Instruction. Normally exactly one of keystroke/resize is
// set; a Keystroke without its keys field parses as an empty string.
struct UserInstruction {
  std::optional<std::string> keystroke;  // raw key bytes
  std::optional<Resize> resize;
  std::string unknown_fields;
  friend bool operator==(const UserInstruction& a, const UserInstruction& b) {
    return a.keystroke == b.keystroke && a.resize == b.resize &&
           a.unknown_fields == b.unknown_fields;
  }
};

struct UserMessage {
  std::vector<UserInstruction> instructions;
  std::string unknown_fields;

  std::string Serialize() const;
  static absl::StatusOr<UserMessage> Parse(absl::string_view bytes);
  friend bool operator==(const UserMessage& a, const UserMessage& b) {
    return a.instructions == b.instructions && a.unknown_fields == b.unknown_fields;
  }
};

// One HostBuffers.Instruction; the real server emits echo_ack, resize and
// hostbytes as separate Instructions, in that order.
struct HostInstruction {
  std::optional<std::string> hostbytes;  // terminal update string
  std::optional<Resize> resize;
  std::optional<uint64_t> echo_ack;
  std::string unknown_fields;
  friend bool operator==(const HostInstruction& a, const HostInstruction& b) {
    return a.hostbytes == b.hostbytes && a.resize == b.resize && a.echo_ack == b.echo_ack &&
           a.unknown_fields == b.unknown_fields;
  }
};

struct HostMessage {
  std::vector<HostInstruction> instructions;
  std::string unknown_fields;

  std::string Serialize() const;
  static absl::StatusOr<HostMessage> Parse(absl::string_view bytes);
  friend bool operator==(const HostMessage& a, const HostMessage& b) {
    return a.instructions == b.instructions && a.unknown_fields == b.unknown_fields;
  }
};

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_MESSAGES_H_
