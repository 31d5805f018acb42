#include "net/instruction.h"

#include <utility>

#include "net/status_macros.h"
#include "net/wire_format.h"

namespace moshx::net {
namespace {

void KeepUnknown(const ProtoField& f, std::string* unknown) {
  unknown->append(f.raw.data(), f.raw.size());
}

absl::Status ReadUint64(const ProtoField& f, uint64_t* out) {
  MOSHX_NET_RETURN_IF_ERROR(ExpectWireType(f, WireType::kVarint));
  *out = f.varint;
  return absl::OkStatus();
}

absl::Status ReadBytes(const ProtoField& f, std::string* out) {
  MOSHX_NET_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
  out->assign(f.bytes.data(), f.bytes.size());
  return absl::OkStatus();
}

// Calls visit(field) for every field of `bytes`; stops at the first error.
template <typename Visit>
absl::Status ForEachField(absl::string_view bytes, Visit visit) {
  ProtoReader reader(bytes);
  ProtoField f;
  while (!reader.done()) {
    MOSHX_NET_RETURN_IF_ERROR(reader.Next(&f));
    MOSHX_NET_RETURN_IF_ERROR(visit(f));
  }
  return absl::OkStatus();
}

}  // namespace

std::string Instruction::Serialize() const {
  std::string out;
  AppendVarintField(&out, field::kProtocolVersion, protocol_version);
  AppendVarintField(&out, field::kOldNum, old_num);
  AppendVarintField(&out, field::kNewNum, new_num);
  AppendVarintField(&out, field::kAckNum, ack_num);
  AppendVarintField(&out, field::kThrowawayNum, throwaway_num);
  AppendBytesField(&out, field::kDiff, diff);
  AppendBytesField(&out, field::kChaff, chaff);
  out += unknown_fields;
  return out;
}

absl::StatusOr<Instruction> Instruction::Parse(absl::string_view bytes) {
  Instruction in;
  in.protocol_version = 0;  // absent reads as 0, which CheckProtocolVersion rejects
  absl::Status status = ForEachField(bytes, [&](const ProtoField& f) -> absl::Status {
    uint64_t version = 0;
    switch (f.number) {
      case field::kProtocolVersion:
        MOSHX_NET_RETURN_IF_ERROR(ReadUint64(f, &version));
        in.protocol_version = static_cast<uint32_t>(version);  // uint32 truncates
        return absl::OkStatus();
      case field::kOldNum: return ReadUint64(f, &in.old_num);
      case field::kNewNum: return ReadUint64(f, &in.new_num);
      case field::kAckNum: return ReadUint64(f, &in.ack_num);
      case field::kThrowawayNum: return ReadUint64(f, &in.throwaway_num);
      case field::kDiff: return ReadBytes(f, &in.diff);
      case field::kChaff: return ReadBytes(f, &in.chaff);
      default:
        KeepUnknown(f, &in.unknown_fields);
        return absl::OkStatus();
    }
  });
  if (!status.ok()) return status;
  return in;
}

absl::Status Instruction::CheckProtocolVersion() const {
  if (protocol_version == kProtocolVersion) return absl::OkStatus();
  return absl::InvalidArgumentError("mosh protocol version mismatch");
}

bool operator==(const Instruction& a, const Instruction& b) {
  return a.protocol_version == b.protocol_version && a.old_num == b.old_num &&
         a.new_num == b.new_num && a.ack_num == b.ack_num &&
         a.throwaway_num == b.throwaway_num && a.diff == b.diff && a.chaff == b.chaff &&
         a.unknown_fields == b.unknown_fields;
}

}  // namespace moshx::net
