// `moshx connect`: start a server (over ssh, or locally with --local;
// cmd/launch/launch.h), then run the client on this terminal until the
// session ends (cmd/client/terminal_loop.h).
#ifndef MOSHX_CMD_CONNECT_H_
#define MOSHX_CMD_CONNECT_H_

#include "cmd/options.h"

namespace moshx::cmd {

// Runs the whole command; returns the process exit status (0: the session
// ended cleanly). Problems are printed to stderr as complete sentences.
int RunConnect(const ConnectOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CONNECT_H_
