// `moshx serve`: allocate a UDP port, print the CONNECT line, detach, and run
// the user's shell (or a command) on a pty until the session ends.
#ifndef MOSHX_CMD_SERVER_SERVE_H_
#define MOSHX_CMD_SERVER_SERVE_H_

#include <string>
#include <vector>

#include "cmd/options.h"

namespace moshx::cmd {

// Returns the process exit status: 0 when the session ran (the detaching
// parent returns 0 as soon as the CONNECT line is out), 1 on errors, which
// are printed to stderr as one clear line.
int RunServe(const ServeOptions& options);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_SERVER_SERVE_H_
