// The protobuf wire format (proto2 subset) for the application protocol's
// messages (core/protocol/messages.h): varints, length-delimited fields, and
// skipping or verbatim keeping of unknown fields. See
// https://protobuf.dev/programming-guides/encoding/ and docs/protocol.md §6.2.
//
// Why a second codec beside net/wire_format.h: net/ reads the transport's
// Instruction with BoringSSL's CBS cursor, and core/ may depend on Abseil
// only (net/ must not know these messages, core/ must not know net/). The
// two readers are deliberately the same size and equally strict; a change
// to the rules of one belongs in the other.
//
// ProtoReader walks untrusted bytes with a bounds-checked absl::string_view
// cursor; every malformed input (truncated or over-long varint, a length
// past the end, a field number of 0 or above 2^29 - 1, wire types 3/4
// (groups), 6 or 7, a truncated fixed32/fixed64) is an InvalidArgument
// Status, never a crash or an out-of-bounds read.
//
// Thread-safety: ProtoReader is a cursor over caller-owned bytes; the bytes
// must outlive it and every string_view it returns.
#ifndef MOSHX_CORE_PROTOCOL_PROTOBUF_H_
#define MOSHX_CORE_PROTOCOL_PROTOBUF_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace moshx::protocol {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};

// Largest field number protobuf allows (2^29 - 1).
inline constexpr uint32_t kMaxFieldNumber = (uint32_t{1} << 29) - 1;
// Longest varint encoding of a 64-bit value.
inline constexpr size_t kMaxVarintSize = 10;

// One decoded field. For kVarint, `varint` holds the value; for fixed types
// `varint` holds the little-endian value; for kLengthDelimited, `bytes` is
// the payload. `raw` is the whole field including its key, for verbatim
// preservation of unknown fields.
struct ProtoField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;
  absl::string_view bytes;
  absl::string_view raw;
};

class ProtoReader {
 public:
  explicit ProtoReader(absl::string_view data) : rest_(data) {}

  bool done() const { return rest_.empty(); }

  // Reads the next field. Precondition: !done(). On error the reader is
  // left somewhere inside the bad field; stop reading.
  absl::Status Next(ProtoField* field);

 private:
  absl::string_view rest_;
};

// Parses one varint from the front of *in and removes it. A varint longer
// than 10 bytes, or a 10th byte carrying more than the top bit of a uint64,
// is rejected (false; *in is then unspecified).
bool ReadVarint(absl::string_view* in, uint64_t* value);

// Writers append to *out.
void AppendVarint(std::string* out, uint64_t value);
void AppendVarintField(std::string* out, uint32_t number, uint64_t value);
void AppendBytesField(std::string* out, uint32_t number, absl::string_view bytes);

// Returns InvalidArgument("wrong wire type for field N") unless field.type ==
// want. Decoders call it for every known field.
absl::Status ExpectWireType(const ProtoField& field, WireType want);

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_PROTOBUF_H_
