// `moshx client IP PORT` and the mosh-client personality: attach to a
// server that is already running, given its address and (in $MOSH_KEY, never
// argv) its key, then run the terminal loop (cmd/client/terminal_loop.h).
#ifndef MOSHX_CMD_CLIENT_DIRECT_CLIENT_H_
#define MOSHX_CMD_CLIENT_DIRECT_CLIENT_H_

#include "cmd/options.h"

namespace moshx::cmd {

// The key comes from options.mosh_key (the $MOSH_KEY main.cc took out of the
// environment, so no child inherits it); that text is wiped once parsed
// (pass the options by std::move: no copy is left behind). Returns the process exit status: 1, with a message on stderr, for a
// missing or bad key, a non-numeric IP, or stdin/stdout not a terminal;
// otherwise RunTerminalLoop's.
int RunDirectClient(ClientOptions options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_CLIENT_DIRECT_CLIENT_H_
