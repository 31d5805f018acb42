#include "cmd/launch/ssh_reconnect.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cmd/launch/server_args.h"
#include "cmd/launch/terminal_safe.h"

namespace moshx::cmd {
namespace {

// The bridge's first output is one short line (what a login script prints
// before it is allowed, up to this much).
constexpr size_t kMaxOutputBeforeBridge = 64 * 1024;

// The last non-empty line of ssh's error output, for a note.
std::string LastLine(const std::string& text) {
  absl::string_view t = absl::StripTrailingAsciiWhitespace(text);
  const size_t nl = t.rfind('\n');
  if (nl != absl::string_view::npos) t.remove_prefix(nl + 1);
  return TerminalSafe(t);
}

}  // namespace

bool SshNeedsUser(const std::string& ssh_stderr) {
  return absl::StrContains(ssh_stderr, "Permission denied") ||
         absl::StrContains(ssh_stderr, "Host key verification failed") ||
         absl::StrContains(ssh_stderr, "passphrase") ||
         absl::StrContains(ssh_stderr, "keyboard-interactive");
}

SshReconnect::SshReconnect(net::EventLoop* loop, const net::Clock* clock, Options options,
                           PathHandler on_path, NoteHandler on_note)
    : loop_(loop),
      clock_(clock),
      options_(std::move(options)),
      on_path_(std::move(on_path)),
      on_note_(std::move(on_note)),
      backoff_(options_.first_retry) {}

SshReconnect::~SshReconnect() {
  if (retry_alarm_ != 0) loop_->CancelAlarm(retry_alarm_);
  if (timeout_alarm_ != 0) loop_->CancelAlarm(timeout_alarm_);
  if (attempt_ != nullptr) loop_->UnwatchFd(attempt_->output_fd());
}

void SshReconnect::PathFailed() {
  if (attempt_ != nullptr || retry_pending_ || needs_user_) return;
  Attempt();
}

void SshReconnect::Attempt() {
  ++attempts_;
  line_.clear();
  absl::StatusOr<std::unique_ptr<SshChannel>> started = SshChannel::Start(options_.batch_argv);
  if (!started.ok()) {
    Failed(absl::StrCat("cannot run ssh: ", started.status().message()));
    return;
  }
  attempt_ = *std::move(started);
  absl::Status watched =
      loop_->WatchFd(attempt_->output_fd(), net::EventLoop::kReadable, [this](uint32_t) {
        OnOutput();
      });
  if (!watched.ok()) {
    attempt_.reset();
    Failed(absl::StrCat("cannot watch ssh: ", watched.message()));
    return;
  }
  timeout_alarm_ = loop_->ScheduleAlarm(clock_->Now() + options_.attempt_timeout, [this] {
    timeout_alarm_ = 0;
    if (attempt_ == nullptr) return;
    loop_->UnwatchFd(attempt_->output_fd());
    attempt_.reset();  // SIGTERM
    Failed("no answer from the remote moshx");
  });
}

void SshReconnect::OnOutput() {
  char buf[4096];
  const ssize_t n = read(attempt_->output_fd(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {  // ssh ended (or its stdout did) before the bridge line
    loop_->UnwatchFd(attempt_->output_fd());
    std::unique_ptr<SshChannel> done = std::move(attempt_);
    // Exited: Wait() only collects what is left in its stderr pipe.
    if (done->WaitExit(absl::Seconds(2))) done->Wait();
    const std::string err = done->ErrorOutput();
    if (SshNeedsUser(err)) needs_user_ = true;
    Failed(err.empty() ? "ssh ended" : LastLine(err));
    return;
  }
  line_.append(buf, static_cast<size_t>(n));
  // The remote sends nothing after its bridge line before it heard us
  // (docs/protocol.md §8.1): the line must end what was read.
  size_t start = 0;
  for (size_t nl = line_.find('\n'); nl != std::string::npos; nl = line_.find('\n', start)) {
    absl::string_view line(line_.data() + start, nl - start);
    start = nl + 1;
    if (absl::StripTrailingAsciiWhitespace(line) != kBridgeLine) continue;
    loop_->UnwatchFd(attempt_->output_fd());
    if (timeout_alarm_ != 0) loop_->CancelAlarm(timeout_alarm_);
    timeout_alarm_ = 0;
    std::unique_ptr<SshChannel> channel = std::move(attempt_);
    if (start != line_.size()) {
      Failed("the remote sent unexpected bytes after its bridge line");
      return;
    }
    absl::Status s = Bridged(std::move(channel));
    if (!s.ok()) Failed(std::string(s.message()));
    return;
  }
  if (line_.size() > kMaxOutputBeforeBridge) {
    loop_->UnwatchFd(attempt_->output_fd());
    if (timeout_alarm_ != 0) loop_->CancelAlarm(timeout_alarm_);
    timeout_alarm_ = 0;
    attempt_.reset();
    Failed("the remote printed too much before its bridge line");
  }
}

absl::Status SshReconnect::Bridged(std::unique_ptr<SshChannel> channel) {
  const int read_fd = dup(channel->output_fd());
  const int write_fd = read_fd < 0 ? -1 : dup(channel->input_fd());
  if (read_fd < 0 || write_fd < 0) {
    const int saved = errno;
    if (read_fd >= 0) close(read_fd);
    return absl::ErrnoToStatus(saved, "dup");
  }
  absl::StatusOr<std::unique_ptr<net::StreamPath>> path =
      net::StreamPath::Create(loop_, read_fd, write_fd, /*peer_known=*/true);
  if (!path.ok()) return path.status();
  live_ = std::move(channel);  // the previous one (if any) is ended here
  backoff_ = options_.first_retry;
  needs_user_ = false;
  ++reconnects_;
  on_note_("SSH connection back");
  on_path_(*std::move(path));
  return absl::OkStatus();
}

void SshReconnect::Failed(const std::string& why) {
  on_note_(needs_user_ ? absl::StrCat("SSH connection lost; it needs you (", why,
                                      "): press a key to reconnect")
                       : absl::StrCat("reconnecting SSH failed (", why, "); again in ",
                                      absl::FormatDuration(backoff_)));
  if (!needs_user_) ScheduleRetry();
}

void SshReconnect::ScheduleRetry() {
  retry_pending_ = true;
  retry_alarm_ = loop_->ScheduleAlarm(clock_->Now() + backoff_, [this] {
    retry_alarm_ = 0;
    retry_pending_ = false;
    if (attempt_ == nullptr && !needs_user_) Attempt();
  });
  backoff_ = std::min(backoff_ * 2, options_.max_retry);
}

absl::Status SshReconnect::ReconnectInteractively() {
  if (retry_alarm_ != 0) loop_->CancelAlarm(retry_alarm_);
  retry_alarm_ = 0;
  retry_pending_ = false;
  ++attempts_;
  absl::StatusOr<std::unique_ptr<SshChannel>> started =
      SshChannel::Start(options_.interactive_argv);
  if (!started.ok()) return started.status();
  std::unique_ptr<SshChannel> channel = *std::move(started);
  std::string before;
  if (!ReadLinesUntil(*channel, kBridgeLine, kMaxLinesBeforeBridge, &before)) {
    if (channel->WaitExit(absl::Seconds(2))) channel->Wait();
    const std::string err = channel->ErrorOutput();
    return absl::UnavailableError(err.empty() ? "ssh ended" : LastLine(err));
  }
  if (!channel->buffered_output().empty()) {
    return absl::UnavailableError("the remote sent unexpected bytes after its bridge line");
  }
  return Bridged(std::move(channel));
}

}  // namespace moshx::cmd
