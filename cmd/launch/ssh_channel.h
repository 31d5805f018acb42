// A child process (normally ssh) driven through its stdin and stdout: write
// bytes, half-close, read lines. Used by `moshx bootstrap` to hold one SSH
// connection open for a whole probe-and-upload conversation.
//
// The child's stdin is one end of a socketpair (so writing to a child that
// has gone away is an error, never SIGPIPE), its stdout and stderr are pipes
// (started by cmd/sys/spawn.h).
// stderr is collected in the background while reading or writing and is
// available for error messages (ssh's "Permission denied", "Could not
// resolve hostname"); ssh's password prompts use /dev/tty and still reach the
// user. The destructor closes everything, kills the child (SIGTERM) if it is
// still running and reaps it.
//
// Not thread-safe; one owner.
#ifndef MOSHX_CMD_LAUNCH_SSH_CHANNEL_H_
#define MOSHX_CMD_LAUNCH_SSH_CHANNEL_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace moshx::cmd {

class SshChannel {
 public:
  // Starts argv[0] (looked up on PATH) with `argv`. The exec error (e.g.
  // NotFound "cannot run ssh: No such file or directory") when it cannot be
  // executed; the errno of a failing socketpair/pipe/fork.
  static absl::StatusOr<std::unique_ptr<SshChannel>> Start(const std::vector<std::string>& argv);

  ~SshChannel();
  SshChannel(const SshChannel&) = delete;
  SshChannel& operator=(const SshChannel&) = delete;

  // Writes all of `data` to the child's stdin. Unavailable when the child
  // stopped reading (closed its stdin or exited); Aborted as soon as the
  // child writes to stdout (or closes it) before all of `data` went out: the
  // conversation is half-duplex, so output during a write means the other
  // side gave up (read it with ReadLine). Part of `data` may have been sent.
  absl::Status Write(absl::string_view data);

  // Half-closes the child's stdin: it reads end of file.
  void CloseInput();

  // The longest line ReadLine accepts: a probe line carries one path
  // (PATH_MAX is 4096 on Linux); anything longer is a hostile remote.
  static constexpr size_t kMaxLineBytes = 16 * 1024;

  // The next line of the child's stdout without its newline. Unavailable at
  // end of output (the child exited or closed stdout) with no partial line;
  // ResourceExhausted for a line longer than kMaxLineBytes; DeadlineExceeded
  // when no complete line arrived within the read timeout.
  absl::StatusOr<std::string> ReadLine();

  // How long ReadLine waits for a line (default kDefaultReadTimeout).
  void set_read_timeout(absl::Duration timeout) { read_timeout_ = timeout; }

  // Longer than sshd's default LoginGraceTime (120 s), so that a password
  // typed slowly at ssh's prompt still gets through; a remote that goes
  // silent for longer is treated as gone.
  static constexpr absl::Duration kDefaultReadTimeout = absl::Seconds(180);

  // Waits for the child to exit and returns its exit status (128+N when
  // killed by signal N). Closes the child's stdin first.
  int Wait();

  // Closes the child's stdin and waits at most `timeout` for it to exit
  // (draining stderr); true when it did (its status is then Wait()'s). A
  // child still running is left to the destructor.
  bool WaitExit(absl::Duration timeout);

  // What the child wrote to stderr so far (the last 4 KiB at most).
  std::string ErrorOutput() const { return stderr_; }

  pid_t pid() const { return pid_; }

  // For a conversation that turns into a byte stream after its lines
  // (`moshx connect --transport ssh`, docs/ssh-path.md): our end of the
  // child's stdin (a socket) and its stdout (a pipe); -1 once closed. They
  // stay owned by the channel: a new owner dup(2)s them. Bytes ReadLine
  // already read past the last line are in buffered_output().
  int input_fd() const { return in_fd_; }
  int output_fd() const { return out_fd_; }
  const std::string& buffered_output() const { return out_buffer_; }

 private:
  SshChannel() = default;
  // Waits until `fd` is ready for `events` while draining stderr; false when
  // the wait failed or `deadline` passed.
  bool WaitFor(int fd, short events, absl::Time deadline);
  // Waits until stdin is writable (1), stdout has something to read or ended
  // (0), or poll failed (-1), draining stderr meanwhile.
  int WaitWritable();
  void DrainStderr();

  pid_t pid_ = -1;
  int in_fd_ = -1;   // socket, our end of the child's stdin
  int out_fd_ = -1;  // pipe, child's stdout
  int err_fd_ = -1;  // pipe, child's stderr
  std::string out_buffer_;
  std::string stderr_;
  bool exited_ = false;
  int exit_status_ = 0;
  absl::Duration read_timeout_ = kDefaultReadTimeout;
};

// Reads lines from `channel` until one is `marker` (trailing whitespace
// aside), appending every other line with its newline to `before`; at most
// `max_lines` lines. True when the marker was read (the channel then stands
// right after it); false at end of output, on a read error or after
// `max_lines` lines without it.
bool ReadLinesUntil(SshChannel& channel, absl::string_view marker, int max_lines,
                    std::string* before);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SSH_CHANNEL_H_
