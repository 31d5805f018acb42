#include "cmd/sys/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/sys/hardening.h"

extern char** environ;

namespace moshx::sys {
namespace {

// Everything the child needs, built before fork() so that the child only
// makes async-signal-safe calls.
struct ExecPlan {
  std::string program;
  bool search_path = false;
  std::vector<std::string> argv, envp;
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

bool Dropped(absl::string_view entry, const SpawnOptions& options) {
  const std::string name = EnvName(entry);
  for (const std::string& unset : options.unset_env) {
    if (unset == name) return true;
  }
  for (const std::string& set : options.set_env) {
    if (EnvName(set) == name) return true;
  }
  return false;
}

// The inherited environment (the children's, not read for settings: those
// come from the map main.cc builds) with `unset_env` and `set_env` applied.
std::vector<std::string> ChildEnvironment(const SpawnOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!Dropped(*e, options)) env.emplace_back(*e);
  }
  env.insert(env.end(), options.set_env.begin(), options.set_env.end());
  return env;
}

absl::StatusOr<ExecPlan> MakePlan(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty command");
  for (const std::string& e : options.set_env) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      return absl::InvalidArgumentError("environment entry not NAME=value: " + e);
    }
  }
  ExecPlan plan;
  plan.program = options.program.empty() ? options.argv[0] : options.program;
  if (plan.program.empty()) return absl::InvalidArgumentError("empty command name");
  plan.search_path = !absl::StrContains(plan.program, '/');
  plan.argv = options.argv;
  plan.envp = ChildEnvironment(options);
  plan.Finish();
  return plan;
}

// Reads the child's exec report: OK on end of file (exec succeeded), else
// the child's errno as a Status.
absl::Status ReadExecReport(ScopedFd* report, const std::string& program) {
  if (!report->valid()) return absl::OkStatus();
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(report->get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  report->reset();
  if (n != static_cast<ssize_t>(sizeof(child_errno))) return absl::OkStatus();
  return absl::ErrnoToStatus(child_errno, absl::StrCat("cannot run ", program));
}

// --- Child side: async-signal-safe calls only from here to exec. ---

[[noreturn]] void ChildFail(int report_fd) {
  int err = errno;
  (void)!write(report_fd, &err, sizeof(err));  // a lost report still exits 127
  _exit(127);
}

void ResetSignals(bool all) {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  if (!all) {
    sigaction(SIGPIPE, &dfl, nullptr);
    return;
  }
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Makes `fds[i]` (kInherit, kDevNull or a descriptor) descriptor i. The
// sources are first moved above 2, so a source that is itself 0, 1 or 2 is
// not overwritten before use; dup2 clears close-on-exec on the targets.
void SetUpStdio(const int (&fds)[3], int report_fd) {
  int sources[3];
  for (int i = 0; i < 3; ++i) {
    sources[i] = fds[i];
    if (fds[i] == kDevNull) {
      sources[i] = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
    }
    if (fds[i] >= 0 || fds[i] == kDevNull) {
      sources[i] = sources[i] < 0 ? -1 : fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
      if (sources[i] < 0) ChildFail(report_fd);
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (sources[i] >= 0 && dup2(sources[i], i) < 0) ChildFail(report_fd);
  }
}

// The pty case: a new session whose controlling terminal is `tty`, on 0/1/2.
void AttachControllingTty(const char* tty, int report_fd) {
  if (setsid() < 0) ChildFail(report_fd);
  int fd = open(tty, O_RDWR);  // the first terminal a session leader opens: its ctty
  if (fd < 0) ChildFail(report_fd);
  ioctl(fd, TIOCSCTTY, 0);
  for (int i = 0; i <= 2; ++i) {
    if (dup2(fd, i) < 0) ChildFail(report_fd);
  }
  if (fd > 2) close(fd);
}

[[noreturn]] void RunChild(const SpawnOptions& options, const ExecPlan& plan, int report_fd,
                           int hold_fd, int release_fd) {
  ResetSignals(options.reset_signals);
  // The core limit moshx had before it hardened itself: the child is
  // another program (execve makes it dumpable again).
  if (const struct rlimit* core = CoreLimitBeforeHardening()) setrlimit(RLIMIT_CORE, core);
  // Our copy of the hold pipe's write end would keep us waiting forever.
  if (release_fd >= 0) close(release_fd);
  if (!options.controlling_tty.empty()) {
    AttachControllingTty(options.controlling_tty.c_str(), report_fd);
  } else {
    SetUpStdio({options.stdin_fd, options.stdout_fd, options.stderr_fd}, report_fd);
  }
  if (hold_fd >= 0) {
    char c;
    while (read(hold_fd, &c, 1) < 0 && errno == EINTR) {
    }
  }
  if (!options.working_directory.empty() && chdir(options.working_directory.c_str()) != 0) {
    (void)!chdir("/");  // the child still starts, wherever it is
  }
  environ = const_cast<char**>(plan.envp_ptrs.data());
  char* const* argv = plan.argv_ptrs.data();
  if (plan.search_path) {
    execvp(plan.program.c_str(), argv);
  } else {
    execv(plan.program.c_str(), argv);
  }
  ChildFail(report_fd);
}

}  // namespace

absl::StatusOr<SpawnedProcess> Spawn(const SpawnOptions& options) {
  absl::StatusOr<ExecPlan> plan = MakePlan(options);
  if (!plan.ok()) return plan.status();
  SpawnedProcess child;
  child.program = plan->program;
  ScopedFd report_write, hold_read;
  absl::Status st = OpenPipe(&child.exec_report, &report_write);
  if (st.ok() && options.hold_until_release) st = OpenPipe(&hold_read, &child.release);
  if (!st.ok()) return st;
  child.pid = fork();
  if (child.pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (child.pid == 0) {
    RunChild(options, *plan, report_write.get(), hold_read.get(), child.release.get());
  }
  report_write.reset();  // so that a successful exec reads as end of file
  hold_read.reset();
  if (options.hold_until_release) return child;
  st = ReadExecReport(&child.exec_report, child.program);
  if (!st.ok()) {
    // The child has exited 127 (or is about to): reap it here.
    WaitForChild(child.pid).IgnoreError();  // the exec error is what matters
    return st;
  }
  return child;
}

absl::Status OpenPipe(ScopedFd* read_end, ScopedFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return absl::OkStatus();
}

absl::Status ReleaseAndAwaitExec(SpawnedProcess* child) {
  child->release.reset();
  return ReadExecReport(&child->exec_report, child->program);
}

absl::StatusOr<int> WaitForChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "waitpid");
  }
  return status;
}

int ShellExitCode(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace moshx::sys
