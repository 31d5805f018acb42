// The stream multiplexer's frame: byte layout, parser and writer.
//
// One mux frame is the payload of one association frame (net/association.h,
// frame type kFrameTypeStream) and so arrives authenticated and decrypted; it
// is still untrusted (a buggy or hostile peer) and every parse failure is a
// counted drop of the whole frame. The layout is documented for readers of
// the wire in docs/streams.md; this header is its one home in code.
//
// Integers are variable-length ("varint"): the two high bits of the first
// byte give the length (00: 1 byte, 01: 2, 10: 4, 11: 8), the remaining bits
// the value, big-endian, so values run to 2^62 - 1 (the encoding of RFC 9000
// §16, chosen because it is cheap to parse and well specified).
//
//   frame   = varint packet_number   (sender's counter, +1 per frame, never reused)
//             chunk+                  (at least one)
//   chunk   = u8 type, then by type:
//     0x01 PING            (nothing; elicits an ack)
//     0x02 ACK             varint largest, varint ack_delay_us,
//                          varint range_count (<= kMaxAckRanges - 1),
//                          varint first_range  (largest - first_range is acked too),
//                          range_count x (varint gap, varint range_length):
//                            the next range ends gap + 2 below the previous start
//                            and covers range_length + 1 numbers (as RFC 9000 §19.3)
//     0x04 RESET_STREAM    varint stream_id, varint error_code, varint final_size
//     0x05 MAX_DATA        varint max (connection-level receive limit, bytes)
//     0x06 MAX_STREAM_DATA varint stream_id, varint max (offset limit)
//     0x07 MAX_STREAMS     varint count (peer-initiated streams allowed so far)
//     0x08 STREAM          varint stream_id, varint offset, varint length, bytes
//     0x09 STREAM + FIN    as STREAM; offset + length is the stream's final size
//
// Stream ids: bit 0 is the initiator (0: client, 1: server); id >> 1 is the
// initiator's counter (0, 1, 2, ...). Offsets and sizes stay below 2^62.
// A frame with an unknown chunk type, a truncated field, a second ACK, a
// range that runs below zero or an offset beyond 2^62 is malformed.
//
// Thread-safety: pure functions and value types.
#ifndef MOSHX_NET_STREAM_FRAME_FORMAT_H_
#define MOSHX_NET_STREAM_FRAME_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::net::stream {

inline constexpr uint64_t kMaxVarint = (uint64_t{1} << 62) - 1;
// Ranges in one ACK (received ones beyond this make the frame malformed;
// senders send at most kMaxAckRangesSent).
inline constexpr size_t kMaxAckRanges = 64;
inline constexpr size_t kMaxAckRangesSent = 32;
// The smallest frame a channel must carry: an ACK with a few ranges, or a
// STREAM chunk with a useful amount of data (the association's 500-byte
// fallback MTU leaves ~460).
inline constexpr size_t kMinFrameSize = 200;

enum class ChunkType : uint8_t {
  kPing = 0x01,
  kAck = 0x02,
  kResetStream = 0x04,
  kMaxData = 0x05,
  kMaxStreamData = 0x06,
  kMaxStreams = 0x07,
  kStream = 0x08,
  kStreamFin = 0x09,
};

// Inclusive range of packet numbers, first <= last.
struct AckRange {
  uint64_t first;
  uint64_t last;
};

struct AckChunk {
  uint64_t ack_delay_us = 0;
  // Descending, disjoint, non-adjacent; ranges[0].last is the largest acked.
  absl::InlinedVector<AckRange, 4> ranges;
};

// Every chunk but ACK. Fields a type does not use are zero.
struct Chunk {
  ChunkType type;
  uint64_t stream_id = 0;
  uint64_t value = 0;       // MAX_*: the limit; RESET_STREAM: error code
  uint64_t offset = 0;      // STREAM: offset; RESET_STREAM: final size
  absl::string_view data;   // STREAM: points into the parsed frame
  bool fin() const { return type == ChunkType::kStreamFin; }
};

struct ParsedFrame {
  uint64_t packet_number = 0;
  std::optional<AckChunk> ack;
  absl::InlinedVector<Chunk, 4> chunks;  // in frame order
  // True if any chunk asks for an acknowledgement (all but ACK do).
  bool ack_eliciting = false;
};

// Parses one frame. InvalidArgument (with a reason) if malformed. String
// views in the result point into `frame`.
absl::StatusOr<ParsedFrame> ParseFrame(absl::string_view frame);

// --- Writing -----------------------------------------------------------------

size_t VarintSize(uint64_t v);  // 1, 2, 4 or 8; v must be <= kMaxVarint
void AppendVarint(std::string* out, uint64_t v);

// Bytes a STREAM chunk header takes (type, id, offset, length).
size_t StreamChunkHeaderSize(uint64_t stream_id, uint64_t offset, size_t length);

void AppendAck(std::string* out, const AckChunk& ack);
void AppendStream(std::string* out, uint64_t stream_id, uint64_t offset,
                  absl::string_view data, bool fin);
void AppendResetStream(std::string* out, uint64_t stream_id, uint64_t code,
                       uint64_t final_size);
void AppendMaxData(std::string* out, uint64_t max);
void AppendMaxStreamData(std::string* out, uint64_t stream_id, uint64_t max);
void AppendMaxStreams(std::string* out, uint64_t count);
void AppendPing(std::string* out);

// Size AppendAck would add.
size_t AckSize(const AckChunk& ack);

}  // namespace moshx::net::stream

#endif  // MOSHX_NET_STREAM_FRAME_FORMAT_H_
