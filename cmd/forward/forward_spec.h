// The forwarding options of `moshx connect`, as ssh spells them:
//
//   -L [bind:]port:host:hostport   listen on the client, connect from the server
//   -R [bind:]port:host:hostport   listen on the server, connect from the client
//   -D [bind:]port                 SOCKS5 (CONNECT) listener on the client
//
// An IPv6 address is written in brackets ("[::1]:8080:[2001:db8::5]:80").
// The bind address defaults to the loopback interface (as ssh without
// GatewayPorts); an empty one ("-L :8080:...") or "*" means every interface.
// Ports are 1-65535. Host names are not resolved here.
#ifndef MOSHX_CMD_FORWARD_FORWARD_SPEC_H_
#define MOSHX_CMD_FORWARD_FORWARD_SPEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::cmd::forward {

enum class ForwardKind { kLocal, kRemote, kDynamic };

struct ForwardSpec {
  ForwardKind kind = ForwardKind::kLocal;
  std::string bind_address;  // "localhost", "*" (all), or an address / name
  uint16_t port = 0;
  std::string host;          // empty for kDynamic
  uint16_t host_port = 0;    // 0 for kDynamic

  bool binds_all() const { return bind_address == "*"; }
  // The option as the user could have typed it ("-L localhost:8080:web:80").
  std::string ToString() const;
  friend bool operator==(const ForwardSpec& a, const ForwardSpec& b) {
    return a.kind == b.kind && a.bind_address == b.bind_address && a.port == b.port &&
           a.host == b.host && a.host_port == b.host_port;
  }
};

// InvalidArgument naming the option and what is wrong, e.g.
// "-L 8080:web: : missing host port".
absl::StatusOr<ForwardSpec> ParseForwardSpec(ForwardKind kind, absl::string_view text);

}  // namespace moshx::cmd::forward

#endif  // MOSHX_CMD_FORWARD_FORWARD_SPEC_H_
