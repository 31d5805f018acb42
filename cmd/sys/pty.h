// Pty: a child process (the user's shell or a given command) running on a new
// pseudo-terminal, as mosh-server's session terminal (docs/protocol.md
// §10.1, §10.2).
//
// Spawn() allocates a Unix98 pty (posix_openpt/grantpt/unlockpt/ptsname_r; no
// libutil), sets its window size and IUTF8, and starts the child through
// cmd/sys/spawn.h. The child:
//   * starts a new session (setsid) with the pty slave as its controlling
//     terminal and as stdin/stdout/stderr, so the child's process group is
//     the pty's foreground group and receives SIGWINCH / SIGHUP / SIGINT;
//   * gets default signal dispositions and an empty signal mask;
//   * gets the parent's environment minus TERM, STY and any name redefined in
//     `extra_env`, plus TERM=`term` and `extra_env`;
//   * chdir()s to `working_directory` (default: the user's home, see
//     cmd/sys/passwd.h; on failure it starts in "/");
//   * optionally waits until the parent calls Release() (mosh-server holds
//     the shell until the first client state arrives, docs/protocol.md §10.1);
//   * exec()s: with an empty `argv`, the login shell of the current uid read
//     from /etc/passwd WITHOUT NSS (LoginShellForUid, falling back to
//     `shell`), argv[0] = "-" +
//     basename ("-bash"); otherwise `argv`, looked up in $PATH like execvp.
// If exec fails, Spawn() (or Release() for a held child) reports it as a
// Status such as NotFound "cannot run nosuchcmd: No such file or directory"
// and reaps the child.
//
// The parent keeps only the master side, nonblocking and close-on-exec.
// When every slave descriptor is closed (normally: the shell and its jobs
// exited) reads fail with EIO on Linux; Read() reports that as
// end-of-stream (IsEndOfStream()).
//
// Ownership and lifetime: a Pty owns the master descriptor and is responsible
// for the child. The destructor closes the master (the kernel hangs up the
// session: SIGHUP to its foreground group), sends SIGHUP to the child's
// process group, and reaps the child if it has already exited; it never
// blocks, so a child that ignores SIGHUP may survive as a zombie until this
// process exits. Call WaitForExit()/TryReap() first for a clean end.
//
// Reaping: the process must not set SIGCHLD to SIG_IGN (the kernel would
// then reap the child itself and waitpid fails with ECHILD), and nothing
// else may waitpid(-1) the child away; a SIGCHLD handler that only wakes the
// event loop is fine.
//
// Thread-safety: none; use from one thread (the session loop). Spawn() is safe
// in a multi-threaded process (see cmd/sys/spawn.h).
//
// This talks to the real OS, so it is constructed only by cmd/ and by its own
// tests.
#ifndef MOSHX_CMD_SYS_PTY_H_
#define MOSHX_CMD_SYS_PTY_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cmd/sys/scoped_fd.h"
#include "cmd/sys/spawn.h"
#include "cmd/sys/window_size.h"

namespace moshx::sys {

struct PtyOptions {
  // Command and arguments. Empty: the login shell (see file comment).
  std::vector<std::string> argv;
  WindowSize size;
  // Value of TERM in the child's environment.
  std::string term = "xterm-256color";
  // Extra "NAME=value" entries (e.g. "NCURSES_NO_UTF8_ACS=1"); they replace
  // inherited variables of the same name. An entry without '=' is an
  // InvalidArgument error.
  std::vector<std::string> extra_env;
  // Empty: HomeDirectoryForUid(getuid(), passwd_path, home).
  std::string working_directory;
  // Where the login shell and home directory are looked up.
  std::string passwd_path = "/etc/passwd";
  // The server's $HOME and $SHELL ("" = unset; cmd/options.h carries them
  // from the environment map): $HOME wins over the passwd entry's home, and
  // $SHELL is the login shell when the entry names none.
  std::string home;
  std::string shell;
  // If true the child blocks before exec until Release() is called.
  bool hold_until_release = false;
};

// How the child ended (from waitpid).
struct ExitStatus {
  bool exited = false;  // true: exit(code); false: killed by `signal`
  int code = 0;         // exit code if `exited`
  int signal = 0;       // terminating signal if !exited
  bool core_dumped = false;

  // Shell convention: `code` if exited, 128 + signal if killed.
  int ShellCode() const { return exited ? code : 128 + signal; }
  std::string ToString() const;  // "exit 3" / "signal 9 (Killed)"
};

// The terminal modes that decide whether the client may predict (never
// while echo is off, e.g. at a password prompt).
struct TerminalModes {
  bool echo = false;       // ECHO in c_lflag
  bool canonical = false;  // ICANON in c_lflag (line editing by the kernel)
};

// True iff `status` is the end-of-stream status returned by Read()/Write().
bool IsEndOfStream(const absl::Status& status);

class Pty {
 public:
  // Errors: InvalidArgument for bad options; the errno text of the failing
  // call (posix_openpt, ioctl, pipe, fork, ...); the child's exec error.
  static absl::StatusOr<std::unique_ptr<Pty>> Spawn(const PtyOptions& options);

  ~Pty();
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  // The nonblocking master descriptor, for poll()/EventLoop::WatchFd. Still
  // owned by the Pty; do not close it.
  int master_fd() const { return master_.get(); }
  // The child's pid, which is also its process group and session id.
  pid_t child_pid() const { return pid_; }
  // Path of the slave side, e.g. "/dev/pts/7" (for utmp records).
  const std::string& slave_path() const { return slave_path_; }

  // Lets a child spawned with hold_until_release exec. Returns the exec
  // error, if any (waits for the exec outcome, which is quick). A no-op
  // returning OK if the child was not held or was already released.
  absl::Status Release();

  // Sets the window size (TIOCSWINSZ); the kernel sends SIGWINCH to the
  // foreground process group if the size changed.
  absl::Status Resize(WindowSize size);
  // The current window size (TIOCGWINSZ).
  absl::StatusOr<WindowSize> GetSize() const;

  // Copies up to `max` bytes of available output into `buffer`, never
  // blocking. Returns the count, 0 if nothing is available right now, or
  // an end-of-stream status (IsEndOfStream; OutOfRange "pty: end of stream")
  // once the child side is closed and drained. Other errors: errno text.
  // mosh reads 16384 bytes at a time (docs/protocol.md §10.2).
  absl::StatusOr<size_t> Read(char* buffer, size_t max);

  // Writes as much of `data` as the pty accepts now, never blocking. Returns
  // the count written, possibly 0 (buffer full: retry when writable) or less
  // than data.size(); the caller keeps the rest. After the child side is
  // closed, Linux may still accept (and discard) bytes or report
  // end-of-stream as Read() does; rely on Read() to detect the end.
  absl::StatusOr<size_t> Write(absl::string_view data);

  // The pty's current ECHO / ICANON flags (tcgetattr on the master, which
  // Linux answers with the slave's termios, i.e. what the shell set).
  absl::StatusOr<TerminalModes> GetTerminalModes() const;

  // Nonblocking waitpid: the exit status once the child has ended (cached;
  // later calls return the same value), std::nullopt while it runs.
  absl::StatusOr<std::optional<ExitStatus>> TryReap();
  // Blocking waitpid (cached like TryReap). Only call when the child is
  // known to be ending, e.g. after end-of-stream or Kill(SIGKILL).
  absl::StatusOr<ExitStatus> WaitForExit();

  // Sends `signal` to the child's process group. FailedPrecondition once the
  // child has been reaped (its pid may belong to someone else by then).
  absl::Status Kill(int signal);

 private:
  Pty(ScopedFd master, SpawnedProcess child, std::string slave_path);
  absl::StatusOr<std::optional<ExitStatus>> Wait(int flags);

  ScopedFd master_;
  const pid_t pid_;
  const std::string slave_path_;
  SpawnedProcess child_;  // its exec report and hold pipe, until Release()
  std::optional<ExitStatus> exit_status_;
};

}  // namespace moshx::sys

#endif  // MOSHX_CMD_SYS_PTY_H_
