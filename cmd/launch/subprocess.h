// Running a helper program (ssh, or this binary's own `serve`) and capturing
// what it prints, for `moshx connect`.
//
// The child's stdin is /dev/null (ssh asks for passwords on /dev/tty, not
// stdin); stdout and stderr are captured separately until both are closed,
// then the child is reaped. A server that detaches closes its copies, so this
// returns as soon as the CONNECT line is out and the foreground part exited.
// The child is started by cmd/sys/spawn.h.
#ifndef MOSHX_CMD_LAUNCH_SUBPROCESS_H_
#define MOSHX_CMD_LAUNCH_SUBPROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace moshx::cmd {

struct ProcessResult {
  std::string out;
  std::string err;
  // Exit code, or 128 + signal number when killed by a signal.
  int exit_code = 0;
};

// Runs `argv` (searched in $PATH) with `extra_env` ("NAME=VALUE") added.
// Errors: the program could not be started (its exec error, e.g. NotFound
// "cannot run X: No such file or directory"), or DeadlineExceeded after
// `timeout` (the child is then killed). Output beyond
// `max_output` bytes per stream is discarded.
absl::StatusOr<ProcessResult> RunAndCapture(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& extra_env = {},
                                            absl::Duration timeout = absl::InfiniteDuration(),
                                            size_t max_output = 1 << 20);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SUBPROCESS_H_
