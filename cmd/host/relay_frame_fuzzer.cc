// Fuzzes the relay frame parser (what the host reads from every session
// process): it must never crash, and what it accepts must encode back to
// exactly the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cmd/host/relay_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto frame = moshx::cmd::ParseRelayFrame(bytes);
  if (!frame.ok()) return 0;
  std::string encoded;
  if (frame->type == moshx::cmd::kRelayDatagram) {
    if (!moshx::cmd::EncodeRelayDatagram(frame->address, frame->datagram,
                                         frame->congestion_experienced, &encoded)
             .ok()) {
      std::abort();
    }
  } else {
    auto control = moshx::cmd::EncodeRelayControl(frame->control);
    if (!control.ok()) std::abort();
    encoded = *control;
  }
  if (encoded != bytes) std::abort();
  return 0;
}
