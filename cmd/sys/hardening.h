// Process hardening: what every moshx personality (client, server, serve,
// connect, and the rest) does first, so that a session key never reaches a
// core file or another process of the same user (docs/security.md §2).
//
// HardenProcess() sets the soft RLIMIT_CORE to 0 and makes the process
// non-dumpable (prctl PR_SET_DUMPABLE 0: no core file, no ptrace attach or
// /proc/PID/mem read by the same user). Both survive fork(), so a detached
// server keeps them. The children moshx runs (the user's shell, ssh) get
// the defaults back: Spawn (cmd/sys/spawn.h) restores the core limit found
// here before exec, and execve() of an ordinary binary makes a process
// dumpable again.
//
// TakeSecretEnvironmentVariable() is how the key in $MOSH_KEY is read: once,
// with the value in the environment block overwritten and the variable
// removed, so that neither children nor /proc/PID/environ see it.
//
// Process-wide state: call from main() before any thread starts.
#ifndef MOSHX_CMD_SYS_HARDENING_H_
#define MOSHX_CMD_SYS_HARDENING_H_

#include <sys/resource.h>

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace moshx::sys {

// Soft RLIMIT_CORE 0 (the hard limit is kept, so children can be given the
// old soft limit back) and PR_SET_DUMPABLE 0. Errors: the errno of
// getrlimit/setrlimit/prctl; what succeeded before stays in effect.
absl::Status HardenProcess();

// The core limit HardenProcess() found, nullptr if it has not run.
// Async-signal-safe (read by Spawn's child between fork and exec).
const struct rlimit* CoreLimitBeforeHardening();

// The value of environment variable `name` (nullopt when unset); the value
// in the environment block is overwritten with zeros and the variable
// unset. The caller wipes the returned text (net::WipeSecret) when done.
std::optional<std::string> TakeSecretEnvironmentVariable(const char* name);

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_HARDENING_H_
