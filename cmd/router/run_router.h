// `moshx router` (docs/router.md): bind the shared UDP port and the hosts'
// Unix socket, drop root, forward until SIGTERM or SIGINT.
#ifndef MOSHX_CMD_ROUTER_RUN_ROUTER_H_
#define MOSHX_CMD_ROUTER_RUN_ROUTER_H_

#include "cmd/options.h"

namespace moshx::cmd {

// Returns the process exit status: 0 after SIGTERM/SIGINT, 1 when the port,
// the socket or the privilege drop failed (the reason on stderr).
int RunRouter(const RouterOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_ROUTER_RUN_ROUTER_H_
