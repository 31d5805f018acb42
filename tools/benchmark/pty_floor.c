// pty_floor: the floor for a flood through a pty (issue 19). Runs a command
// on a fresh 80x24 pty and drains the master in 16 KiB reads (the size the
// moshx server reads) until the command exits and the pty is empty, doing
// nothing else with the bytes. Prints one JSON object:
//
//   {"seconds": wall time from fork to the last byte,
//    "cpu_s": this reader's user+system CPU seconds,
//    "child_cpu_s": the command's (and its children's) CPU seconds,
//    "bytes": bytes read, "reads": read(2) calls that returned data}
//
//   pty_floor -- seq 1 3000000
//
// Exit status: 0 on success, 1 on a usage or system error (message on
// stderr). Written in C so that the reader costs as little as possible.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double Seconds(const struct timeval* tv) {
  return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int Fail(const char* what) {
  fprintf(stderr, "pty_floor: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    fprintf(stderr, "usage: pty_floor -- COMMAND [ARG...]\n");
    return 1;
  }
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Fail("posix_openpt");
  if (grantpt(master) != 0 || unlockpt(master) != 0) return Fail("grantpt");
  const char* slave_name = ptsname(master);
  if (slave_name == NULL) return Fail("ptsname");
  struct winsize size = {24, 80, 0, 0};
  if (ioctl(master, TIOCSWINSZ, &size) != 0) return Fail("TIOCSWINSZ");

  const double start = Now();
  const pid_t pid = fork();
  if (pid < 0) return Fail("fork");
  if (pid == 0) {
    setsid();
    const int slave = open(slave_name, O_RDWR);
    if (slave < 0) _exit(127);
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    if (slave > 2) close(slave);
    execvp(argv[first], argv + first);
    _exit(127);
  }

  static char buffer[16384];
  unsigned long long bytes = 0, reads = 0;
  double last = start;
  for (;;) {
    const ssize_t n = read(master, buffer, sizeof(buffer));
    if (n > 0) {
      bytes += (unsigned long long)n;
      ++reads;
      last = Now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO: every slave descriptor is closed (the command ended)
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return Fail("waitpid");
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  printf("{\"seconds\": %.6f, \"cpu_s\": %.6f, \"child_cpu_s\": %.6f, "
         "\"bytes\": %llu, \"reads\": %llu, \"exit\": %d}\n",
         last - start, Seconds(&self.ru_utime) + Seconds(&self.ru_stime),
         Seconds(&children.ru_utime) + Seconds(&children.ru_stime), bytes, reads,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  close(master);
  return 0;
}
