#include "core/protocol/messages.h"

#include <utility>

#include "absl/status/status.h"
#include "core/protocol/protobuf.h"

// Returns from the calling function when `expr` is not OK.
#define MOSHX_PROTOCOL_RETURN_IF_ERROR(expr)            \
  do {                                                  \
    ::absl::Status moshx_protocol_status_ = (expr);     \
    if (!moshx_protocol_status_.ok()) return moshx_protocol_status_; \
  } while (0)

namespace moshx::protocol {
namespace {

void KeepUnknown(const ProtoField& f, std::string* unknown) {
  unknown->append(f.raw.data(), f.raw.size());
}

absl::Status ReadUint64(const ProtoField& f, uint64_t* out) {
  MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kVarint));
  *out = f.varint;
  return absl::OkStatus();
}

absl::Status ReadBytes(const ProtoField& f, std::string* out) {
  MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
  out->assign(f.bytes.data(), f.bytes.size());
  return absl::OkStatus();
}

// Calls visit(field) for every field of `bytes`; stops at the first error.
template <typename Visit>
absl::Status ForEachField(absl::string_view bytes, Visit visit) {
  ProtoReader reader(bytes);
  ProtoField f;
  while (!reader.done()) {
    MOSHX_PROTOCOL_RETURN_IF_ERROR(reader.Next(&f));
    MOSHX_PROTOCOL_RETURN_IF_ERROR(visit(f));
  }
  return absl::OkStatus();
}

// Parses a one-bytes-field submessage (Keystroke.keys, HostBytes.hoststring).
absl::Status ParseBytesHolder(absl::string_view bytes, uint32_t number, std::string* out) {
  out->clear();
  return ForEachField(bytes, [&](const ProtoField& f) {
    return f.number == number ? ReadBytes(f, out) : absl::OkStatus();
  });
}

absl::Status ParseResize(absl::string_view bytes, Resize* resize) {
  return ForEachField(bytes, [&](const ProtoField& f) -> absl::Status {
    uint64_t v = 0;
    if (f.number != field::kWidth && f.number != field::kHeight) return absl::OkStatus();
    MOSHX_PROTOCOL_RETURN_IF_ERROR(ReadUint64(f, &v));
    // int32 on the wire: negative values are sign-extended to 64 bits.
    (f.number == field::kWidth ? resize->width : resize->height) = static_cast<int32_t>(v);
    return absl::OkStatus();
  });
}

absl::Status ParseEchoAck(absl::string_view bytes, uint64_t* echo_ack) {
  *echo_ack = 0;
  return ForEachField(bytes, [&](const ProtoField& f) {
    return f.number == field::kEchoAckNum ? ReadUint64(f, echo_ack) : absl::OkStatus();
  });
}

std::string SerializeResize(const Resize& r) {
  std::string out;
  // int32 is encoded as the sign-extended 64-bit value.
  AppendVarintField(&out, field::kWidth, static_cast<uint64_t>(int64_t{r.width}));
  AppendVarintField(&out, field::kHeight, static_cast<uint64_t>(int64_t{r.height}));
  return out;
}

std::string Wrap(uint32_t number, absl::string_view bytes) {
  std::string out;
  AppendBytesField(&out, number, bytes);
  return out;
}

absl::Status ParseUserInstruction(absl::string_view bytes, UserInstruction* in) {
  return ForEachField(bytes, [&](const ProtoField& f) -> absl::Status {
    if (f.number == field::kKeystroke) {
      MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
      in->keystroke.emplace();
      return ParseBytesHolder(f.bytes, field::kKeys, &*in->keystroke);
    }
    if (f.number == field::kResize) {
      MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
      in->resize.emplace();
      return ParseResize(f.bytes, &*in->resize);
    }
    KeepUnknown(f, &in->unknown_fields);
    return absl::OkStatus();
  });
}

absl::Status ParseHostInstruction(absl::string_view bytes, HostInstruction* in) {
  return ForEachField(bytes, [&](const ProtoField& f) -> absl::Status {
    bool known = f.number == field::kHostBytes || f.number == field::kResize ||
                 f.number == field::kEchoAck;
    if (!known) {
      KeepUnknown(f, &in->unknown_fields);
      return absl::OkStatus();
    }
    MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
    if (f.number == field::kHostBytes) {
      in->hostbytes.emplace();
      return ParseBytesHolder(f.bytes, field::kHostString, &*in->hostbytes);
    }
    if (f.number == field::kResize) {
      in->resize.emplace();
      return ParseResize(f.bytes, &*in->resize);
    }
    in->echo_ack.emplace();
    return ParseEchoAck(f.bytes, &*in->echo_ack);
  });
}

// Parses a repeated-Instruction message with `parse_one` for each element.
template <typename Element, typename ParseOne>
absl::Status ParseRepeated(absl::string_view bytes, std::vector<Element>* out,
                           std::string* unknown, ParseOne parse_one) {
  return ForEachField(bytes, [&](const ProtoField& f) -> absl::Status {
    if (f.number != field::kMessageInstruction) {
      KeepUnknown(f, unknown);
      return absl::OkStatus();
    }
    MOSHX_PROTOCOL_RETURN_IF_ERROR(ExpectWireType(f, WireType::kLengthDelimited));
    out->emplace_back();
    return parse_one(f.bytes, &out->back());
  });
}

}  // namespace

std::string UserMessage::Serialize() const {
  std::string out;
  for (const UserInstruction& in : instructions) {
    std::string body;
    if (in.keystroke) body += Wrap(field::kKeystroke, Wrap(field::kKeys, *in.keystroke));
    if (in.resize) body += Wrap(field::kResize, SerializeResize(*in.resize));
    body += in.unknown_fields;
    AppendBytesField(&out, field::kMessageInstruction, body);
  }
  return out + unknown_fields;
}

absl::StatusOr<UserMessage> UserMessage::Parse(absl::string_view bytes) {
  UserMessage message;
  MOSHX_PROTOCOL_RETURN_IF_ERROR(ParseRepeated(bytes, &message.instructions,
                                               &message.unknown_fields, ParseUserInstruction));
  return message;
}

std::string HostMessage::Serialize() const {
  std::string out;
  for (const HostInstruction& in : instructions) {
    std::string body;
    if (in.hostbytes) body += Wrap(field::kHostBytes, Wrap(field::kHostString, *in.hostbytes));
    if (in.resize) body += Wrap(field::kResize, SerializeResize(*in.resize));
    if (in.echo_ack) {
      std::string ack;
      AppendVarintField(&ack, field::kEchoAckNum, *in.echo_ack);
      body += Wrap(field::kEchoAck, ack);
    }
    body += in.unknown_fields;
    AppendBytesField(&out, field::kMessageInstruction, body);
  }
  return out + unknown_fields;
}

absl::StatusOr<HostMessage> HostMessage::Parse(absl::string_view bytes) {
  HostMessage message;
  MOSHX_PROTOCOL_RETURN_IF_ERROR(ParseRepeated(bytes, &message.instructions,
                                               &message.unknown_fields, ParseHostInstruction));
  return message;
}

}  // namespace moshx::protocol
