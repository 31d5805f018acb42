// TransportBuffers.Instruction, the message of mosh's SSP that fragments
// carry (docs/protocol.md §6.1), encoded by hand. Its `diff` is opaque
// here: the application's UserMessage/HostMessage live in
// core/protocol/messages.h, and net/ never looks inside them.
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
// Room for moshx-mode extensions: field numbers 100..199 (constants below;
// mosh's proto2 schema has no field there). Until they are modelled they
// travel in `unknown_fields`, so nothing is lost when an Instruction is
// parsed and re-serialized. mosh peers never see them (moshx mode only).
//
// Thread-safety: plain value types.
#ifndef MOSHX_NET_INSTRUCTION_H_
#define MOSHX_NET_INSTRUCTION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/packet_format.h"

namespace moshx::net {

// Field numbers of TransportBuffers.Instruction (docs/protocol.md §6.1).
namespace field {
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr uint32_t kOldNum = 2;
inline constexpr uint32_t kNewNum = 3;
inline constexpr uint32_t kAckNum = 4;
inline constexpr uint32_t kThrowawayNum = 5;
inline constexpr uint32_t kDiff = 6;
inline constexpr uint32_t kChaff = 7;

// Reserved for moshx-mode extensions of the transport Instruction (never
// sent to mosh peers).
inline constexpr uint32_t kMoshxExtensionFirst = 100;
inline constexpr uint32_t kMoshxExtensionLast = 199;
}  // namespace field

// TransportBuffers.Instruction.
struct Instruction {
  uint32_t protocol_version = kProtocolVersion;
  uint64_t old_num = 0;
  uint64_t new_num = 0;
  uint64_t ack_num = 0;
  uint64_t throwaway_num = 0;
  std::string diff;            // the application's diff, opaque to net/
  std::string chaff;           // 0-16 random bytes, ignored
  std::string unknown_fields;  // verbatim, re-emitted by Serialize()

  std::string Serialize() const;
  static absl::StatusOr<Instruction> Parse(absl::string_view bytes);

  // InvalidArgument("mosh protocol version mismatch") unless version == 2.
  absl::Status CheckProtocolVersion() const;

  friend bool operator==(const Instruction& a, const Instruction& b);
  friend bool operator!=(const Instruction& a, const Instruction& b) { return !(a == b); }
};

}  // namespace moshx::net

#endif  // MOSHX_NET_INSTRUCTION_H_
