#include "cmd/sys/pty.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/sys/passwd.h"
#include "cmd/sys/spawn.h"

namespace moshx::sys {
namespace {

absl::Status EndOfStream() {
  return absl::OutOfRangeError("pty: end of stream");
}

// What to run: the options' argv, or the login shell of the current uid as
// "-" + its basename ("-bash").
SpawnOptions ChildOptions(const PtyOptions& options, const std::string& slave) {
  SpawnOptions so;
  if (options.argv.empty()) {
    so.program = LoginShellForUid(getuid(), options.passwd_path, options.shell);
    so.argv = {"-" + so.program.substr(so.program.rfind('/') + 1)};
  } else {
    so.argv = options.argv;
  }
  so.controlling_tty = slave;
  so.set_env = {"TERM=" + options.term};
  so.set_env.insert(so.set_env.end(), options.extra_env.begin(), options.extra_env.end());
  so.unset_env = {"STY"};
  so.working_directory = options.working_directory.empty()
                             ? HomeDirectoryForUid(getuid(), options.passwd_path, options.home)
                             : options.working_directory;
  so.reset_signals = true;
  so.hold_until_release = options.hold_until_release;
  return so;
}

absl::Status SetWinsize(int fd, WindowSize size) {
  struct winsize ws = {};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  if (ioctl(fd, TIOCSWINSZ, &ws) != 0) return absl::ErrnoToStatus(errno, "ioctl(TIOCSWINSZ)");
  return absl::OkStatus();
}

// Opens a Unix98 master, unlocked, nonblocking, with IUTF8 and `size` set.
absl::StatusOr<ScopedFd> OpenMaster(WindowSize size, std::string* slave) {
  ScopedFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return absl::ErrnoToStatus(errno, "posix_openpt");
  if (grantpt(master.get()) != 0) return absl::ErrnoToStatus(errno, "grantpt");
  if (unlockpt(master.get()) != 0) return absl::ErrnoToStatus(errno, "unlockpt");
  char name[PATH_MAX];
  int err = ptsname_r(master.get(), name, sizeof(name));
  if (err != 0) return absl::ErrnoToStatus(err, "ptsname_r");
  *slave = name;
  int flags = fcntl(master.get(), F_GETFL);
  if (flags < 0 || fcntl(master.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, "fcntl(O_NONBLOCK)");
  }
  struct termios tio;
  if (tcgetattr(master.get(), &tio) != 0) return absl::ErrnoToStatus(errno, "tcgetattr");
  tio.c_iflag |= IUTF8;
  if (tcsetattr(master.get(), TCSANOW, &tio) != 0) return absl::ErrnoToStatus(errno, "tcsetattr");
  absl::Status st = SetWinsize(master.get(), size);
  if (!st.ok()) return st;
  return master;
}

}  // namespace

bool IsEndOfStream(const absl::Status& status) {
  return absl::IsOutOfRange(status) && status.message() == "pty: end of stream";
}

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exit ", code);
  return absl::StrCat("signal ", signal, core_dumped ? " (core dumped)" : "");
}

absl::StatusOr<std::unique_ptr<Pty>> Pty::Spawn(const PtyOptions& options) {
  std::string slave;
  absl::StatusOr<ScopedFd> master = OpenMaster(options.size, &slave);
  if (!master.ok()) return master.status();
  absl::StatusOr<SpawnedProcess> child = sys::Spawn(ChildOptions(options, slave));
  if (!child.ok()) return child.status();
  return std::unique_ptr<Pty>(new Pty(*std::move(master), *std::move(child), slave));
}

Pty::Pty(ScopedFd master, SpawnedProcess child, std::string slave_path)
    : master_(std::move(master)),
      pid_(child.pid),
      slave_path_(std::move(slave_path)),
      child_(std::move(child)) {}

Pty::~Pty() {
  if (child_.release.valid() && !exit_status_.has_value()) {
    kill(pid_, SIGKILL);  // never let a held child exec after we are gone
    Wait(0).IgnoreError();  // reaps what we just killed; nothing else to do
  }
  master_.reset();
  if (!exit_status_.has_value()) {
    kill(-pid_, SIGHUP);
    Wait(WNOHANG).IgnoreError();  // never blocks: a survivor is reaped at exit
  }
}

absl::Status Pty::Release() {
  absl::Status exec = ReleaseAndAwaitExec(&child_);
  if (!exec.ok()) Wait(0).IgnoreError();  // the child exited 127; the exec error is the news
  return exec;
}

absl::Status Pty::Resize(WindowSize size) {
  return SetWinsize(master_.get(), size);
}

absl::StatusOr<WindowSize> Pty::GetSize() const {
  struct winsize ws = {};
  if (ioctl(master_.get(), TIOCGWINSZ, &ws) != 0) {
    return absl::ErrnoToStatus(errno, "ioctl(TIOCGWINSZ)");
  }
  return WindowSize{ws.ws_row, ws.ws_col};
}

absl::StatusOr<size_t> Pty::Read(char* buffer, size_t max) {
  if (max == 0) return 0;
  for (;;) {
    ssize_t n = read(master_.get(), buffer, max);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0 || errno == EIO) return EndOfStream();
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "read pty");
  }
}

absl::StatusOr<size_t> Pty::Write(absl::string_view data) {
  if (data.empty()) return 0;
  for (;;) {
    ssize_t n = write(master_.get(), data.data(), data.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EIO) return EndOfStream();
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "write pty");
  }
}

absl::StatusOr<TerminalModes> Pty::GetTerminalModes() const {
  struct termios tio;
  if (tcgetattr(master_.get(), &tio) != 0) return absl::ErrnoToStatus(errno, "tcgetattr");
  return TerminalModes{(tio.c_lflag & ECHO) != 0, (tio.c_lflag & ICANON) != 0};
}

absl::StatusOr<std::optional<ExitStatus>> Pty::Wait(int flags) {
  if (exit_status_.has_value()) return exit_status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, flags);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return absl::ErrnoToStatus(errno, "waitpid");
  if (r == 0) return std::nullopt;
  ExitStatus exit;
  exit.exited = WIFEXITED(status);
  exit.code = exit.exited ? WEXITSTATUS(status) : 0;
  exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  exit.core_dumped = WIFSIGNALED(status) && WCOREDUMP(status);
  exit_status_ = exit;
  return exit_status_;
}

absl::StatusOr<std::optional<ExitStatus>> Pty::TryReap() {
  return Wait(WNOHANG);
}

absl::StatusOr<ExitStatus> Pty::WaitForExit() {
  absl::StatusOr<std::optional<ExitStatus>> r = Wait(0);
  if (!r.ok()) return r.status();
  return **r;
}

absl::Status Pty::Kill(int signal) {
  if (exit_status_.has_value()) {
    return absl::FailedPreconditionError("pty child already reaped");
  }
  if (kill(-pid_, signal) != 0) return absl::ErrnoToStatus(errno, "kill");
  return absl::OkStatus();
}

}  // namespace moshx::sys
