// Fuzzes the stream path's deframer (net/stream_path.h) with arbitrary
// bytes, fed in pieces whose sizes come from the input itself. Checks, on
// every input: no datagram longer than kMaxStreamDatagram is delivered; the
// buffered remainder never exceeds one frame; and, until the first error,
// re-framing what was delivered and appending what is buffered gives back
// exactly the bytes fed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/stream_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using moshx::net::kMaxStreamDatagram;
  using moshx::net::kStreamFrameHeaderSize;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  moshx::net::StreamDeframer deframer;
  std::string reframed;
  std::string fed;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t piece = 1 + static_cast<uint8_t>(input[pos]) % 97;
    absl::string_view chunk = input.substr(pos, piece);
    pos += chunk.size();
    absl::Status s = deframer.Feed(chunk, [&](absl::string_view datagram) {
      if (datagram.size() > kMaxStreamDatagram) std::abort();
      moshx::net::AppendStreamFrame(datagram, &reframed);
    });
    if (deframer.buffered() > kStreamFrameHeaderSize + kMaxStreamDatagram) std::abort();
    if (!s.ok()) return 0;  // out of step: nothing more to compare
    fed.append(chunk.data(), chunk.size());
    if (reframed.size() + deframer.buffered() != fed.size()) std::abort();
    if (fed.compare(0, reframed.size(), reframed) != 0) std::abort();
  }
  return 0;
}
