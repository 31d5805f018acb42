#include "cmd/sys/tty.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"

namespace moshx::sys {
namespace {

// The active ScopedRawMode's fd and saved settings, for the signal-safe
// restore. g_fd is -1 when none is active; it is published (release) only
// after g_saved is written and cleared before ScopedRawMode goes away.
// g_claimed serialises Enter() between threads.
std::atomic<bool> g_claimed{false};
std::atomic<int> g_fd{-1};
struct termios g_saved;
static_assert(std::atomic<int>::is_always_lock_free,
              "signal handlers need a lock-free flag");

absl::Status SetAttr(int fd, const struct termios& t) {
  int r;
  do {
    r = tcsetattr(fd, TCSANOW, &t);
  } while (r != 0 && errno == EINTR);
  return r == 0 ? absl::OkStatus() : absl::ErrnoToStatus(errno, "tcsetattr");
}

// tcsetattr succeeds if ANY change was applied; check every field we set.
bool SameSettings(const struct termios& a, const struct termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag &&
         a.c_cflag == b.c_cflag && a.c_lflag == b.c_lflag &&
         a.c_cc[VMIN] == b.c_cc[VMIN] && a.c_cc[VTIME] == b.c_cc[VTIME];
}

}  // namespace

bool IsTty(int fd) { return isatty(fd) == 1; }

absl::StatusOr<WindowSize> GetWindowSize(int fd) {
  struct winsize ws = {};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return absl::ErrnoToStatus(errno, "ioctl(TIOCGWINSZ)");
  if (ws.ws_row == 0 || ws.ws_col == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("terminal reports size ", ws.ws_row, "x", ws.ws_col));
  }
  return WindowSize{ws.ws_row, ws.ws_col};
}

void MakeRaw(struct termios* t) {
  cfmakeraw(t);
  t->c_iflag |= IUTF8;
}

absl::StatusOr<std::unique_ptr<ScopedRawMode>> ScopedRawMode::Enter(int fd) {
  if (g_claimed.exchange(true)) {
    return absl::FailedPreconditionError("raw mode is already active");
  }
  struct termios saved, raw, now;
  if (tcgetattr(fd, &saved) != 0) {
    absl::Status st = absl::ErrnoToStatus(errno, "tcgetattr");
    g_claimed.store(false);
    return st;
  }
  raw = saved;
  MakeRaw(&raw);
  g_saved = saved;
  g_fd.store(fd, std::memory_order_release);
  std::unique_ptr<ScopedRawMode> mode(new ScopedRawMode(fd, saved, raw));
  absl::Status st = mode->Resume();
  if (!st.ok()) return st;  // ~ScopedRawMode restores
  if (tcgetattr(fd, &now) != 0) return absl::ErrnoToStatus(errno, "tcgetattr");
  if (!SameSettings(now, raw)) {
    return absl::InternalError("terminal did not accept raw mode settings");
  }
  return mode;
}

ScopedRawMode::~ScopedRawMode() {
  Suspend().IgnoreError();  // on the way out nothing better can be done
  g_fd.store(-1, std::memory_order_release);
  g_claimed.store(false);
}

absl::Status ScopedRawMode::Suspend() { return SetAttr(fd_, saved_); }

absl::Status ScopedRawMode::Resume() { return SetAttr(fd_, raw_); }

void ScopedRawMode::RestoreFromSignalHandler() {
  int saved_errno = errno;
  int fd = g_fd.load(std::memory_order_acquire);
  if (fd >= 0) tcsetattr(fd, TCSANOW, &g_saved);
  errno = saved_errno;
}

}  // namespace moshx::sys
