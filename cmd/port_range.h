// Parsing of a UDP port or port range as typed by a user or a script:
// "PORT" or "LOW:HIGH", with mosh-server's validation rules and messages
// (docs/protocol.md §8.4): numbers 0-65535, LOW <= HIGH, and no range
// starting at 0. "0" alone asks the kernel for any free port.
#ifndef MOSHX_CMD_PORT_RANGE_H_
#define MOSHX_CMD_PORT_RANGE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "net/udp_socket.h"

namespace moshx::cmd {

// InvalidArgument with mosh's message (e.g. "Low port 61000 greater than high
// port 60000") on malformed input.
absl::StatusOr<net::PortRange> ParsePortRange(absl::string_view text);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_PORT_RANGE_H_
