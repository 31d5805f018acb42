#include "term/pty.h"

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
#include "term/passwd.h"

extern char** environ;

namespace moshx::term {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

absl::Status EndOfStream() {
  return absl::OutOfRangeError("pty: end of stream");
}

// Everything the child needs, built before fork() so that the child only
// makes async-signal-safe calls.
struct ExecPlan {
  std::string path;  // what to exec (a name is looked up in $PATH)
  bool search_path = false;
  std::vector<std::string> argv, envp;
  std::string working_directory;
  std::vector<char*> argv_ptrs, envp_ptrs;

  void Finish() {
    for (std::string& s : argv) argv_ptrs.push_back(s.data());
    for (std::string& s : envp) envp_ptrs.push_back(s.data());
    argv_ptrs.push_back(nullptr);
    envp_ptrs.push_back(nullptr);
  }
};

std::string EnvName(absl::string_view entry) {
  return std::string(entry.substr(0, entry.find('=')));
}

bool Overridden(absl::string_view entry, const PtyOptions& options) {
  std::string name = EnvName(entry);
  if (name == "TERM" || name == "STY") return true;
  for (const std::string& extra : options.extra_env) {
    if (EnvName(extra) == name) return true;
  }
  return false;
}

std::vector<std::string> ChildEnvironment(const PtyOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!Overridden(*e, options)) env.emplace_back(*e);
  }
  env.push_back("TERM=" + options.term);
  env.insert(env.end(), options.extra_env.begin(), options.extra_env.end());
  return env;
}

absl::StatusOr<ExecPlan> MakePlan(const PtyOptions& options) {
  for (const std::string& e : options.extra_env) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      return absl::InvalidArgumentError("extra_env entry not NAME=value: " + e);
    }
  }
  if (!options.argv.empty() && options.argv[0].empty()) {
    return absl::InvalidArgumentError("empty command name");
  }
  ExecPlan plan;
  if (options.argv.empty()) {
    plan.path = LoginShellForUid(getuid(), options.passwd_path);
    std::string base = plan.path.substr(plan.path.rfind('/') + 1);
    plan.argv = {"-" + base};
  } else {
    plan.path = options.argv[0];
    plan.search_path = !absl::StrContains(plan.path, '/');
    plan.argv = options.argv;
  }
  plan.envp = ChildEnvironment(options);
  plan.working_directory = options.working_directory.empty()
                               ? HomeDirectoryForUid(getuid(), options.passwd_path)
                               : options.working_directory;
  plan.Finish();
  return plan;
}

absl::Status SetWinsize(int fd, WindowSize size) {
  struct winsize ws = {};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  if (ioctl(fd, TIOCSWINSZ, &ws) != 0) return Errno("ioctl(TIOCSWINSZ)");
  return absl::OkStatus();
}

// Opens a Unix98 master, unlocked, nonblocking, with IUTF8 and `size` set.
absl::StatusOr<ScopedFd> OpenMaster(WindowSize size, std::string* slave) {
  ScopedFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return Errno("posix_openpt");
  if (grantpt(master.get()) != 0) return Errno("grantpt");
  if (unlockpt(master.get()) != 0) return Errno("unlockpt");
  char name[PATH_MAX];
  int err = ptsname_r(master.get(), name, sizeof(name));
  if (err != 0) return absl::ErrnoToStatus(err, "ptsname_r");
  *slave = name;
  int flags = fcntl(master.get(), F_GETFL);
  if (flags < 0 || fcntl(master.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Errno("fcntl(O_NONBLOCK)");
  }
  struct termios tio;
  if (tcgetattr(master.get(), &tio) != 0) return Errno("tcgetattr");
  tio.c_iflag |= IUTF8;
  if (tcsetattr(master.get(), TCSANOW, &tio) != 0) return Errno("tcsetattr");
  absl::Status st = SetWinsize(master.get(), size);
  if (!st.ok()) return st;
  return master;
}

absl::Status MakePipe(ScopedFd* read_end, ScopedFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return absl::OkStatus();
}

// --- Child side: async-signal-safe calls only from here to exec. ---

[[noreturn]] void ChildFail(int error_fd) {
  int err = errno;
  (void)!write(error_fd, &err, sizeof(err));
  _exit(127);
}

void ResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// `hold_fd` (-1: none) is the read end of the hold pipe. The child closes its
// copies of the hold pipe's write end (else it would wait for itself
// forever) and of the master.
[[noreturn]] void RunChild(const ExecPlan& plan, const char* slave_path,
                           int error_fd, int hold_fd, int hold_write_fd,
                           int master_fd) {
  ResetSignals();
  if (hold_write_fd >= 0) close(hold_write_fd);
  close(master_fd);
  if (setsid() < 0) ChildFail(error_fd);
  int slave = open(slave_path, O_RDWR);  // first tty opened: controlling tty
  if (slave < 0) ChildFail(error_fd);
  ioctl(slave, TIOCSCTTY, 0);
  for (int fd = 0; fd <= 2; ++fd) {
    if (dup2(slave, fd) < 0) ChildFail(error_fd);
  }
  if (slave > 2) close(slave);
  if (hold_fd >= 0) {
    char c;
    while (read(hold_fd, &c, 1) < 0 && errno == EINTR) {
    }
  }
  if (chdir(plan.working_directory.c_str()) != 0) (void)!chdir("/");
  environ = const_cast<char**>(plan.envp_ptrs.data());
  char* const* argv = plan.argv_ptrs.data();
  if (plan.search_path) {
    execvp(plan.path.c_str(), argv);
  } else {
    execv(plan.path.c_str(), argv);
  }
  ChildFail(error_fd);
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
  absl::StatusOr<ExecPlan> plan = MakePlan(options);
  if (!plan.ok()) return plan.status();
  std::string slave;
  absl::StatusOr<ScopedFd> master = OpenMaster(options.size, &slave);
  if (!master.ok()) return master.status();
  ScopedFd error_read, error_write, hold_read, hold_write;
  absl::Status st = MakePipe(&error_read, &error_write);
  if (st.ok() && options.hold_until_release) {
    st = MakePipe(&hold_read, &hold_write);
  }
  if (!st.ok()) return st;
  pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    RunChild(*plan, slave.c_str(), error_write.get(), hold_read.get(),
             hold_write.get(), master->get());
  }
  error_write.reset();  // so that a successful exec reads as EOF
  hold_read.reset();
  std::unique_ptr<Pty> pty(new Pty(*std::move(master), pid, slave,
                                   std::move(error_read), std::move(hold_write)));
  if (!options.hold_until_release) {
    st = pty->CollectExecError();
    if (!st.ok()) return st;
  }
  return pty;
}

Pty::Pty(ScopedFd master, pid_t pid, std::string slave_path,
         ScopedFd exec_error, ScopedFd release)
    : master_(std::move(master)),
      pid_(pid),
      slave_path_(std::move(slave_path)),
      exec_error_(std::move(exec_error)),
      release_(std::move(release)) {}

Pty::~Pty() {
  if (release_.valid() && !exit_status_.has_value()) {
    kill(pid_, SIGKILL);  // never let a held child exec after we are gone
    (void)Wait(0);
  }
  master_.reset();
  if (!exit_status_.has_value()) {
    kill(-pid_, SIGHUP);
    (void)Wait(WNOHANG);
  }
}

// Blocks until the child's exec succeeded (EOF on the CLOEXEC pipe) or it
// reported an exec error (its errno), in which case the child is reaped.
absl::Status Pty::CollectExecError() {
  if (!exec_error_.valid()) return absl::OkStatus();
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_error_.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  exec_error_.reset();
  if (n != static_cast<ssize_t>(sizeof(child_errno))) return absl::OkStatus();
  (void)Wait(0);
  return absl::ErrnoToStatus(child_errno, "exec");
}

absl::Status Pty::Release() {
  release_.reset();
  return CollectExecError();
}

absl::Status Pty::Resize(WindowSize size) {
  return SetWinsize(master_.get(), size);
}

absl::StatusOr<WindowSize> Pty::GetSize() const {
  struct winsize ws = {};
  if (ioctl(master_.get(), TIOCGWINSZ, &ws) != 0) {
    return Errno("ioctl(TIOCGWINSZ)");
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
    if (errno != EINTR) return Errno("read pty");
  }
}

absl::StatusOr<size_t> Pty::Write(absl::string_view data) {
  if (data.empty()) return 0;
  for (;;) {
    ssize_t n = write(master_.get(), data.data(), data.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EIO) return EndOfStream();
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno != EINTR) return Errno("write pty");
  }
}

absl::StatusOr<TerminalModes> Pty::GetTerminalModes() const {
  struct termios tio;
  if (tcgetattr(master_.get(), &tio) != 0) return Errno("tcgetattr");
  return TerminalModes{(tio.c_lflag & ECHO) != 0, (tio.c_lflag & ICANON) != 0};
}

absl::StatusOr<std::optional<ExitStatus>> Pty::Wait(int flags) {
  if (exit_status_.has_value()) return exit_status_;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, flags);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Errno("waitpid");
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
  if (kill(-pid_, signal) != 0) return Errno("kill");
  return absl::OkStatus();
}

}  // namespace moshx::term
