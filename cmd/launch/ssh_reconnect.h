// SshReconnect: brings back the SSH path of `moshx connect --transport auto`
// after its ssh ended (docs/ssh-path.md §5, "Reconnecting").
//
// It runs ssh again with BatchMode (keys and agent only: never a prompt
// drawn over the session) and the remote command `moshx serve
// --ssh-bridge-to PORT` (a bridge to the session's UDP port, no new
// session). Once the remote prints kBridgeLine, the new ssh's stdout and
// stdin become a net::StreamPath handed to the path handler (the caller puts
// it under its net::DualPath). Failed attempts are retried after 1, 2, 4 ...
// 60 s, without limit, each time PathFailed() is called or the retry is due.
//
// When ssh says it needs the user (a password, a passphrase, an unknown host
// key: BatchMode refuses these), needs_user() turns true and retries stop:
// the caller says so in the notification bar and, on the user's next key,
// restores the terminal and calls ReconnectInteractively(), which runs ssh
// without BatchMode in the foreground, its prompts on /dev/tty.
//
// Ownership: `loop` and `clock` must outlive this object; the working ssh
// process lives as long as it (or until the next reconnect), and is ended
// (SIGTERM) by its destruction. Loop thread only.
#ifndef MOSHX_CMD_LAUNCH_SSH_RECONNECT_H_
#define MOSHX_CMD_LAUNCH_SSH_RECONNECT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cmd/launch/ssh_channel.h"
#include "net/clock.h"
#include "net/event_loop.h"
#include "net/stream_path.h"

namespace moshx::cmd {

class SshReconnect {
 public:
  struct Options {
    // ssh ... -o BatchMode=yes -T -- DEST 'moshx serve --ssh-bridge-to PORT'
    std::vector<std::string> batch_argv;
    // The same without BatchMode (ReconnectInteractively).
    std::vector<std::string> interactive_argv;
    absl::Duration first_retry = absl::Seconds(1);
    absl::Duration max_retry = absl::Seconds(60);
    // An attempt that has not printed the bridge line by then is given up.
    absl::Duration attempt_timeout = absl::Seconds(30);
  };
  using PathHandler = std::function<void(std::unique_ptr<net::StreamPath>)>;
  // A line for the notification bar and the -v log ("SSH connection back",
  // "reconnecting SSH failed: ...").
  using NoteHandler = std::function<void(const std::string&)>;

  SshReconnect(net::EventLoop* loop, const net::Clock* clock, Options options,
               PathHandler on_path, NoteHandler on_note);
  ~SshReconnect();
  SshReconnect(const SshReconnect&) = delete;
  SshReconnect& operator=(const SshReconnect&) = delete;

  // The SSH path failed: an attempt starts now unless one runs, waits for
  // its retry time, or waits for the user.
  void PathFailed();

  // BatchMode could not log in: the user must type something.
  bool needs_user() const { return needs_user_; }

  // Runs ssh without BatchMode and waits (blocking, up to ssh's own
  // timeouts and 180 s for the bridge line) until the bridge is up; the
  // caller has restored the terminal for ssh's prompts. OK: the path went to
  // the path handler. Otherwise why not (retries by PathFailed() resume).
  absl::Status ReconnectInteractively();

  uint64_t attempts() const { return attempts_; }
  uint64_t reconnects() const { return reconnects_; }

 private:
  void Attempt();
  void OnOutput();
  void Failed(const std::string& why);
  absl::Status Bridged(std::unique_ptr<SshChannel> channel);
  void ScheduleRetry();

  net::EventLoop* const loop_;
  const net::Clock* const clock_;
  const Options options_;
  PathHandler on_path_;
  NoteHandler on_note_;
  std::unique_ptr<SshChannel> attempt_;  // running, before its bridge line
  std::unique_ptr<SshChannel> live_;     // the ssh whose bridge carries the path
  std::string line_;                     // the attempt's output so far
  net::MonoTime attempt_deadline_;
  absl::Duration backoff_;
  net::EventLoop::AlarmId retry_alarm_ = 0;
  net::EventLoop::AlarmId timeout_alarm_ = 0;
  bool retry_pending_ = false;
  bool needs_user_ = false;
  uint64_t attempts_ = 0;
  uint64_t reconnects_ = 0;
};

// Whether ssh's error output says it needed the user (a password,
// passphrase or host key confirmation that BatchMode refused).
bool SshNeedsUser(const std::string& ssh_stderr);

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_LAUNCH_SSH_RECONNECT_H_
