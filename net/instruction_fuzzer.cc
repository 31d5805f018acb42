// Fuzzes the hand-written TransportBuffers.Instruction decoder. Whatever
// parses must serialize to bytes that parse back to an equal Instruction.
// (The diff messages have their own fuzzer: core/protocol's messages_fuzzer.)
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "net/instruction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using moshx::net::Instruction;
  auto parsed = Instruction::Parse(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  auto again = Instruction::Parse(parsed->Serialize());
  if (!again.ok() || *again != *parsed) std::abort();
  return 0;
}
