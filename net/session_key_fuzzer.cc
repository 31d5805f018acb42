// Fuzzes the strict base64 key decoder: it must never crash, and whatever it
// accepts must re-encode to exactly the input.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/session_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto key = moshx::net::SessionKey::FromBase64(text);
  if (key.ok() && key->ToBase64() != text) std::abort();
  return 0;
}
