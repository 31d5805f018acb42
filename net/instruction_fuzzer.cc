// Fuzzes the hand-written protobuf decoders (Instruction, UserMessage,
// HostMessage). Whatever parses must serialize to bytes that parse back to an
// equal message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "net/instruction.h"

namespace {

template <typename Message>
void RoundTrip(absl::string_view input) {
  auto parsed = Message::Parse(input);
  if (!parsed.ok()) return;
  auto again = Message::Parse(parsed->Serialize());
  if (!again.ok() || !(*again == *parsed)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  RoundTrip<moshx::net::Instruction>(input);
  RoundTrip<moshx::net::UserMessage>(input);
  RoundTrip<moshx::net::HostMessage>(input);
  return 0;
}
