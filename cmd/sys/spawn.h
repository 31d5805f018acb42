// Spawn: moshx's one fork+exec. Every child process starts here: the
// session's shell on a pty (cmd/sys/pty.h), the programs whose output
// `moshx connect` captures (ssh, `ssh -G`, the local `moshx serve`;
// cmd/launch/subprocess.h) and the ssh of `moshx bootstrap`
// (cmd/launch/ssh_channel.h).
//
// Everything the child needs (argv, environment, paths) is prepared before
// fork(), so the child makes only async-signal-safe calls until exec: Spawn
// is safe in a multi-threaded process. The child:
//   * with `reset_signals`, gets every signal's default disposition and an
//     empty signal mask; otherwise only SIGPIPE goes back to its default (a
//     moshx server ignores it, and no child should inherit that);
//   * with `controlling_tty` (a pty slave path), starts a new session
//     (setsid) and opens that terminal, which becomes its controlling
//     terminal and its stdin, stdout and stderr; otherwise gets
//     `stdin_fd`/`stdout_fd`/`stderr_fd` as 0/1/2 (kInherit: keep this
//     process's; kDevNull: /dev/null);
//   * with `hold_until_release`, waits before exec until the parent closes
//     SpawnedProcess::release (mosh-server holds the shell until the first
//     client state arrives);
//   * gets back the core-file limit this process had before HardenProcess()
//     (cmd/sys/hardening.h);
//   * chdir()s to `working_directory` unless it is empty ("/" if that fails);
//   * gets this process's environment (`environ`) minus `unset_env` and minus
//     every name that `set_env` redefines, then `set_env` in order;
//   * exec()s `program` (default argv[0]); a name without '/' is looked up
//     in $PATH like execvp.
// If exec fails the child writes its errno to a close-on-exec pipe and
// exits 127; the parent turns it into a Status such as NotFound "cannot run
// nosuchcmd: No such file or directory".
//
// Every descriptor moshx opens is close-on-exec, so the child inherits only
// 0/1/2. Reaping the child (waitpid) is the caller's job, except after an
// exec failure reported by Spawn() itself.
//
// errno -> Status: all of cmd/ converts through absl::ErrnoToStatus.
#ifndef MOSHX_CMD_SYS_SPAWN_H_
#define MOSHX_CMD_SYS_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/sys/scoped_fd.h"

namespace moshx::sys {

// Values of SpawnOptions::std*_fd other than a descriptor.
inline constexpr int kInherit = -1;
inline constexpr int kDevNull = -2;

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is also what runs, unless `program` is set
  std::string program;            // what to exec when it differs from argv[0] ("-sh")
  int stdin_fd = kInherit;
  int stdout_fd = kInherit;
  int stderr_fd = kInherit;
  std::string controlling_tty;          // non-empty: new session on this terminal
  std::vector<std::string> set_env;     // "NAME=VALUE"; replaces inherited NAME
  std::vector<std::string> unset_env;   // names not inherited
  std::string working_directory;        // empty: this process's
  bool reset_signals = false;
  bool hold_until_release = false;
};

// A started child. Move-only through its descriptors.
struct SpawnedProcess {
  pid_t pid = -1;
  std::string program;  // for error messages
  // Read end of the exec-report pipe while the outcome of exec is unknown
  // (held children only; otherwise invalid).
  ScopedFd exec_report;
  // Write end of the hold pipe (held children only): closing it, or
  // ReleaseAndAwaitExec, lets the child exec.
  ScopedFd release;
};

// Starts the child. Errors: InvalidArgument for an empty argv or program, a
// `set_env` entry without '=' or an argv containing a NUL; the errno of a
// failing pipe/fork; and, unless held, the child's exec error (the child is
// then already reaped). A held child's exec error comes from
// ReleaseAndAwaitExec.
absl::StatusOr<SpawnedProcess> Spawn(const SpawnOptions& options);

// Lets a held child exec and waits for the outcome: OK once exec succeeded
// (or if the outcome was already collected), else the exec error; the child
// has then exited with 127 and the caller reaps it.
absl::Status ReleaseAndAwaitExec(SpawnedProcess* child);

// A pipe whose two ends are close-on-exec. Errors: errno of pipe2.
absl::Status OpenPipe(ScopedFd* read_end, ScopedFd* write_end);

// waitpid() retried on EINTR; the raw wait status. Errors: errno of waitpid.
absl::StatusOr<int> WaitForChild(pid_t pid);

// The shell convention for a raw wait status: the exit code, or 128 + the
// signal number when the child was killed.
int ShellExitCode(int wait_status);

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_SPAWN_H_
