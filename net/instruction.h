// The three protobuf messages of mosh's SSP, encoded by hand
// (spec mosh-protocol.md §5.2–§5.5):
//   * Instruction  = TransportBuffers.Instruction (what fragments carry)
//   * UserMessage  = ClientBuffers.UserMessage (client -> server diff)
//   * HostMessage  = HostBuffers.HostMessage   (server -> client diff)
//
// Serialize() writes fields in field-number order exactly as mosh does (an
// Instruction always carries all seven fields, including empty diff/chaff),
// so mosh-mode output is byte-identical to the real programs'.
//
// Parse() accepts any field order, repeated scalars (last one wins, as in
// protobuf), absent fields (defaults 0/empty) and unknown fields of wire types
// 0/1/2/5, which are kept verbatim in `unknown_fields` and written back after
// the known fields by Serialize(). It rejects with InvalidArgument: truncated
// or over-long varints, lengths past the end, groups and wire types 6/7,
// field number 0, and a known field with the wrong wire type. Parse() does
// not check protocol_version; CheckProtocolVersion() does (absent reads as 0
// and is rejected, like mosh).
//
// Room for moshx-mode extensions: both TransportBuffers.Instruction and the
// diff Instructions of ClientBuffers/HostBuffers reserve field numbers for
// moshx (constants below). Until they are modelled they travel in
// `unknown_fields`, so nothing is lost when a message is parsed and
// re-serialized. mosh peers never see them (moshx mode only).
//
// Thread-safety: plain value types.
#ifndef MOSHX_NET_INSTRUCTION_H_
#define MOSHX_NET_INSTRUCTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/packet_format.h"

namespace moshx::net {

// Field numbers (spec §5.2–§5.4).
namespace field {
// TransportBuffers.Instruction
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr uint32_t kOldNum = 2;
inline constexpr uint32_t kNewNum = 3;
inline constexpr uint32_t kAckNum = 4;
inline constexpr uint32_t kThrowawayNum = 5;
inline constexpr uint32_t kDiff = 6;
inline constexpr uint32_t kChaff = 7;
// ClientBuffers / HostBuffers
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

// Reserved for moshx-mode extensions (never sent to mosh peers). Diff
// Instructions ("extensions 2 to max") use 100..199; the transport
// Instruction uses 100..199 too (mosh's proto2 schema has no field there).
inline constexpr uint32_t kMoshxExtensionFirst = 100;
inline constexpr uint32_t kMoshxExtensionLast = 199;
inline constexpr uint32_t kMoshxPtyEchoState = 100;  // host diff: pty ECHO/ICANON
inline constexpr uint32_t kMoshxScrollback = 101;    // host diff: scrollback lines
inline constexpr uint32_t kMoshxClipboard = 102;     // host diff: OSC 52 events
}  // namespace field

// TransportBuffers.Instruction.
struct Instruction {
  uint32_t protocol_version = kProtocolVersion;
  uint64_t old_num = 0;
  uint64_t new_num = 0;
  uint64_t ack_num = 0;
  uint64_t throwaway_num = 0;
  std::string diff;            // serialized UserMessage or HostMessage
  std::string chaff;           // 0-16 random bytes, ignored
  std::string unknown_fields;  // verbatim, re-emitted by Serialize()

  std::string Serialize() const;
  static absl::StatusOr<Instruction> Parse(absl::string_view bytes);

  // InvalidArgument("mosh protocol version mismatch") unless version == 2.
  absl::Status CheckProtocolVersion() const;

  friend bool operator==(const Instruction& a, const Instruction& b);
  friend bool operator!=(const Instruction& a, const Instruction& b) { return !(a == b); }
};

// ResizeMessage. Values are not range-checked here; senders must never send
// <= 0 (it aborts mosh-server, spec §14 item 8), receivers decide.
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

}  // namespace moshx::net

#endif  // MOSHX_NET_INSTRUCTION_H_
