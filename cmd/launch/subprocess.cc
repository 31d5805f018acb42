#include "cmd/launch/subprocess.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cmd/sys/scoped_fd.h"
#include "cmd/sys/spawn.h"

namespace moshx::cmd {

absl::StatusOr<ProcessResult> RunAndCapture(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& extra_env,
                                            absl::Duration timeout, size_t max_output) {
  sys::ScopedFd out_read, out_write, err_read, err_write;
  absl::Status pipes = sys::OpenPipe(&out_read, &out_write);
  if (pipes.ok()) pipes = sys::OpenPipe(&err_read, &err_write);
  if (!pipes.ok()) return pipes;
  sys::SpawnOptions options;
  options.argv = argv;
  options.set_env = extra_env;
  options.stdin_fd = sys::kDevNull;  // ssh asks for passwords on /dev/tty
  options.stdout_fd = out_write.get();
  options.stderr_fd = err_write.get();
  absl::StatusOr<sys::SpawnedProcess> child = sys::Spawn(options);
  if (!child.ok()) return child.status();
  const pid_t pid = child->pid;
  out_write.reset();  // the child holds the only write ends now
  err_write.reset();
  ProcessResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
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
      sys::WaitForChild(pid).IgnoreError();  // reaps what we just killed
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
  absl::StatusOr<int> status = sys::WaitForChild(pid);
  if (!status.ok()) return status.status();
  result.exit_code = sys::ShellExitCode(*status);
  return result;
}

}  // namespace moshx::cmd
