// Fuzzes the hand-written decoders of the application's diff messages
// (UserMessage, HostMessage) and the diff application of the two synced
// states. Whatever parses must serialize to bytes that parse back to an equal
// message; ApplyDiff must never crash, whatever it accepts, and a
// "superseded" address it accepts is short and holds no byte a terminal
// would act on (the client prints it).
#include <cstdint>
#include <cstdlib>
#include <string>

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
  if (terminal.ApplyDiff(input).ok() && terminal.superseded().has_value()) {
    const std::string& address = terminal.superseded()->new_client_address;
    if (address.size() > moshx::protocol::Superseded::kMaxAddressLength) std::abort();
    for (char c : address) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        std::abort();
      }
    }
  }
  return 0;
}
