#include "net/stream/frame_format.h"

#include <openssl/bytestring.h>

#include "absl/status/status.h"

namespace moshx::net::stream {
namespace {

bool GetVarint(CBS* cbs, uint64_t* out) {
  uint8_t first;
  if (!CBS_get_u8(cbs, &first)) return false;
  size_t extra = (size_t{1} << (first >> 6)) - 1;
  uint64_t v = first & 0x3f;
  for (size_t i = 0; i < extra; ++i) {
    uint8_t b;
    if (!CBS_get_u8(cbs, &b)) return false;
    v = (v << 8) | b;
  }
  *out = v;
  return true;
}

absl::Status Malformed(const char* why) { return absl::InvalidArgumentError(why); }

absl::Status ParseAck(CBS* cbs, AckChunk* ack) {
  uint64_t largest, count, first_range;
  if (!GetVarint(cbs, &largest) || !GetVarint(cbs, &ack->ack_delay_us) ||
      !GetVarint(cbs, &count) || !GetVarint(cbs, &first_range)) {
    return Malformed("truncated ACK");
  }
  if (count >= kMaxAckRanges) return Malformed("too many ACK ranges");
  if (first_range > largest) return Malformed("ACK range below zero");
  ack->ranges.push_back({largest - first_range, largest});
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t gap, length;
    if (!GetVarint(cbs, &gap) || !GetVarint(cbs, &length)) return Malformed("truncated ACK");
    uint64_t prev_first = ack->ranges.back().first;
    if (prev_first < gap + 2 || prev_first - gap - 2 < length) {
      return Malformed("ACK range below zero");
    }
    uint64_t last = prev_first - gap - 2;
    ack->ranges.push_back({last - length, last});
  }
  return absl::OkStatus();
}

absl::Status ParseChunk(CBS* cbs, ChunkType type, Chunk* c) {
  c->type = type;
  switch (type) {
    case ChunkType::kPing:
      return absl::OkStatus();
    case ChunkType::kResetStream:
      if (!GetVarint(cbs, &c->stream_id) || !GetVarint(cbs, &c->value) ||
          !GetVarint(cbs, &c->offset)) {
        return Malformed("truncated RESET_STREAM");
      }
      return absl::OkStatus();
    case ChunkType::kMaxData:
    case ChunkType::kMaxStreams:
      if (!GetVarint(cbs, &c->value)) return Malformed("truncated MAX_*");
      return absl::OkStatus();
    case ChunkType::kMaxStreamData:
      if (!GetVarint(cbs, &c->stream_id) || !GetVarint(cbs, &c->value)) {
        return Malformed("truncated MAX_STREAM_DATA");
      }
      return absl::OkStatus();
    case ChunkType::kStream:
    case ChunkType::kStreamFin: {
      uint64_t length;
      CBS data;
      if (!GetVarint(cbs, &c->stream_id) || !GetVarint(cbs, &c->offset) ||
          !GetVarint(cbs, &length) || length > CBS_len(cbs) ||
          !CBS_get_bytes(cbs, &data, length)) {
        return Malformed("truncated STREAM");
      }
      if (c->offset + length > kMaxVarint) return Malformed("STREAM beyond 2^62");
      c->data = absl::string_view(reinterpret_cast<const char*>(CBS_data(&data)), length);
      return absl::OkStatus();
    }
    default:
      return Malformed("unknown chunk type");
  }
}

}  // namespace

absl::StatusOr<ParsedFrame> ParseFrame(absl::string_view frame) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
  ParsedFrame out;
  if (!GetVarint(&cbs, &out.packet_number)) return Malformed("no packet number");
  if (CBS_len(&cbs) == 0) return Malformed("frame without chunks");
  while (CBS_len(&cbs) > 0) {
    uint8_t type;
    CBS_get_u8(&cbs, &type);
    if (type == static_cast<uint8_t>(ChunkType::kAck)) {
      if (out.ack.has_value()) return Malformed("second ACK");
      out.ack.emplace();
      if (absl::Status s = ParseAck(&cbs, &*out.ack); !s.ok()) return s;
      continue;
    }
    Chunk c{ChunkType::kPing};
    if (absl::Status s = ParseChunk(&cbs, static_cast<ChunkType>(type), &c); !s.ok()) {
      return s;
    }
    out.chunks.push_back(c);
    out.ack_eliciting = true;
  }
  return out;
}

size_t VarintSize(uint64_t v) {
  if (v < (uint64_t{1} << 6)) return 1;
  if (v < (uint64_t{1} << 14)) return 2;
  if (v < (uint64_t{1} << 30)) return 4;
  return 8;
}

void AppendVarint(std::string* out, uint64_t v) {
  size_t n = VarintSize(v);
  uint8_t prefix = n == 1 ? 0x00 : n == 2 ? 0x40 : n == 4 ? 0x80 : 0xc0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    if (i == 0) b |= prefix;
    out->push_back(static_cast<char>(b));
  }
}

size_t StreamChunkHeaderSize(uint64_t stream_id, uint64_t offset, size_t length) {
  return 1 + VarintSize(stream_id) + VarintSize(offset) + VarintSize(length);
}

namespace {
void AppendType(std::string* out, ChunkType t) { out->push_back(static_cast<char>(t)); }
}  // namespace

size_t AckSize(const AckChunk& ack) {
  const AckRange& top = ack.ranges.front();
  size_t n = 1 + VarintSize(top.last) + VarintSize(ack.ack_delay_us) +
             VarintSize(ack.ranges.size() - 1) + VarintSize(top.last - top.first);
  for (size_t i = 1; i < ack.ranges.size(); ++i) {
    n += VarintSize(ack.ranges[i - 1].first - ack.ranges[i].last - 2) +
         VarintSize(ack.ranges[i].last - ack.ranges[i].first);
  }
  return n;
}

void AppendAck(std::string* out, const AckChunk& ack) {
  const AckRange& top = ack.ranges.front();
  AppendType(out, ChunkType::kAck);
  AppendVarint(out, top.last);
  AppendVarint(out, ack.ack_delay_us);
  AppendVarint(out, ack.ranges.size() - 1);
  AppendVarint(out, top.last - top.first);
  for (size_t i = 1; i < ack.ranges.size(); ++i) {
    AppendVarint(out, ack.ranges[i - 1].first - ack.ranges[i].last - 2);
    AppendVarint(out, ack.ranges[i].last - ack.ranges[i].first);
  }
}

void AppendStream(std::string* out, uint64_t stream_id, uint64_t offset,
                  absl::string_view data, bool fin) {
  AppendType(out, fin ? ChunkType::kStreamFin : ChunkType::kStream);
  AppendVarint(out, stream_id);
  AppendVarint(out, offset);
  AppendVarint(out, data.size());
  out->append(data.data(), data.size());
}

void AppendResetStream(std::string* out, uint64_t stream_id, uint64_t code,
                       uint64_t final_size) {
  AppendType(out, ChunkType::kResetStream);
  AppendVarint(out, stream_id);
  AppendVarint(out, code);
  AppendVarint(out, final_size);
}

void AppendMaxData(std::string* out, uint64_t max) {
  AppendType(out, ChunkType::kMaxData);
  AppendVarint(out, max);
}

void AppendMaxStreamData(std::string* out, uint64_t stream_id, uint64_t max) {
  AppendType(out, ChunkType::kMaxStreamData);
  AppendVarint(out, stream_id);
  AppendVarint(out, max);
}

void AppendMaxStreams(std::string* out, uint64_t count) {
  AppendType(out, ChunkType::kMaxStreams);
  AppendVarint(out, count);
}

void AppendPing(std::string* out) { AppendType(out, ChunkType::kPing); }

}  // namespace moshx::net::stream
