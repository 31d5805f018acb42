// Fuzzes the hand-written decoders of the application's diff messages
// (UserMessage, HostMessage) and the diff application of the two synced
// states. Whatever parses must serialize to bytes that parse back to an equal
// message; ApplyDiff must never crash, whatever it accepts.
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "core/protocol/messages.h"
#include "core/protocol/terminal_state.h"
#include "core/protocol/user_stream.h"

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
  RoundTrip<moshx::protocol::UserMessage>(input);
  RoundTrip<moshx::protocol::HostMessage>(input);
  moshx::protocol::UserStream user;
  // Rejection is an expected outcome here; only crashes matter.
  user.ApplyDiff(input).IgnoreError();
  moshx::protocol::TerminalState terminal(80, 24);
  terminal.ApplyDiff(input).IgnoreError();
  return 0;
}
