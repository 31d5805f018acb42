// Fuzzes the control-socket message parser: it must never crash, and what it
// accepts must encode back to exactly the same bytes (one encoding per
// message, so no two readings of one packet).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cmd/host/control_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto message = moshx::cmd::ParseControlMessage(bytes);
  if (!message.ok()) return 0;
  auto encoded = moshx::cmd::EncodeControlMessage(*message);
  if (!encoded.ok() || *encoded != bytes) std::abort();
  return 0;
}
