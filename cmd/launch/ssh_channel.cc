#include "cmd/launch/ssh_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cmd/sys/scoped_fd.h"
#include "cmd/sys/spawn.h"

namespace moshx::cmd {
namespace {

constexpr size_t kMaxStderr = 4096;

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SshChannel>> SshChannel::Start(
    const std::vector<std::string>& argv) {
  int in[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair");
  }
  sys::ScopedFd in_ours(in[0]), in_theirs(in[1]), out_ours, out_theirs, err_ours, err_theirs;
  absl::Status pipes = sys::OpenPipe(&out_ours, &out_theirs);
  if (pipes.ok()) pipes = sys::OpenPipe(&err_ours, &err_theirs);
  if (!pipes.ok()) return pipes;
  sys::SpawnOptions options;
  options.argv = argv;
  options.stdin_fd = in_theirs.get();
  options.stdout_fd = out_theirs.get();
  options.stderr_fd = err_theirs.get();
  absl::StatusOr<sys::SpawnedProcess> child = sys::Spawn(options);
  if (!child.ok()) return child.status();
  std::unique_ptr<SshChannel> channel(new SshChannel);
  channel->pid_ = child->pid;
  channel->in_fd_ = in_ours.release();
  channel->out_fd_ = out_ours.release();
  channel->err_fd_ = err_ours.release();
  return channel;
}

SshChannel::~SshChannel() {
  CloseFd(&in_fd_);
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGTERM);
    sys::WaitForChild(pid_).IgnoreError();  // only fails if already reaped
  }
}

void SshChannel::DrainStderr() {
  char buf[1024];
  ssize_t n = read(err_fd_, buf, sizeof buf);
  if (n <= 0) {
    if (n == 0 || (errno != EINTR && errno != EAGAIN)) CloseFd(&err_fd_);
    return;
  }
  stderr_.append(buf, n);
  if (stderr_.size() > kMaxStderr) stderr_.erase(0, stderr_.size() - kMaxStderr);
}

bool SshChannel::WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {err_fd_, POLLIN, 0}};
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    int wait_ms = left == absl::InfiniteDuration()
                      ? -1
                      : static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1,
                                                           24 * 3600 * 1000));
    int n = poll(fds, err_fd_ >= 0 ? 2 : 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (err_fd_ >= 0 && fds[1].revents != 0) DrainStderr();
    if (fds[0].revents != 0) return true;
  }
}

int SshChannel::WaitWritable() {
  for (;;) {
    pollfd fds[3] = {{in_fd_, POLLOUT, 0}, {out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int n = poll(fds, 3, -1);  // negative descriptors are ignored
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (fds[2].revents != 0) DrainStderr();
    if (fds[1].revents != 0) return 0;
    if (fds[0].revents != 0) return 1;
  }
}

absl::Status SshChannel::Write(absl::string_view data) {
  while (!data.empty()) {
    int ready = in_fd_ < 0 ? -1 : WaitWritable();
    if (ready < 0) return absl::UnavailableError("the connection is closed");
    if (ready == 0) return absl::AbortedError("the other side answered before reading everything");
    ssize_t n = send(in_fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("the connection closed: ", std::strerror(errno)));
    data.remove_prefix(n);
  }
  return absl::OkStatus();
}

void SshChannel::CloseInput() {
  if (in_fd_ >= 0) shutdown(in_fd_, SHUT_WR);
}

absl::StatusOr<std::string> SshChannel::ReadLine() {
  const absl::Time deadline = absl::Now() + read_timeout_;
  for (;;) {
    size_t newline = out_buffer_.find('\n');
    if (newline != std::string::npos && newline <= kMaxLineBytes) {
      std::string line = out_buffer_.substr(0, newline);
      out_buffer_.erase(0, newline + 1);
      return line;
    }
    if (out_buffer_.size() > kMaxLineBytes) {
      out_buffer_.clear();
      CloseFd(&out_fd_);  // the conversation cannot continue in step
      return absl::ResourceExhaustedError(
          absl::StrCat("the remote sent a line longer than ", kMaxLineBytes, " bytes"));
    }
    if (out_fd_ < 0) return absl::UnavailableError("the connection closed");
    if (!WaitFor(out_fd_, POLLIN, deadline)) {
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "the remote sent nothing for ", absl::FormatDuration(read_timeout_)));
      }
      return absl::UnavailableError("the connection closed");
    }
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      CloseFd(&out_fd_);
      if (out_buffer_.empty()) return absl::UnavailableError("the connection closed");
      std::string rest = std::move(out_buffer_);
      out_buffer_.clear();
      return rest;
    }
    out_buffer_.append(buf, n);
  }
}

bool SshChannel::WaitExit(absl::Duration timeout) {
  CloseFd(&in_fd_);
  const absl::Time deadline = absl::Now() + timeout;
  while (!exited_) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      exit_status_ = r == pid_ ? sys::ShellExitCode(status) : 0;
      exited_ = true;
      break;
    }
    if (absl::Now() >= deadline) return false;
    // Sleeps in poll on stderr (a child writing there wakes us early).
    pollfd p = {err_fd_, POLLIN, 0};
    if (err_fd_ >= 0 && poll(&p, 1, 20) > 0) {
      DrainStderr();
    } else if (err_fd_ < 0) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  return true;
}

int SshChannel::Wait() {
  CloseFd(&in_fd_);
  if (!exited_) {
    // waitpid can only fail if the child was reaped elsewhere: then 0.
    exit_status_ = sys::ShellExitCode(sys::WaitForChild(pid_).value_or(0));
    exited_ = true;
  }
  // Whatever the child left in the stderr pipe; a background ssh master
  // (ControlPersist) may hold the pipe open, so never wait for its end.
  pollfd p = {err_fd_, POLLIN, 0};
  while (err_fd_ >= 0 && poll(&p, 1, 0) > 0) DrainStderr();
  return exit_status_;
}

bool ReadLinesUntil(SshChannel& channel, absl::string_view marker, int max_lines,
                    std::string* before) {
  for (int i = 0; i < max_lines; ++i) {
    absl::StatusOr<std::string> line = channel.ReadLine();
    if (!line.ok()) return false;
    if (absl::StripTrailingAsciiWhitespace(*line) == marker) return true;
    absl::StrAppend(before, *line, "\n");
  }
  return false;
}

}  // namespace moshx::cmd
