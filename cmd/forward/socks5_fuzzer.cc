// Feeds arbitrary client bytes to the SOCKS5 handshake in arbitrary pieces
// (the first byte of the input chooses the piece size): it must never crash,
// and a CONNECT it accepts must name a host
// and a port.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cmd/forward/socks5.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = 1 + data[0] % 64;
  absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  moshx::cmd::forward::Socks5Handshake h;
  std::string reply;
  for (size_t i = 0; i < input.size(); i += piece) {
    auto state = h.Feed(input.substr(i, piece), &reply);
    if (state == moshx::cmd::forward::Socks5Handshake::State::kConnect &&
        (h.host().empty() || h.port() == 0)) {
      abort();
    }
  }
  if (h.TakeRemainder().size() > input.size()) abort();
  return 0;
}
