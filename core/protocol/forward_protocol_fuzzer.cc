// Untrusted forwarding messages: framing, open requests and replies. A
// request or reply that parses must re-encode to a message that parses the
// same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/protocol/forward_protocol.h"

using moshx::protocol::EncodeOpenReply;
using moshx::protocol::EncodeOpenRequest;
using moshx::protocol::ParseOpenReply;
using moshx::protocol::ParseOpenRequest;
using moshx::protocol::TakeMessage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string buffer(reinterpret_cast<const char*>(data), size);
  for (;;) {
    auto body = TakeMessage(&buffer);
    if (!body.ok() || !body->has_value()) break;
    if (auto r = ParseOpenRequest(**body); r.ok()) {
      std::string wire = EncodeOpenRequest(*r);
      auto again_body = TakeMessage(&wire);
      if (!again_body.ok() || !again_body->has_value()) abort();
      auto again = ParseOpenRequest(**again_body);
      if (!again.ok() || again->kind != r->kind || again->host != r->host ||
          again->port != r->port || again->listener != r->listener) {
        abort();
      }
    }
    if (auto r = ParseOpenReply(**body); r.ok()) {
      std::string wire = EncodeOpenReply(*r);
      auto again_body = TakeMessage(&wire);
      if (!again_body.ok() || !again_body->has_value()) abort();
      auto again = ParseOpenReply(**again_body);
      if (!again.ok() || again->status != r->status || again->message != r->message) abort();
    }
  }
  return 0;
}
