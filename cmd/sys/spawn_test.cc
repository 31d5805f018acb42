#include "cmd/sys/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

using ::testing::HasSubstr;

// Everything readable from `fd` until end of file.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, n);
  }
  return out;
}

// Runs `options` with stdout on a pipe; returns what the child printed and
// its exit code.
std::pair<std::string, int> RunCapturing(SpawnOptions options) {
  ScopedFd read_end, write_end;
  EXPECT_TRUE(OpenPipe(&read_end, &write_end).ok());
  options.stdout_fd = write_end.get();
  absl::StatusOr<SpawnedProcess> child = Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  write_end.reset();
  std::string out = ReadAll(read_end.get());
  absl::StatusOr<int> status = child.ok() ? WaitForChild(child->pid) : absl::StatusOr<int>(-1);
  return {out, status.ok() ? ShellExitCode(*status) : -1};
}

TEST(SpawnTest, RunsTheCommandWithItsDescriptors) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "cat; echo \"[$0]\"; exit 4"};
  o.stdin_fd = kDevNull;
  auto [out, code] = RunCapturing(o);
  EXPECT_EQ(out, "[/bin/sh]\n");
  EXPECT_EQ(code, 4);
}

TEST(SpawnTest, ANameIsLookedUpInPathAndProgramCanDifferFromArgv0) {
  SpawnOptions o;
  o.argv = {"echo", "found"};
  EXPECT_EQ(RunCapturing(o).first, "found\n");
  o.program = "/bin/sh";
  o.argv = {"-sh", "-c", "echo \"$0\""};
  EXPECT_EQ(RunCapturing(o).first, "-sh\n");
}

TEST(SpawnTest, EnvironmentIsInheritedWithChanges) {
  setenv("MOSHX_SPAWN_KEEP", "kept", 1);
  setenv("MOSHX_SPAWN_DROP", "dropped", 1);
  setenv("MOSHX_SPAWN_SET", "old", 1);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo \"$MOSHX_SPAWN_KEEP|${MOSHX_SPAWN_DROP-unset}|$MOSHX_SPAWN_SET|"
            "$MOSHX_SPAWN_NEW\""};
  o.set_env = {"MOSHX_SPAWN_SET=new", "MOSHX_SPAWN_NEW=x=y"};
  o.unset_env = {"MOSHX_SPAWN_DROP"};
  EXPECT_EQ(RunCapturing(o).first, "kept|unset|new|x=y\n");
}

TEST(SpawnTest, WorkingDirectoryFallsBackToRoot) {
  SpawnOptions o;
  o.argv = {"/bin/pwd"};
  o.working_directory = "/nonexistent/moshx-dir";
  EXPECT_EQ(RunCapturing(o).first, "/\n");
  o.working_directory = "/tmp";
  EXPECT_EQ(RunCapturing(o).first, "/tmp\n");
}

TEST(SpawnTest, SigpipeIsDefaultInTheChildEvenWhenIgnoredHere) {
  signal(SIGPIPE, SIG_IGN);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "grep SigIgn /proc/self/status"};
  std::string out = RunCapturing(o).first;
  signal(SIGPIPE, SIG_DFL);
  // SIGPIPE is signal 13: bit 12 of the ignored mask.
  unsigned long long mask = std::stoull(out.substr(out.find(':') + 1), nullptr, 16);
  EXPECT_EQ(mask & (1ull << 12), 0u) << out;
}

TEST(SpawnTest, ExecFailureIsAStatusAndTheChildIsReaped) {
  SpawnOptions o;
  o.argv = {"/nonexistent/moshx-no-such-program", "arg"};
  absl::StatusOr<SpawnedProcess> child = Spawn(o);
  ASSERT_FALSE(child.ok());
  EXPECT_TRUE(absl::IsNotFound(child.status())) << child.status();
  EXPECT_THAT(std::string(child.status().message()),
              HasSubstr("cannot run /nonexistent/moshx-no-such-program: No such file"));
}

TEST(SpawnTest, BadOptionsAreRejected) {
  SpawnOptions o;
  EXPECT_TRUE(absl::IsInvalidArgument(Spawn(o).status()));
  o.argv = {""};
  EXPECT_TRUE(absl::IsInvalidArgument(Spawn(o).status()));
  o.argv = {"/bin/true"};
  o.set_env = {"NOEQUALS"};
  EXPECT_TRUE(absl::IsInvalidArgument(Spawn(o).status()));
}

TEST(SpawnTest, AHeldChildExecsOnlyOnRelease) {
  ScopedFd read_end, write_end;
  ASSERT_TRUE(OpenPipe(&read_end, &write_end).ok());
  SpawnOptions o;
  o.argv = {"/bin/echo", "released"};
  o.stdout_fd = write_end.get();
  o.hold_until_release = true;
  absl::StatusOr<SpawnedProcess> child = Spawn(o);
  ASSERT_TRUE(child.ok()) << child.status();
  write_end.reset();
  int flags = fcntl(read_end.get(), F_GETFL);
  fcntl(read_end.get(), F_SETFL, flags | O_NONBLOCK);
  usleep(100 * 1000);
  char c;
  EXPECT_LT(read(read_end.get(), &c, 1), 0) << "held child ran";
  ASSERT_TRUE(ReleaseAndAwaitExec(&*child).ok());
  fcntl(read_end.get(), F_SETFL, flags);
  EXPECT_EQ(ReadAll(read_end.get()), "released\n");
  EXPECT_EQ(ShellExitCode(*WaitForChild(child->pid)), 0);
}

TEST(SpawnTest, AHeldChildsExecFailureComesFromRelease) {
  SpawnOptions o;
  o.argv = {"/nonexistent/moshx-no-such-program"};
  o.hold_until_release = true;
  absl::StatusOr<SpawnedProcess> child = Spawn(o);
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE(absl::IsNotFound(ReleaseAndAwaitExec(&*child)));
  EXPECT_EQ(ShellExitCode(*WaitForChild(child->pid)), 127);
}

}  // namespace
}  // namespace moshx::sys
