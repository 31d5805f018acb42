// Fuzzes the stream multiplexer's frame parser and the multiplexer behind it.
//
// Input: a sequence of frames, each preceded by one length byte. Every frame
// is parsed; a frame that parses must re-encode to bytes that parse to the
// same content. All frames are then fed to a server-side StreamMux (whose own
// frames go nowhere) with virtual time advancing between them, so ack,
// stream, reset and window handling see hostile input too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/stream/frame_format.h"
#include "net/stream/stream_mux.h"
#include "net/testing/simulated_network.h"

namespace {

using moshx::net::stream::AckChunk;
using moshx::net::stream::Chunk;
using moshx::net::stream::ChunkType;
using moshx::net::stream::ParsedFrame;

class NullChannel : public moshx::net::stream::FrameChannel {
 public:
  absl::Status SendFrame(absl::string_view) override { return absl::OkStatus(); }
  size_t max_frame_size() const override { return 1215; }
};

std::string Encode(const ParsedFrame& f) {
  namespace s = moshx::net::stream;
  std::string out;
  s::AppendVarint(&out, f.packet_number);
  if (f.ack.has_value()) s::AppendAck(&out, *f.ack);
  for (const Chunk& c : f.chunks) {
    switch (c.type) {
      case ChunkType::kPing:
        s::AppendPing(&out);
        break;
      case ChunkType::kResetStream:
        s::AppendResetStream(&out, c.stream_id, c.value, c.offset);
        break;
      case ChunkType::kMaxData:
        s::AppendMaxData(&out, c.value);
        break;
      case ChunkType::kMaxStreams:
        s::AppendMaxStreams(&out, c.value);
        break;
      case ChunkType::kMaxStreamData:
        s::AppendMaxStreamData(&out, c.stream_id, c.value);
        break;
      case ChunkType::kStream:
      case ChunkType::kStreamFin:
        s::AppendStream(&out, c.stream_id, c.offset, c.data, c.fin());
        break;
      default:
        abort();
    }
  }
  return out;
}

void CheckRoundTrip(const ParsedFrame& f) {
  std::string encoded = Encode(f);
  auto again = moshx::net::stream::ParseFrame(encoded);
  if (!again.ok() || again->packet_number != f.packet_number ||
      again->chunks.size() != f.chunks.size() || again->ack.has_value() != f.ack.has_value()) {
    abort();
  }
  for (size_t i = 0; i < f.chunks.size(); ++i) {
    const Chunk& a = f.chunks[i];
    const Chunk& b = again->chunks[i];
    if (a.type != b.type || a.stream_id != b.stream_id || a.value != b.value ||
        a.offset != b.offset || a.data != b.data) {
      abort();
    }
  }
  if (f.ack.has_value()) {
    if (f.ack->ranges.size() != again->ack->ranges.size()) abort();
    for (size_t i = 0; i < f.ack->ranges.size(); ++i) {
      if (f.ack->ranges[i].first != again->ack->ranges[i].first ||
          f.ack->ranges[i].last != again->ack->ranges[i].last) {
        abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  moshx::net::testing::SimulatedNetwork net(/*seed=*/1);
  NullChannel channel;
  moshx::net::stream::MuxConfig config;
  config.is_server = true;
  config.max_incoming_streams = 16;
  moshx::net::stream::StreamMux mux(&net, &net, &channel, config);
  mux.set_incoming_handler([&mux](moshx::net::stream::StreamId id) {
    char buffer[4096];
    while (mux.Read(id, buffer, sizeof buffer) > 0) {
    }
    mux.Write(id, "reply");
  });
  size_t pos = 0;
  while (pos < size) {
    size_t n = std::min<size_t>(data[pos], size - pos - 1);
    absl::string_view frame(reinterpret_cast<const char*>(data) + pos + 1, n);
    pos += 1 + n;
    auto parsed = moshx::net::stream::ParseFrame(frame);
    if (parsed.ok()) CheckRoundTrip(*parsed);
    mux.OnFrame(frame);
    net.RunFor(absl::Milliseconds(7));
  }
  net.RunFor(absl::Seconds(2));
  return 0;
}
