// Hardening takes effect in the process that calls it, and only there: a
// hardened process writes no core file and is not dumpable, the programs it
// spawns get the old core limit back, and a secret taken from the
// environment leaves no copy in the environment block.
#include "cmd/sys/hardening.h"

#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cmd/sys/spawn.h"
#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

// Runs `body` in a forked child (hardening is process-wide and cannot be
// undone) and returns its exit code; -1 if it did not exit normally.
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The soft "Max core file size" of /proc/self/limits as printed by `text`.
std::string SoftCoreLimit(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "Max core file size")) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      return words.empty() ? "" : std::string(words[0]);
    }
  }
  return "";
}

TEST(HardeningTest, HardenedProcessHasNoCoreLimitAndIsNotDumpable) {
  EXPECT_EQ(InChild([] {
              if (prctl(PR_GET_DUMPABLE) != 1) return 10;  // the default before
              if (!HardenProcess().ok()) return 11;
              struct rlimit core;
              if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0) return 12;
              if (prctl(PR_GET_DUMPABLE) != 0) return 13;
              if (CoreLimitBeforeHardening() == nullptr) return 14;
              return 0;
            }),
            0);
}

TEST(HardeningTest, ForkedChildrenStayHardened) {
  EXPECT_EQ(InChild([] {
              if (!HardenProcess().ok()) return 11;
              return InChild([] {
                struct rlimit core;
                if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0) return 12;
                return prctl(PR_GET_DUMPABLE) == 0 ? 0 : 13;
              });
            }),
            0);
}

TEST(HardeningTest, SpawnedProgramsGetTheOldCoreLimitBack) {
  EXPECT_EQ(InChild([] {
              struct rlimit core;
              if (getrlimit(RLIMIT_CORE, &core) != 0) return 10;
              core.rlim_cur = 1 << 20;
              if (core.rlim_max != RLIM_INFINITY && core.rlim_max < core.rlim_cur) {
                core.rlim_max = core.rlim_cur;  // needs privilege; fails loudly below
              }
              if (setrlimit(RLIMIT_CORE, &core) != 0) return 11;
              if (!HardenProcess().ok()) return 12;
              ScopedFd read_end, write_end;
              if (!OpenPipe(&read_end, &write_end).ok()) return 13;
              SpawnOptions options;
              options.argv = {"/bin/cat", "/proc/self/limits"};
              options.stdout_fd = write_end.get();
              absl::StatusOr<SpawnedProcess> cat = Spawn(options);
              if (!cat.ok()) return 14;
              write_end.reset();
              std::string out;
              char buf[4096];
              for (ssize_t n; (n = read(read_end.get(), buf, sizeof buf)) > 0;) out.append(buf, n);
              absl::StatusOr<int> status = WaitForChild(cat->pid);
              if (!status.ok() || ShellExitCode(*status) != 0) return 15;
              return SoftCoreLimit(out) == "1048576" ? 0 : 16;
            }),
            0);
}

TEST(HardeningTest, SecretIsTakenOnceAndWipedFromTheEnvironment) {
  ASSERT_EQ(setenv("MOSHX_HARDENING_TEST_SECRET", "AAECAwQFBgcICQoLDA0ODw", 1), 0);
  char* in_environment = getenv("MOSHX_HARDENING_TEST_SECRET");
  ASSERT_NE(in_environment, nullptr);
  std::optional<std::string> taken =
      TakeSecretEnvironmentVariable("MOSHX_HARDENING_TEST_SECRET");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(*taken, "AAECAwQFBgcICQoLDA0ODw");
  EXPECT_EQ(getenv("MOSHX_HARDENING_TEST_SECRET"), nullptr);
  // glibc keeps setenv's strings for the life of the process: the old value
  // is still addressable, and must hold zeros.
  EXPECT_EQ(in_environment[0], '\0');
  EXPECT_EQ(std::string(in_environment, 22), std::string(22, '\0'));
  EXPECT_FALSE(TakeSecretEnvironmentVariable("MOSHX_HARDENING_TEST_SECRET").has_value());
}

}  // namespace
}  // namespace moshx::sys
