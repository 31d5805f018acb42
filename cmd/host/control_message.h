// The messages of the session host's control socket (docs/sessions.md §3):
// `moshx serve` and its --list/--attach/--kill talk to the per-user host
// over a Unix SOCK_SEQPACKET socket, one message per packet.
//
// A message is a verb and its fields, all byte strings:
//
//   offset  size  field
//   0       4     magic "MXC1"
//   4       2     field count n (big-endian), 1 <= n <= kMaxFields
//   6       ...   n times: length (4 bytes, big-endian), then that many bytes
//
// The first field is the verb ("hello", "new", "list", "attach", "kill",
// "ok", "error"). A packet is at most kMaxMessageSize bytes; nothing may
// follow the last field.
//
// The peer is always the same user (the host checks SO_PEERCRED), yet a
// message is still parsed as untrusted bytes: a bad one gets a clear error
// and is never trusted beyond its bounds (control_message_fuzzer).
//
// Value types; thread-compatible.
#ifndef MOSHX_CMD_HOST_CONTROL_MESSAGE_H_
#define MOSHX_CMD_HOST_CONTROL_MESSAGE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::cmd {

inline constexpr size_t kMaxMessageSize = 64 * 1024;
inline constexpr size_t kMaxFields = 1024;

struct ControlMessage {
  std::string verb;
  std::vector<std::string> fields;  // after the verb

  friend bool operator==(const ControlMessage& a, const ControlMessage& b) {
    return a.verb == b.verb && a.fields == b.fields;
  }
};

// InvalidArgument when the encoding would exceed kMaxMessageSize or
// kMaxFields (a request that large is a caller error, e.g. an enormous
// environment).
absl::StatusOr<std::string> EncodeControlMessage(const ControlMessage& message);

// InvalidArgument naming what is wrong: bad magic, truncated field, trailing
// bytes, too many fields or too large.
absl::StatusOr<ControlMessage> ParseControlMessage(absl::string_view bytes);

// "key=value" fields (docs/sessions.md §6). The value of the first field
// named `key`, or nullopt.
std::optional<std::string> FindField(const ControlMessage& message, absl::string_view key);
// The values of every field named `key`, in order.
std::vector<std::string> FindFields(const ControlMessage& message, absl::string_view key);
// "key=value".
std::string Field(absl::string_view key, absl::string_view value);

// The answer for a failed request: `error|<code>|<message>`, code as
// "not_found", "permission_denied", ... (lowercase absl::StatusCode names).
ControlMessage ErrorReply(const absl::Status& status);
// Back from an answer: OK for `ok`, the carried status for `error`,
// InvalidArgument for anything else.
absl::Status ReplyStatus(const ControlMessage& reply);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_HOST_CONTROL_MESSAGE_H_
