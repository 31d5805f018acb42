// Name resolution for `moshx connect`: which host ssh really reaches (after
// ~/.ssh/config), and that host's address for the UDP session.
#ifndef MOSHX_CMD_LAUNCH_RESOLVE_H_
#define MOSHX_CMD_LAUNCH_RESOLVE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "net/datagram_socket.h"

namespace moshx::cmd {

// The host name ssh will connect to for `destination` ([user@]host), from
// `ssh_words -G destination` (Host aliases, HostName); the host part of
// `destination` when ssh -G fails or names none. Runs ssh (10 s at most).
// `proxied` (may be null) is set to whether ssh goes through a ProxyJump or
// ProxyCommand for it (`-J`, `-o`, or ~/.ssh/config; "none" is none).
std::string SshHostName(const std::vector<std::string>& ssh_words, const std::string& destination,
                        bool* proxied = nullptr);

// The address (port 0) of `host` by getaddrinfo, for `family` as given to
// --family: "inet" and "inet6" restrict the lookup, "prefer-inet6" prefers
// IPv6 among the answers, anything else prefers IPv4. NotFound, with the
// resolver's reason, when the name does not resolve.
absl::StatusOr<net::Address> Resolve(const std::string& host, const std::string& family);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_RESOLVE_H_
