#include "cmd/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace moshx::cmd {
namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  bool Open() { return pipe2(fds, O_CLOEXEC) == 0; }
};

[[noreturn]] void ExecChild(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_env, int out_fd, int err_fd,
                            int status_fd) {
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  for (const std::string& assignment : extra_env) putenv(const_cast<char*>(assignment.c_str()));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  int e = errno;
  (void)!write(status_fd, &e, sizeof(e));
  _exit(127);
}

}  // namespace

absl::StatusOr<ProcessResult> RunAndCapture(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& extra_env,
                                            absl::Duration timeout, size_t max_output) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  Pipe out, err, status;
  if (!out.Open() || !err.Open() || !status.Open()) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) ExecChild(argv, extra_env, out.fds[1], err.fds[1], status.fds[1]);
  for (Pipe* p : {&out, &err, &status}) {
    close(p->fds[1]);
    p->fds[1] = -1;
  }
  int exec_errno = 0;
  if (read(status.fds[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    waitpid(pid, nullptr, 0);
    return absl::NotFoundError(absl::StrCat("cannot run ", argv[0], ": ", strerror(exec_errno)));
  }
  ProcessResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out.fds[0], POLLIN, 0}, {err.fds[0], POLLIN, 0}};
  absl::Time deadline = timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                             : absl::Now() + timeout;
  int open_streams = 2;
  while (open_streams > 0) {
    int wait_ms = deadline == absl::InfiniteFuture()
                      ? -1
                      : static_cast<int>(std::max<int64_t>(
                            0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    int ready = poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return absl::DeadlineExceededError(
          absl::StrCat(argv[0], " did not finish within ", absl::FormatDuration(timeout)));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        if (sinks[i]->size() < max_output) sinks[i]->append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

}  // namespace moshx::cmd
