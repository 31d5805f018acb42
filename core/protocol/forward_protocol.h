// The forwarding protocol: what the first bytes of a forwarding stream say.
//
// Every forwarding stream (net/stream) starts with one OpenRequest from the
// side that opened it; the other side answers with one OpenReply, and only
// then do the forwarded bytes follow, in both directions. Each message is
//
//   u16  body length (big-endian, 1..kMaxMessageSize)
//   body:
//     OpenRequest: u8 version (1), u8 kind, then by kind:
//       kConnect  (client -> server; -L and -D)  u8 n, host[n], u16 port
//       kListen   (client -> server; -R)         u8 n, bind[n], u16 port, u32 listener
//                 the stream stays open as long as the listener should; the
//                 server answers once the bind succeeded or failed
//       kReverse  (server -> client)             u32 listener: a connection that
//                 listener accepted; the client connects to the target of its
//                 own -R option of that number (never to a target the server names)
//       kAgent    (server -> client; -A)         nothing: connect to the agent
//       kAgentListen (client -> server; -A)      nothing: serve the session's
//                 agent socket (SSH_AUTH_SOCK) while this stream stays open;
//                 the server answers once it listens or could not
//     OpenReply:   u8 status, u8 n, message[n] (for the log)
//
// Who may ask what is policy for the wiring (cmd/forward/forwarder.h): a client accepts
// only kReverse for its own listeners and kAgent when -A is on; a server
// accepts only kConnect, kListen and kAgentListen. Everything else is refused with
// kRefused. Parsers are for untrusted bytes (fuzzed by
// forward_protocol_fuzzer); they never read past the input.
#ifndef MOSHX_CORE_PROTOCOL_FORWARD_PROTOCOL_H_
#define MOSHX_CORE_PROTOCOL_FORWARD_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::protocol {

inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kMaxMessageSize = 600;

enum class OpenKind : uint8_t {
  kConnect = 1,
  kListen = 2,
  kReverse = 3,
  kAgent = 4,
  kAgentListen = 5,
};

struct OpenRequest {
  OpenKind kind = OpenKind::kConnect;
  std::string host;      // kConnect: target; kListen: bind address ("*" = all)
  uint16_t port = 0;     // kConnect, kListen
  uint32_t listener = 0; // kListen, kReverse
};

enum class OpenStatus : uint8_t {
  kOk = 0,
  kRefused = 1,           // not allowed by policy (or not configured)
  kResolveFailed = 2,
  kConnectionRefused = 3,
  kUnreachable = 4,
  kBindFailed = 5,
  kProtocolError = 6,
  kTimedOut = 7,
};

struct OpenReply {
  OpenStatus status = OpenStatus::kOk;
  std::string message;  // at most 255 bytes are sent
};

std::string EncodeOpenRequest(const OpenRequest& request);
std::string EncodeOpenReply(const OpenReply& reply);

// If `*buffer` starts with a whole message, removes it and returns its body;
// nullopt if more bytes are needed; InvalidArgument for a length of 0 or
// above kMaxMessageSize (the stream should then be reset).
absl::StatusOr<std::optional<std::string>> TakeMessage(std::string* buffer);

absl::StatusOr<OpenRequest> ParseOpenRequest(absl::string_view body);
absl::StatusOr<OpenReply> ParseOpenReply(absl::string_view body);

// "connection refused", ... for messages.
const char* OpenStatusName(OpenStatus status);

}  // namespace moshx::protocol

#endif  // MOSHX_CORE_PROTOCOL_FORWARD_PROTOCOL_H_
