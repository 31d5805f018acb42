#include "cmd/sys/pty.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moshx::sys {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Pty> SpawnOrDie(PtyOptions options) {
  absl::StatusOr<std::unique_ptr<Pty>> pty = Pty::Spawn(options);
  EXPECT_TRUE(pty.ok()) << pty.status();
  return pty.ok() ? *std::move(pty) : nullptr;
}

std::unique_ptr<Pty> SpawnShell(const std::string& script,
                                WindowSize size = {24, 80}) {
  PtyOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.size = size;
  return SpawnOrDie(options);
}

// Reads until `needle` appears (or end of stream if needle is empty), with a
// 10 s deadline. *eof tells whether the stream ended.
std::string ReadUntil(Pty& pty, absl::string_view needle, bool* eof = nullptr) {
  std::string out;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  if (eof != nullptr) *eof = false;
  while (Clock::now() < deadline) {
    if (!needle.empty() && absl::StrContains(out, needle)) return out;
    pollfd p = {pty.master_fd(), POLLIN, 0};
    poll(&p, 1, 50);
    char buf[4096];
    absl::StatusOr<size_t> n = pty.Read(buf, sizeof(buf));
    if (!n.ok()) {
      EXPECT_TRUE(IsEndOfStream(n.status())) << n.status();
      if (eof != nullptr) *eof = true;
      return out;
    }
    out.append(buf, *n);
  }
  ADD_FAILURE() << "timed out waiting for '" << needle << "'; got: " << out;
  return out;
}

std::string ReadToEnd(Pty& pty) {
  bool eof = false;
  std::string out = ReadUntil(pty, "", &eof);
  EXPECT_TRUE(eof);
  return out;
}

TEST(PtyTest, ChildSeesOutputAndWindowSize) {
  auto pty = SpawnShell("echo hi; stty size");
  ASSERT_NE(pty, nullptr);
  std::string out = ReadToEnd(*pty);
  EXPECT_THAT(out, HasSubstr("hi\r\n"));
  EXPECT_THAT(out, HasSubstr("24 80\r\n"));
  absl::StatusOr<WindowSize> size = pty->GetSize();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, (WindowSize{24, 80}));
}

TEST(PtyTest, ResizeChangesSizeAndSendsSigwinch) {
  auto pty = SpawnShell(
      "trap 'stty size; exit 0' WINCH; echo ready; "
      "while :; do sleep 0.05; done");
  ASSERT_NE(pty, nullptr);
  ReadUntil(*pty, "ready");
  ASSERT_TRUE(pty->Resize({40, 132}).ok());
  std::string out = ReadToEnd(*pty);
  EXPECT_THAT(out, HasSubstr("40 132\r\n"));
  absl::StatusOr<ExitStatus> status = pty->WaitForExit();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->ShellCode(), 0);
}

TEST(PtyTest, ExitCodeIsPropagated) {
  auto pty = SpawnShell("exit 7");
  ASSERT_NE(pty, nullptr);
  ReadToEnd(*pty);
  absl::StatusOr<ExitStatus> status = pty->WaitForExit();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 7);
  EXPECT_EQ(status->ToString(), "exit 7");
}

TEST(PtyTest, DeathBySignalIsReported) {
  auto pty = SpawnShell("kill -TERM $$");
  ASSERT_NE(pty, nullptr);
  absl::StatusOr<ExitStatus> status = pty->WaitForExit();
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_EQ(status->ShellCode(), 128 + SIGTERM);
  // Once reaped, the pid may be reused: Kill must refuse.
  EXPECT_TRUE(absl::IsFailedPrecondition(pty->Kill(SIGTERM)));
}

TEST(PtyTest, TryReapIsNonblockingAndCached) {
  auto pty = SpawnShell("read x; exit 3");
  ASSERT_NE(pty, nullptr);
  absl::StatusOr<std::optional<ExitStatus>> r = pty->TryReap();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  ASSERT_TRUE(pty->Write("\n").ok());
  ReadToEnd(*pty);
  ASSERT_TRUE(pty->WaitForExit().ok());
  r = pty->TryReap();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->code, 3);
}

TEST(PtyTest, EchoFlagFollowsStty) {
  auto pty = SpawnShell(
      "stty -echo; echo off; read x; stty echo; echo on; read y");
  ASSERT_NE(pty, nullptr);
  ReadUntil(*pty, "off\r\n");
  absl::StatusOr<TerminalModes> modes = pty->GetTerminalModes();
  ASSERT_TRUE(modes.ok());
  EXPECT_FALSE(modes->echo);
  EXPECT_TRUE(modes->canonical);
  ASSERT_TRUE(pty->Write("a\n").ok());
  ReadUntil(*pty, "on\r\n");
  modes = pty->GetTerminalModes();
  ASSERT_TRUE(modes.ok());
  EXPECT_TRUE(modes->echo);
  ASSERT_TRUE(pty->Write("b\n").ok());
  // With echo on, the typed line comes back.
  EXPECT_THAT(ReadToEnd(*pty), HasSubstr("b\r\n"));
}

TEST(PtyTest, RawModeClearsCanonical) {
  auto pty = SpawnShell("stty raw; echo raw; read x");
  ASSERT_NE(pty, nullptr);
  ReadUntil(*pty, "raw");
  absl::StatusOr<TerminalModes> modes = pty->GetTerminalModes();
  ASSERT_TRUE(modes.ok());
  EXPECT_FALSE(modes->canonical);
  ASSERT_TRUE(pty->Kill(SIGKILL).ok());
}

TEST(PtyTest, ReadAfterExitEndsCleanly) {
  auto pty = SpawnShell("echo bye");
  ASSERT_NE(pty, nullptr);
  EXPECT_THAT(ReadToEnd(*pty), HasSubstr("bye"));
  char buf[16];
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<size_t> n = pty->Read(buf, sizeof(buf));
    EXPECT_TRUE(IsEndOfStream(n.status())) << n.status();
  }
  // Linux may accept (and discard) writes once the slave is closed, or
  // report end of stream; either way it must not block or fail otherwise.
  absl::StatusOr<size_t> w = pty->Write("x");
  EXPECT_TRUE(w.ok() || IsEndOfStream(w.status())) << w.status();
  ASSERT_TRUE(pty->WaitForExit().ok());
}

TEST(PtyTest, FloodIsReadInBoundedChunks) {
  PtyOptions options;
  options.argv = {"yes"};
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  constexpr size_t kChunk = 100;
  std::string out;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (out.size() < (1 << 20) && Clock::now() < deadline) {
    char buf[kChunk + 16];
    absl::StatusOr<size_t> n = pty->Read(buf, kChunk);
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_LE(*n, kChunk);
    if (*n == 0) {
      pollfd p = {pty->master_fd(), POLLIN, 0};
      poll(&p, 1, 50);
    }
    out.append(buf, *n);
  }
  ASSERT_GE(out.size(), size_t{1} << 20);
  out.resize(out.rfind('\n') + 1);
  for (absl::string_view line : absl::StrSplit(out, "\r\n", absl::SkipEmpty())) {
    ASSERT_EQ(line, "y");
  }
  ASSERT_TRUE(pty->Kill(SIGKILL).ok());
  absl::StatusOr<ExitStatus> status = pty->WaitForExit();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->signal, SIGKILL);
}

TEST(PtyTest, WriteNeverBlocksWhenChildDoesNotRead) {
  auto pty = SpawnShell("stty raw -echo; echo go; sleep 20");
  ASSERT_NE(pty, nullptr);
  ReadUntil(*pty, "go");
  std::string block(4096, 'z');
  size_t total = 0;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<size_t> n = pty->Write(block);
    ASSERT_TRUE(n.ok()) << n.status();
    total += *n;
    if (*n < block.size()) break;  // partial write or full buffer
  }
  EXPECT_GT(total, 0u);
  EXPECT_LT(total, 10000u * block.size()) << "the pty never filled up";
  ASSERT_TRUE(pty->Kill(SIGKILL).ok());
  ASSERT_TRUE(pty->WaitForExit().ok());
}

TEST(PtyTest, ChildIsSessionLeaderWithPtyAsControllingTerminal) {
  auto pty = SpawnShell("cat /proc/$$/stat");
  ASSERT_NE(pty, nullptr);
  std::string out = ReadToEnd(*pty);
  // pid (comm) state ppid pgrp session tty_nr tpgid ...
  size_t paren = out.rfind(')');
  ASSERT_NE(paren, std::string::npos) << out;
  std::vector<std::string> f =
      absl::StrSplit(out.substr(paren + 2), ' ', absl::SkipEmpty());
  ASSERT_GE(f.size(), 6u) << out;
  std::string pid = absl::StrCat(pty->child_pid());
  EXPECT_EQ(f[2], pid) << "pgrp";
  EXPECT_EQ(f[3], pid) << "session";
  EXPECT_NE(f[4], "0") << "tty_nr: no controlling terminal";
  EXPECT_EQ(f[5], pid) << "tpgid: not the foreground group";
}

TEST(PtyTest, EnvironmentAndWorkingDirectory) {
  setenv("MOSHX_PTY_TEST_INHERITED", "inherited", 1);
  setenv("STY", "screen-session", 1);
  PtyOptions options;
  options.argv = {"/bin/sh", "-c",
                  "echo \"[$TERM|$FOO|$MOSHX_PTY_TEST_INHERITED|${STY-unset}]\"; pwd"};
  options.term = "xterm-moshx-test";
  options.extra_env = {"FOO=bar=baz"};
  options.working_directory = "/tmp";
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  std::string out = ReadToEnd(*pty);
  EXPECT_THAT(out, HasSubstr("[xterm-moshx-test|bar=baz|inherited|unset]"));
  EXPECT_THAT(out, HasSubstr("/tmp\r\n"));
}

TEST(PtyTest, CommandIsLookedUpInPath) {
  PtyOptions options;
  options.argv = {"echo", "from-path"};
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  EXPECT_THAT(ReadToEnd(*pty), HasSubstr("from-path"));
}

TEST(PtyTest, ExecFailureIsAStatus) {
  PtyOptions options;
  options.argv = {"/nonexistent/moshx-no-such-command"};
  absl::StatusOr<std::unique_ptr<Pty>> pty = Pty::Spawn(options);
  ASSERT_FALSE(pty.ok());
  EXPECT_TRUE(absl::IsNotFound(pty.status())) << pty.status();
  EXPECT_THAT(std::string(pty.status().message()),
              HasSubstr("No such file or directory"));
}

TEST(PtyTest, BadOptionsAreRejected) {
  PtyOptions options;
  options.argv = {"/bin/true"};
  options.extra_env = {"NOEQUALS"};
  EXPECT_TRUE(absl::IsInvalidArgument(Pty::Spawn(options).status()));
  options.extra_env = {};
  options.argv = {""};
  EXPECT_TRUE(absl::IsInvalidArgument(Pty::Spawn(options).status()));
}

TEST(PtyTest, HeldChildRunsOnlyAfterRelease) {
  PtyOptions options;
  options.argv = {"/bin/sh", "-c", "echo started"};
  options.hold_until_release = true;
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  pollfd p = {pty->master_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 300), 0) << "held child produced output";
  ASSERT_TRUE(pty->Release().ok());
  EXPECT_THAT(ReadToEnd(*pty), HasSubstr("started"));
}

TEST(PtyTest, HeldExecFailureIsReportedByRelease) {
  PtyOptions options;
  options.argv = {"/nonexistent/moshx-no-such-command"};
  options.hold_until_release = true;
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  EXPECT_TRUE(absl::IsNotFound(pty->Release()));
}

TEST(PtyTest, DestroyingAHeldChildKillsIt) {
  PtyOptions options;
  options.argv = {"/bin/sh", "-c", "touch should-not-exist"};
  options.hold_until_release = true;
  options.working_directory = ::testing::TempDir();
  std::string marker = options.working_directory + "/should-not-exist";
  pid_t pid;
  {
    auto pty = SpawnOrDie(options);
    ASSERT_NE(pty, nullptr);
    pid = pty->child_pid();
  }
  usleep(200 * 1000);
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "held child ran after destruction";
  EXPECT_NE(kill(pid, 0), 0) << "held child still exists";
}

TEST(PtyTest, EmptyArgvRunsLoginShellFromPasswdFile) {
  std::string dir = ::testing::TempDir();
  dir.pop_back();  // no trailing '/': pwd prints none
  std::string passwd = dir + "/passwd";
  std::ofstream(passwd) << "other:x:" << getuid() + 1 << ":0::/:/bin/bash\n"
                        << "me:x:" << getuid() << ":0::" << dir << ":/bin/sh\n";
  PtyOptions options;
  options.passwd_path = passwd;  // and no $HOME (options.home): the entry's home
  auto pty = SpawnOrDie(options);
  ASSERT_NE(pty, nullptr);
  ASSERT_TRUE(pty->Write("echo \"arg0=$0\"; pwd; exit 5\n").ok());
  std::string out = ReadToEnd(*pty);
  EXPECT_THAT(out, HasSubstr("arg0=-sh"));
  EXPECT_THAT(out, HasSubstr(dir + "\r\n"));
  absl::StatusOr<ExitStatus> status = pty->WaitForExit();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->code, 5);
}

}  // namespace
}  // namespace moshx::sys
